//! The account actions as HTML forms post them (`application/x-www-form-urlencoded`), for
//! the account page: it works before the WASM client has arrived, and without it. Each
//! answers `303 See Other` to the page it came from, `/account`, with what went wrong (if
//! anything) in `?error=`; sign-in and sign-up go on to the writer's stories. Other sites'
//! forms are refused before they get here (`backend::http::refuse_cross_origin`).

use axum::{
    Extension, Form, Router,
    extract::Path,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::post,
};
use serde::Deserialize;

use app::{
    backend::{
        AppState,
        identity::{Viewer, cookie},
    },
    model::{ApiError, Credentials, PasswordChange, fields::Id},
};

use super::{device, removal};

/// The routes.
pub fn routes() -> Router {
    Router::new()
        .route("/account/signin", post(sign_in))
        .route("/account/signup", post(sign_up))
        .route("/account/signout", post(sign_out))
        .route("/account/signout-everywhere", post(sign_out_everywhere))
        .route("/account/password", post(change_password))
        .route("/account/sessions/{id}/revoke", post(revoke))
}

/// Where a signed-in writer goes: their own stories.
const HOME: &str = "/stories?scope=mine";

/// `303 See Other` to `to`, setting `cookies`; the caller's own answer (`private,
/// no-store`). Every form action of the app answers with it.
pub(crate) fn see_other(to: &str, cookies: Vec<HeaderValue>) -> Response {
    let mut response = (StatusCode::SEE_OTHER, [(header::LOCATION, to.to_owned())]).into_response();
    for cookie in cookies {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    super::private(response)
}

/// Back to the account page with `error` shown there.
fn failed(state: &AppState, error: &ApiError) -> Response {
    let flash = cookie::flash_cookie(error.message(), state.config().cookie_secure, 60);
    see_other("/account", flash.into_iter().collect())
}

pub(super) fn settle(state: &AppState, result: Result<Response, ApiError>) -> Response {
    result.unwrap_or_else(|e| failed(state, &e))
}

#[derive(Deserialize)]
struct CredentialsForm {
    handle: String,
    password: String,
}

impl CredentialsForm {
    fn into_credentials(self) -> Credentials {
        Credentials {
            handle: self.handle,
            password: self.password,
        }
    }
}

async fn sign_in(
    Extension(state): Extension<AppState>,
    headers: HeaderMap,
    Form(form): Form<CredentialsForm>,
) -> Response {
    settle(
        &state,
        async {
            let anon = cookie::owner_in(&headers);
            let (_, new) = state
                .sign_in(&form.into_credentials(), device(&headers), anon.as_ref())
                .await?;
            Ok(see_other(HOME, new.cookies))
        }
        .await,
    )
}

async fn sign_up(
    Extension(state): Extension<AppState>,
    headers: HeaderMap,
    Form(form): Form<CredentialsForm>,
) -> Response {
    settle(
        &state,
        async {
            let anon = cookie::owner_in(&headers);
            let (_, new) = state
                .sign_up(&form.into_credentials(), device(&headers), anon.as_ref())
                .await?;
            Ok(see_other(HOME, new.cookies))
        }
        .await,
    )
}

async fn sign_out(Extension(state): Extension<AppState>, viewer: Viewer) -> Response {
    settle(
        &state,
        async {
            if let Viewer::Writer(session) = &viewer {
                state.end_session(&session.token_hash).await?;
            }
            Ok(see_other("/account", removal(&state)))
        }
        .await,
    )
}

async fn sign_out_everywhere(Extension(state): Extension<AppState>, viewer: Viewer) -> Response {
    settle(
        &state,
        async {
            let session = viewer.signed_in()?;
            state.end_sessions(&session.account.id, None).await?;
            Ok(see_other("/account", removal(&state)))
        }
        .await,
    )
}

async fn change_password(
    Extension(state): Extension<AppState>,
    viewer: Viewer,
    Form(change): Form<PasswordChange>,
) -> Response {
    settle(
        &state,
        async {
            let session = viewer.signed_in()?;
            state
                .change_password(&session.account, &session.token_hash, &change)
                .await?;
            Ok(see_other("/account", Vec::new()))
        }
        .await,
    )
}

async fn revoke(
    Extension(state): Extension<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Response {
    settle(
        &state,
        async {
            let session = viewer.signed_in()?;
            let id = Id::parse("id", &id)?;
            state
                .revoke_session(&session.account.id, id.as_str())
                .await?;
            Ok(see_other("/account", Vec::new()))
        }
        .await,
    )
}
