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

/// What finishes a registration: the start's ceremony id, a name, and the browser's answer.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RegisterFinish {
    /// What the start returned.
    ceremony: String,
    /// As the writer names it ("Passkey" unless named).
    #[serde(default)]
    name: Option<String>,
    /// `PublicKeyCredential.toJSON()` of `navigator.credentials.create`.
    #[schema(value_type = Object)]
    credential: RegisterPublicKeyCredential,
}

/// Whose passkey sign-in to start.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SigninStart {
    /// The writer's handle.
    handle: String,
}

/// What finishes a passkey sign-in: the start's ceremony id and the browser's answer.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SigninFinish {
    /// What the start returned.
    ceremony: String,
    /// `PublicKeyCredential.toJSON()` of `navigator.credentials.get`.
    #[schema(value_type = Object)]
    credential: PublicKeyCredential,
}

/// The account's passkeys, oldest first.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct PasskeyList {
    passkeys: Vec<app::model::PasskeyView>,
}

/// `GET /api/account/passkeys`: `{"passkeys":[...]}`, oldest first.
#[cfg_attr(feature = "server", utoipa::path(
    get, path = "/api/account/passkeys", tag = "accounts",
    security(("session" = [])),
    responses((status = 200, body = PasskeyList))
))]
pub(crate) async fn list(Extension(state): Extension<AppState>, viewer: Viewer) -> Response {
    answer(
        async {
            let session = viewer.signed_in()?;
            let passkeys = state.passkey_list(&session.account.id).await?;
            Ok(Json(PasskeyList { passkeys }).into_response())
        }
        .await,
    )
}

/// `DELETE /api/account/passkeys/{id}`: 204.
#[cfg_attr(feature = "server", utoipa::path(
    delete, path = "/api/account/passkeys/{id}", tag = "accounts",
    security(("session" = [])),
    params(("id" = String, Path, description = "A passkey's id.")),
    responses((status = 204, description = "Removed."))
))]
pub(crate) async fn remove(
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
#[cfg_attr(feature = "server", utoipa::path(
    post, path = "/api/account/passkeys/register/start", tag = "accounts",
    security(("session" = [])),
    responses(
        (
            status = 200,
            description = "The ceremony id and the options for `navigator.credentials.create`.",
            body = crate::api::shapes::Ceremony
        )
    )
))]
pub(crate) async fn register_start(
    Extension(state): Extension<AppState>,
    viewer: Viewer,
) -> Response {
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
#[cfg_attr(feature = "server", utoipa::path(
    post, path = "/api/account/passkeys/register/finish", tag = "accounts",
    security(("session" = [])),
    request_body = RegisterFinish,
    responses((status = 201, body = app::model::PasskeyView))
))]
pub(crate) async fn register_finish(
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
#[cfg_attr(feature = "server", utoipa::path(
    post, path = "/api/account/passkeys/signin/start", tag = "accounts",
    request_body = SigninStart,
    responses(
        (
            status = 200,
            description = "The ceremony id and the options for `navigator.credentials.get`.",
            body = crate::api::shapes::Ceremony
        )
    )
))]
pub(crate) async fn signin_start(
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
#[cfg_attr(feature = "server", utoipa::path(
    post, path = "/api/account/passkeys/signin/finish", tag = "accounts",
    request_body = SigninFinish,
    responses(
        (
            status = 200,
            description = "The account; signed in (a session cookie is set).",
            body = app::model::Account
        )
    )
))]
pub(crate) async fn signin_finish(
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
