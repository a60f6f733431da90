//! The Tasks page.

use dioxus::prelude::*;

/// Background work: exports, reports, backups.
#[component]
pub fn Tasks() -> Element {
    rsx! {
        section { class: "card",
            h1 { "Tasks" }
            p { class: "lead", "Background work: exports, reports, backups." }
        }
    }
}
