//! The account endpoints (API.md, "Accounts"): sign up, sign in, sign out (here or
//! everywhere), the password, the sessions; passkeys in [`passkeys`]. Plain axum handlers, because they set the
//! sign-in cookie and answer 201 and 204; they read the caller through `identity`'s
//! extractors like every endpoint. Every answer depends on the caller:
//! `Cache-Control: private, no-store`. The same actions for HTML forms (the account page,
//! usable before the WASM client arrives) are in [`forms`].

pub(crate) mod forms;
pub(crate) mod passkeys;

use axum::{
    Extension, Json, Router,
    extract::Path,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{delete, get, post},
};

use app::{
    backend::{
        AppState,
        identity::{Viewer, cookie},
    },
    model::{ApiError, Credentials, JsonBody, PasswordChange, fields::Id},
};

/// The routes.
pub fn routes() -> Router {
    Router::new()
        .route("/api/account/signup", post(sign_up))
        .route("/api/account/signin", post(sign_in))
        .route("/api/account/signout", post(sign_out))
        .route("/api/account/signout-everywhere", post(sign_out_everywhere))
        .route("/api/account/password", post(change_password))
        .route("/api/account/sessions", get(sessions))
        .route("/api/account/sessions/{id}", delete(revoke))
        .merge(forms::routes())
        .merge(passkeys::routes())
}

/// Credentials are small; anything larger is refused before it is parsed.
const CREDENTIALS_LIMIT: usize = 4096;

pub(crate) fn private(mut response: Response) -> Response {
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    response
}

fn answer(result: Result<Response, ApiError>) -> Response {
    private(result.unwrap_or_else(IntoResponse::into_response))
}

fn device(headers: &HeaderMap) -> &str {
    headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("unknown client")
}

fn with_cookies(mut response: Response, cookies: Vec<HeaderValue>) -> Response {
    for cookie in cookies {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

/// `POST /api/account/signup` `{"handle","password"}`: 201 with the account and the
/// sign-in cookie.
#[cfg_attr(feature = "server", utoipa::path(
    post, path = "/api/account/signup", tag = "accounts",
    request_body = app::model::Credentials,
    responses(
        (
            status = 201,
            description = "The account; signed in (a session cookie is set).",
            body = app::model::Account
        )
    )
))]
pub(crate) async fn sign_up(
    Extension(state): Extension<AppState>,
    headers: HeaderMap,
    body: JsonBody<Credentials, CREDENTIALS_LIMIT>,
) -> Response {
    answer(
        async {
            let anon = cookie::owner_in(&headers);
            let (account, new) = state
                .sign_up(&body.0, device(&headers), anon.as_ref())
                .await?;
            let response = (StatusCode::CREATED, Json(account.view())).into_response();
            Ok(with_cookies(response, new.cookies))
        }
        .await,
    )
}

/// `POST /api/account/signin` `{"handle","password"}`: 200 with the account and a new
/// sign-in cookie; 401 (the same for an unknown handle and a wrong password).
#[cfg_attr(feature = "server", utoipa::path(
    post, path = "/api/account/signin", tag = "accounts",
    request_body = app::model::Credentials,
    responses(
        (
            status = 200,
            description = "The account; signed in (a session cookie is set).",
            body = app::model::Account
        )
    )
))]
pub(crate) async fn sign_in(
    Extension(state): Extension<AppState>,
    headers: HeaderMap,
    body: JsonBody<Credentials, CREDENTIALS_LIMIT>,
) -> Response {
    answer(
        async {
            let anon = cookie::owner_in(&headers);
            let (account, new) = state
                .sign_in(&body.0, device(&headers), anon.as_ref())
                .await?;
            Ok(with_cookies(
                Json(account.view()).into_response(),
                new.cookies,
            ))
        }
        .await,
    )
}

/// The cookies that remove the sign-in cookie and its hint.
fn removal(state: &AppState) -> Vec<HeaderValue> {
    let secure = state.config().cookie_secure;
    [
        cookie::account_cookie("", secure, 0),
        cookie::hint_cookie(secure, 0),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// `POST /api/account/signout`: 204; the session ends on every instance.
#[cfg_attr(feature = "server", utoipa::path(
    post, path = "/api/account/signout", tag = "accounts",
    security(("session" = [])),
    responses((status = 204, description = "This session is ended."))
))]
pub(crate) async fn sign_out(Extension(state): Extension<AppState>, viewer: Viewer) -> Response {
    answer(
        async {
            if let Viewer::Writer(session) = &viewer {
                state.end_session(&session.token_hash).await?;
            }
            let response = StatusCode::NO_CONTENT.into_response();
            Ok(with_cookies(response, removal(&state)))
        }
        .await,
    )
}

/// `POST /api/account/signout-everywhere`: 204; every session of the account ends.
#[cfg_attr(feature = "server", utoipa::path(
    post, path = "/api/account/signout-everywhere", tag = "accounts",
    security(("session" = [])),
    responses((status = 204, description = "Every session of the account is ended."))
))]
pub(crate) async fn sign_out_everywhere(
    Extension(state): Extension<AppState>,
    viewer: Viewer,
) -> Response {
    answer(
        async {
            let session = viewer.signed_in()?;
            state.end_sessions(&session.account.id, None).await?;
            let response = StatusCode::NO_CONTENT.into_response();
            Ok(with_cookies(response, removal(&state)))
        }
        .await,
    )
}

/// `POST /api/account/password` `{"current","new"}`: 204; every other session ends.
#[cfg_attr(feature = "server", utoipa::path(
    post, path = "/api/account/password", tag = "accounts",
    security(("session" = [])),
    request_body = app::model::PasswordChange,
    responses((status = 204, description = "Changed; every other session is ended."))
))]
pub(crate) async fn change_password(
    Extension(state): Extension<AppState>,
    viewer: Viewer,
    body: JsonBody<PasswordChange, CREDENTIALS_LIMIT>,
) -> Response {
    answer(
        async {
            let session = viewer.signed_in()?;
            state
                .change_password(&session.account, &session.token_hash, &body.0)
                .await?;
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        .await,
    )
}

/// `GET /api/account/sessions`: the account's live sessions, newest first.
#[cfg_attr(feature = "server", utoipa::path(
    get, path = "/api/account/sessions", tag = "accounts",
    security(("session" = [])),
    responses((status = 200, body = app::model::SessionList))
))]
pub(crate) async fn sessions(Extension(state): Extension<AppState>, viewer: Viewer) -> Response {
    answer(
        async {
            let session = viewer.signed_in()?;
            let list = state
                .sessions_of(&session.account.id, &session.token_hash)
                .await?;
            Ok(Json(list).into_response())
        }
        .await,
    )
}

/// `DELETE /api/account/sessions/{id}`: 204; that session ends on every instance.
#[cfg_attr(feature = "server", utoipa::path(
    delete, path = "/api/account/sessions/{id}", tag = "accounts",
    security(("session" = [])),
    params(
        (
            "id" = String,
            Path,
            description = "A session's id, as `GET /api/account/sessions` lists it."
        )
    ),
    responses((status = 204, description = "That session is ended."))
))]
pub(crate) async fn revoke(
    Extension(state): Extension<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Response {
    answer(
        async {
            let session = viewer.signed_in()?;
            let id = Id::parse("id", &id)?;
            state
                .revoke_session(&session.account.id, id.as_str())
                .await?;
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        .await,
    )
}
