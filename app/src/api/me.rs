//! Who the browser is signed in as: `GET /api/me` (the navigation asks once, after
//! hydration, so every cached page is the same for everyone) and `GET /api/account` (the
//! account page: the account and its sessions). The writes of accounts are plain axum
//! handlers (`account`), because they set cookies and answer forms.

use dioxus::prelude::*;

#[cfg(feature = "server")]
use app::backend::identity::Viewer;
use app::model::{Account, AccountPage, ApiError};

/// The signed-in account, or 401.
#[get("/api/me", caller: Viewer)]
pub async fn me() -> Result<Account, ApiError> {
    super::private_answer();
    Ok(caller.signed_in()?.account.view())
}

/// The account page's data: the account and its sessions (none when signed out).
#[get("/api/account", state: app::backend::AppExt, caller: Viewer)]
pub async fn account_page() -> Result<AccountPage, ApiError> {
    super::private_answer();
    let Viewer::Writer(session) = &caller else {
        return Ok(AccountPage::default());
    };
    let list = state
        .sessions_of(&session.account.id, &session.token_hash)
        .await?;
    Ok(AccountPage {
        account: Some(session.account.view()),
        sessions: list.sessions,
    })
}
