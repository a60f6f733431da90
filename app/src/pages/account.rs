//! `/account`: the writer's account, or signing in and up. Its markup is rendered on the
//! server (`backend::identity::account_page`, `GET /api/account/page`) and shown as it
//! comes: it is forms that post, and shipping it as components would cost the client's
//! bundle what it does not have. Never kept in the page cache: it is the caller's.

use dioxus::prelude::*;

use crate::api;

/// The account page.
#[component]
pub fn Account() -> Element {
    // Passkeys: registering and signing in (served by the server, not in the bundle).
    crate::hooks::script::use_script("/account/passkeys.js");
    let html = use_loader(api::account_page)?;
    rsx! {
        div { class: "page-head",
            h1 { "Account" }
        }
        div { class: "account-page", dangerous_inner_html: "{html}" }
    }
}
