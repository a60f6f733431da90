//! The editor's sharing panel: who may read the story and who it is shared with, in a
//! frame showing `GET /stories/{id}/sharing`, a small page the server renders for the
//! caller (`api::sharing`). The editor page around it is kept in the page cache, the same
//! for everyone; the frame's page is the caller's, with forms that post.

use dioxus::prelude::*;

/// The sharing panel of story `id`.
#[component]
pub fn SharePanel(id: String) -> Element {
    rsx! {
        section { class: "card share-card",
            iframe { class: "share-frame", src: "/stories/{id}/sharing", title: "Sharing", "data-testid": "share-frame" }
        }
    }
}
