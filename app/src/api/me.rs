//! Who the browser is signed in as: `GET /api/me` (the navigation asks once, after
//! hydration, so every cached page is the same for everyone) and `GET /api/account/page`
//! (the account page's markup: the account and its sessions, or the forms to sign in). The writes of accounts are plain axum
//! handlers (`account`), because they set cookies and answer forms.

use dioxus::prelude::*;

#[cfg(feature = "server")]
use app::backend::identity::Viewer;
#[cfg(feature = "server")]
use app::model::AccountPage;
use app::model::{Account, ApiError};

/// The signed-in account, or 401.
#[cfg_attr(feature = "server", utoipa::path(
    get, path = "/api/me", tag = "accounts",
    security(("session" = [])),
    responses((status = 200, description = "The signed-in account.", body = Account))
))]
#[get("/api/me", caller: Viewer)]
pub async fn me() -> Result<Account, ApiError> {
    super::private_answer();
    Ok(caller.signed_in()?.account.view())
}

/// The account page as HTML (`backend::identity::account_page`): the account and its
/// sessions, or the sign-in and sign-up forms, and what the last form action refused (its
/// flash cookie, removed as it is shown).
#[cfg_attr(feature = "server", utoipa::path(
    get, path = "/api/account/page", tag = "accounts",
    security((), ("session" = [])),
    responses(
        (
            status = 200,
            description = "The account page's markup, as a JSON string.",
            body = String,
            content_type = "application/json"
        )
    )
))]
#[get("/api/account/page", state: app::backend::AppExt, caller: Viewer, headers: dioxus::fullstack::http::HeaderMap)]
pub async fn account_page() -> Result<String, ApiError> {
    use app::backend::identity::cookie;
    super::private_answer();
    let flash = cookie::flash_in(&headers).unwrap_or_default();
    if !flash.is_empty()
        && let (Some(ctx), Some(gone)) = (
            dioxus::fullstack::FullstackContext::current(),
            cookie::flash_cookie("", state.config().cookie_secure, 0),
        )
    {
        ctx.add_response_header(dioxus::fullstack::http::header::SET_COOKIE, gone);
    }
    let page = match &caller {
        Viewer::Writer(session) => AccountPage {
            account: Some(session.account.view()),
            sessions: state
                .sessions_of(&session.account.id, &session.token_hash)
                .await?
                .sessions,
            passkeys: state.passkey_list(&session.account.id).await?,
            passkeys_unavailable: state.passkeys_unavailable(),
        },
        _ => AccountPage {
            passkeys_unavailable: state.passkeys_unavailable(),
            ..AccountPage::default()
        },
    };
    Ok(app::backend::identity::account_page::render(page, flash))
}
