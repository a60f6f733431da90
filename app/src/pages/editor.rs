//! `/stories/{id}/edit`: the tree editor.

use dioxus::prelude::*;

/// Edits one story's tree.
#[component]
pub fn Editor(id: String) -> Element {
    rsx! {
        section { class: "card",
            h1 { "Editor" }
            p { class: "lead", "Story {id}" }
        }
    }
}
