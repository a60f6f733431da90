//! The Performance dashboard page.

use dioxus::prelude::*;

/// Live numbers from the running server.
#[component]
pub fn Dashboard() -> Element {
    rsx! {
        section { class: "card",
            h1 { "Performance dashboard" }
            p { class: "lead", "Live numbers from the running server." }
        }
    }
}
