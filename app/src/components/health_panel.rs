//! Server health as seen by the browser: fetched by the WASM client after hydration, with a
//! button to ask again. Nothing here is rendered on the server, so the panel proves the
//! client is alive.

use dioxus::prelude::*;

use app::model::{ApiError, Health};

use crate::api;

/// Shows `GET /api/health` and how many times this page has asked.
#[component]
pub fn HealthPanel() -> Element {
    let mut health = use_signal(|| None::<Result<Health, ApiError>>);
    let mut checks = use_signal(|| 0u32);
    let check = move || {
        spawn(async move {
            let result = api::health().await;
            checks += 1;
            health.set(Some(result));
        });
    };
    // Effects never run during server rendering: the first check happens in the browser.
    use_effect(check);

    rsx! {
        section { class: "card health", "data-testid": "health",
            h2 { "Server health" }
            match health() {
                None => rsx! { p { class: "muted", "Waiting for the client to check…" } },
                Some(Ok(h)) => rsx! {
                    dl { class: "facts",
                        dt { "Status" } dd { "data-testid": "health-status", "{h.status}" }
                        dt { "Version" } dd { "{h.version}" }
                        dt { "Uptime" } dd { "{format_uptime(h.uptime_secs)}" }
                    }
                },
                Some(Err(e)) => rsx! { p { class: "error", "Health check failed: {e}" } },
            }
            div { class: "row",
                button { class: "btn", "data-testid": "health-refresh", onclick: move |_| check(), "Check again" }
                span { class: "muted", "data-testid": "health-checks", "checked {checks} times from this page" }
            }
        }
    }
}

fn format_uptime(secs: u64) -> String {
    match secs {
        s if s < 60 => format!("{s} s"),
        s if s < 3600 => format!("{} min {} s", s / 60, s % 60),
        s => format!("{} h {} min", s / 3600, (s % 3600) / 60),
    }
}
