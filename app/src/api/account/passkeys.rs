//! The passkey endpoints (API.md, "Passkeys"): register one while signed in, list and
//! remove them, and sign in with one. Each ceremony is two requests, start and finish; the
//! browser's part in between is `navigator.credentials.create` / `.get` with the options the
//! start returned, and its answer (`PublicKeyCredential.toJSON()`) is what finish takes.
//! The account page's script (`/account/passkeys.js`, [`SCRIPT`]) does exactly that.

use axum::{
    Extension, Json, Router,
    extract::Path,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{delete, get, post},
};
use serde::Deserialize;
use webauthn_rs::prelude::{PublicKeyCredential, RegisterPublicKeyCredential};

use app::{
    backend::{
        AppState,
        identity::{Viewer, cookie, passkeys},
    },
    model::{ApiError, JsonBody, fields::Id},
};

use super::{answer, device, forms::see_other, with_cookies};

/// The routes.
pub fn routes() -> Router {
    Router::new()
        .route("/api/account/passkeys", get(list))
        .route("/api/account/passkeys/{id}", delete(remove))
        .route("/api/account/passkeys/register/start", post(register_start))
        .route(
            "/api/account/passkeys/register/finish",
            post(register_finish),
        )
        .route("/api/account/passkeys/signin/start", post(signin_start))
        .route("/api/account/passkeys/signin/finish", post(signin_finish))
        .route("/account/passkeys/{id}/remove", post(remove_form))
        .route("/account/passkeys.js", get(script))
}

/// A browser's answer is a few kilobytes (the attestation object the largest part).
const CREDENTIAL_LIMIT: usize = 64 * 1024;
/// Ceremony ids are UUIDs.
const CEREMONY_MAX: usize = 64;

/// The account page's passkey script: registration, sign-in, and showing the passkey
/// controls only where the browser can use them.
pub const SCRIPT: &str = include_str!("passkeys.js");

fn ceremony(raw: &str) -> Result<&str, ApiError> {
    if raw.is_empty() || raw.len() > CEREMONY_MAX {
        return Err(ApiError::invalid(
            "ceremony",
            "ceremony must be the id the start returned",
        ));
    }
    Ok(raw)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RegisterFinish {
    ceremony: String,
    #[serde(default)]
    name: Option<String>,
    credential: RegisterPublicKeyCredential,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SigninStart {
    handle: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SigninFinish {
    ceremony: String,
    credential: PublicKeyCredential,
}

/// `GET /api/account/passkeys`: `{"passkeys":[...]}`, oldest first.
async fn list(Extension(state): Extension<AppState>, viewer: Viewer) -> Response {
    answer(
        async {
            let session = viewer.signed_in()?;
            let passkeys = state.passkey_list(&session.account.id).await?;
            Ok(Json(serde_json::json!({ "passkeys": passkeys })).into_response())
        }
        .await,
    )
}

/// `DELETE /api/account/passkeys/{id}`: 204.
async fn remove(
    Extension(state): Extension<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Response {
    answer(
        async {
            let session = viewer.signed_in()?;
            let id = Id::parse("id", &id)?;
            state
                .passkey_remove(&session.account.id, id.as_str())
                .await?;
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        .await,
    )
}

/// `POST /account/passkeys/{id}/remove` (the account page's form): 303 back to it.
async fn remove_form(
    Extension(state): Extension<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Response {
    let result = async {
        let session = viewer.signed_in()?;
        let id = Id::parse("id", &id)?;
        state.passkey_remove(&session.account.id, id.as_str()).await
    }
    .await;
    super::forms::settle(&state, result.map(|()| see_other("/account", Vec::new())))
}

/// `POST /api/account/passkeys/register/start`: `{"ceremony","options"}` for
/// `navigator.credentials.create`.
async fn register_start(Extension(state): Extension<AppState>, viewer: Viewer) -> Response {
    answer(
        async {
            let session = viewer.signed_in()?;
            let started = state.passkey_register_start(&session.account).await?;
            Ok(Json(started).into_response())
        }
        .await,
    )
}

/// `POST /api/account/passkeys/register/finish` `{"ceremony","name","credential"}`: 201
/// with the passkey.
async fn register_finish(
    Extension(state): Extension<AppState>,
    viewer: Viewer,
    body: JsonBody<RegisterFinish, CREDENTIAL_LIMIT>,
) -> Response {
    answer(
        async {
            let session = viewer.signed_in()?;
            let body = body.0;
            let name = passkeys::parse_name(body.name.as_deref())?;
            let view = state
                .passkey_register_finish(
                    &session.account,
                    ceremony(&body.ceremony)?,
                    &name,
                    &body.credential,
                )
                .await?;
            Ok((StatusCode::CREATED, Json(view)).into_response())
        }
        .await,
    )
}

/// `POST /api/account/passkeys/signin/start` `{"handle"}`: `{"ceremony","options"}` for
/// `navigator.credentials.get`; 404 naming `handle` when it has no passkey.
async fn signin_start(
    Extension(state): Extension<AppState>,
    body: JsonBody<SigninStart, 4096>,
) -> Response {
    answer(
        async {
            let started = state.passkey_signin_start(&body.0.handle).await?;
            Ok(Json(started).into_response())
        }
        .await,
    )
}

/// `POST /api/account/passkeys/signin/finish` `{"ceremony","credential"}`: 200 with the
/// account and a new sign-in cookie, as a password sign-in; 401 when the passkey is not
/// accepted.
async fn signin_finish(
    Extension(state): Extension<AppState>,
    headers: HeaderMap,
    body: JsonBody<SigninFinish, CREDENTIAL_LIMIT>,
) -> Response {
    answer(
        async {
            let anon = cookie::owner_in(&headers);
            let body = body.0;
            let (account, new) = state
                .passkey_signin_finish(
                    ceremony(&body.ceremony)?,
                    &body.credential,
                    device(&headers),
                    anon.as_ref(),
                )
                .await?;
            Ok(with_cookies(
                Json(account.view()).into_response(),
                new.cookies,
            ))
        }
        .await,
    )
}

/// `GET /account/passkeys.js`.
async fn script() -> Response {
    crate::api::script(SCRIPT)
}
