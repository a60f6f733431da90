//! The account page's markup, rendered here and shown by the client as it comes (see
//! [`crate::backend::html`]): signing in or up when signed out; the account, its sessions
//! (each can be ended), the password and signing out when signed in. Its forms post to the
//! account actions (`POST /account/...`), so the page works before the WASM client has
//! arrived, and costs the client nothing but the page's frame.

use dioxus::prelude::*;

use crate::backend::html::to_html;
use crate::model::{AccountPage, PasskeyView, SessionView};

/// The page for `page` (signed out when it has no account), with `error` (what the last
/// form action refused) first.
pub fn render(page: AccountPage, error: String) -> String {
    to_html(move || body(page.clone(), error.clone()))
}

fn body(page: AccountPage, error: String) -> Element {
    rsx! {
        if !error.is_empty() {
            p { class: "error", role: "alert", "data-testid": "account-error", "{error}" }
        }
        match page.account {
            None => rsx! { SignedOut { passkeys_off: page.passkeys_unavailable.is_some() } },
            Some(account) => rsx! {
                section { class: "card", "data-testid": "account",
                    h2 { "Signed in as " strong { "data-testid": "account-handle", "{account.handle}" } }
                    if account.is_admin() {
                        p { class: "muted", "Admin: you may change every story." }
                    }
                    p { class: "muted", "Writing since {account.created_at}." }
                    div { class: "actions",
                        form { action: "/account/signout", method: "post",
                            button { class: "btn", r#type: "submit", "Sign out" }
                        }
                        form { action: "/account/signout-everywhere", method: "post",
                            button { class: "btn", r#type: "submit", "Sign out everywhere" }
                        }
                    }
                }
                Sessions { sessions: page.sessions }
                Passkeys { passkeys: page.passkeys, unavailable: page.passkeys_unavailable }
                section { class: "card",
                    h2 { "Password" }
                    p { class: "muted", "Changing it signs out every other session." }
                    form { class: "stack", action: "/account/password", method: "post",
                        label { "Current password"
                            input { r#type: "password", name: "current", autocomplete: "current-password", required: true }
                        }
                        label { "New password (10 characters or more)"
                            input { r#type: "password", name: "new", autocomplete: "new-password", minlength: "10", required: true }
                        }
                        button { class: "btn", r#type: "submit", "Change password" }
                    }
                }
            },
        }
    }
}

/// Signing in, or up.
#[component]
fn SignedOut(passkeys_off: bool) -> Element {
    rsx! {
        div { class: "account-forms",
            section { class: "card",
                h2 { "Sign in" }
                form { class: "stack", action: "/account/signin", method: "post", "data-testid": "signin-form",
                    label { "Handle"
                        input { name: "handle", autocomplete: "username", required: true }
                    }
                    label { "Password"
                        input { r#type: "password", name: "password", autocomplete: "current-password", required: true }
                    }
                    button { class: "btn primary", r#type: "submit", "Sign in" }
                }
            }
            section { class: "card",
                h2 { "Create an account" }
                p { class: "muted", "A handle of 3-32 letters (any script), digits, '_', '-' or '.', and a password of 10 characters or more. New stories are private until you share or publish them." }
                form { class: "stack", action: "/account/signup", method: "post", "data-testid": "signup-form",
                    label { "Handle"
                        input { name: "handle", autocomplete: "username", minlength: "3", maxlength: "32", required: true }
                    }
                    label { "Password"
                        input { r#type: "password", name: "password", autocomplete: "new-password", minlength: "10", required: true }
                    }
                    button { class: "btn primary", r#type: "submit", "Create account" }
                }
            }
            if !passkeys_off {
                section { class: "card passkey-only",
                    h2 { "Sign in with a passkey" }
                    form { class: "stack", "data-passkey": "signin", "data-testid": "passkey-signin-form",
                        label { "Handle"
                            input { name: "handle", autocomplete: "username webauthn", required: true }
                        }
                        button { class: "btn primary", r#type: "submit", "Use a passkey" }
                        output { class: "muted", "data-passkey-status": true, role: "status" }
                    }
                }
            }
        }
    }
}

/// The account's sessions, each with a button to end it.
#[component]
fn Sessions(sessions: Vec<SessionView>) -> Element {
    rsx! {
        section { class: "card",
            h2 { "Sessions" }
            table { class: "dash-table", "data-testid": "sessions",
                thead { tr { th { "device" } th { "signed in" } th { "last seen" } th {} } }
                tbody {
                    for s in sessions {
                        tr { key: "{s.id}",
                            td { "{s.device}" }
                            td { "{s.created_at}" }
                            td { "{s.last_seen}" }
                            td {
                                if s.current {
                                    span { class: "muted", "this one" }
                                } else {
                                    form { action: "/account/sessions/{s.id}/revoke", method: "post",
                                        button { class: "btn", r#type: "submit", "End" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The account's passkeys, each with a button to remove it, and adding one (where the
/// browser can: `passkey-only`).
#[component]
fn Passkeys(passkeys: Vec<PasskeyView>, unavailable: Option<String>) -> Element {
    rsx! {
        section { class: "card", "data-testid": "passkeys",
            h2 { "Passkeys" }
            p { class: "muted", "Sign in with your device's screen lock or a security key instead of the password." }
            if passkeys.is_empty() {
                p { class: "muted", "data-testid": "no-passkeys", "No passkeys yet." }
            } else {
                table { class: "dash-table",
                    thead { tr { th { "name" } th { "added" } th { "last used" } th {} } }
                    tbody {
                        for p in passkeys {
                            tr { key: "{p.id}",
                                td { "{p.name}" }
                                td { "{p.created_at}" }
                                td { {p.last_used.clone().unwrap_or_else(|| "never".into())} }
                                td {
                                    form { action: "/account/passkeys/{p.id}/remove", method: "post",
                                        button { class: "btn", r#type: "submit", "Remove" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            match unavailable {
                Some(why) => rsx! { p { class: "muted", "Passkeys are off on this server: {why}" } },
                None => rsx! {
                    form { class: "stack passkey-only", "data-passkey": "register", "data-testid": "passkey-register-form",
                        label { "Name (which device or key)"
                            input { name: "name", maxlength: "60", placeholder: "Passkey" }
                        }
                        button { class: "btn", r#type: "submit", "Add a passkey" }
                        output { class: "muted", "data-passkey-status": true, role: "status" }
                    }
                },
            }
        }
    }
}
