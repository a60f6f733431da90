//! `/stories/{id}`: the reader.

use dioxus::prelude::*;

/// Plays one story.
#[component]
pub fn Reader(id: String) -> Element {
    rsx! {
        section { class: "card",
            h1 { "Reader" }
            p { class: "lead", "Story {id}" }
        }
    }
}
