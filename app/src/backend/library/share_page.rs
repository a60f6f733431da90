//! The editor's sharing panel, rendered here and shown by the client as it comes (see
//! [`crate::backend::html`]): who may read the story, and the writers it is shared with.
//! Its owner gets forms that post (`POST /stories/{id}/sharing/...`); everyone else who may
//! read the story sees who it is shared with and that only the owner changes it.

use dioxus::prelude::*;

use crate::backend::html::to_html;
use crate::model::{CollaboratorRole, Collaborators, Story, Visibility};

/// The panel of `story` as `shared` says, with owner's forms if `owner`, and `error` (what
/// the last form action refused) shown.
pub fn render(story: &Story, shared: Collaborators, owner: bool, error: String) -> String {
    let (id, private) = (story.id.clone(), story.visibility == Visibility::Private);
    to_html(move || panel(&id, private, shared.clone(), owner, error.clone()))
}

fn panel(id: &str, private: bool, shared: Collaborators, owner: bool, error: String) -> Element {
    let who = if private {
        "Private: its owner and those it is shared with"
    } else {
        "Public: anyone"
    };
    rsx! {
        h2 { "Sharing" }
        if !error.is_empty() {
            p { class: "error", role: "alert", "{error}" }
        }
        if owner {
            form { class: "row", action: "/stories/{id}/sharing/visibility", method: "post",
                label { "Who may read it "
                    select { name: "visibility", "data-testid": "visibility",
                        option { value: "private", selected: private, "Private: you and those you share it with" }
                        option { value: "public", selected: !private, "Public: anyone" }
                    }
                }
                button { class: "btn", r#type: "submit", "Change" }
            }
        } else {
            p { "data-testid": "visibility-shown", "{who}. Only its owner, {shared.owner}, changes who may read it." }
        }
        ul { class: "collaborators", "data-testid": "collaborators",
            for person in shared.collaborators {
                li { key: "{person.handle}",
                    "{person.handle} · {person.role.as_str()} "
                    if owner {
                        form { class: "inline", action: "/stories/{id}/sharing/unshare", method: "post",
                            input { r#type: "hidden", name: "handle", value: "{person.handle}" }
                            button { class: "btn", r#type: "submit", "Remove" }
                        }
                    }
                }
            }
        }
        if owner {
            form { class: "row", action: "/stories/{id}/sharing/share", method: "post", "data-testid": "share-form",
                input { name: "handle", "aria-label": "Writer's handle", placeholder: "handle", required: true }
                select { name: "role", "aria-label": "Role",
                    option { value: CollaboratorRole::Editor.as_str(), "may edit" }
                    option { value: CollaboratorRole::Viewer.as_str(), "may read" }
                }
                button { class: "btn", r#type: "submit", "Share" }
            }
        }
    }
}
