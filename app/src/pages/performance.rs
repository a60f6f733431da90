//! The Performance page.

use dioxus::prelude::*;

use crate::components::MemoryPanel;

/// What the performance layer does, with numbers measured on this system.
#[component]
pub fn Performance() -> Element {
    rsx! {
        section { class: "card",
            h1 { "Performance" }
            p { class: "lead", "What the performance layer does, with numbers measured on this system." }
        }
        MemoryPanel {}
    }
}
