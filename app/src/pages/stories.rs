//! The Stories page.

use dioxus::prelude::*;

/// Every story in the library.
#[component]
pub fn Stories() -> Element {
    rsx! {
        section { class: "card",
            h1 { "Stories" }
            p { class: "lead", "Every story in the library." }
        }
    }
}
