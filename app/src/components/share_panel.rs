//! The editor's sharing panel: who may read the story (private or public), and the writers
//! it is shared with, as editors or viewers. Only the owner changes these; anyone else sees
//! the server's 403 as the reason. Loaded after hydration (`GET
//! /api/stories/{id}/collaborators`), so the cached editor page holds nothing of anyone's.

use dioxus::prelude::*;

use app::model::{
    ApiError, CollaboratorRole, Collaborators, JsonBody, ShareRequest, Story, StoryPatch,
    Visibility,
};

use crate::{api, components::FormError, queries};

/// Visibility and collaborators of `story`.
#[component]
pub fn SharePanel(story: Story) -> Element {
    let id = story.id.clone();
    let mut shared = use_signal(|| None::<Collaborators>);
    let mut error = use_signal(|| None::<ApiError>);
    let mut handle = use_signal(String::new);
    let mut role = use_signal(|| CollaboratorRole::Editor);
    let load_id = id.clone();
    use_effect(move || {
        let id = load_id.clone();
        spawn(async move {
            match api::list_collaborators(id).await {
                Ok(c) => shared.set(Some(c)),
                Err(e) => error.set(Some(e)),
            }
        });
    });
    let mut answer = move |result: Result<Collaborators, ApiError>| match result {
        Ok(c) => {
            shared.set(Some(c));
            error.set(None);
        }
        Err(e) => error.set(Some(e)),
    };
    let private = story.visibility == Visibility::Private;
    let vis_id = id.clone();
    let share_id = id.clone();
    rsx! {
        section { class: "card share-panel", "data-testid": "share-panel",
            h2 { "Sharing" }
            label { "Who may read it"
                select {
                    name: "visibility",
                    "data-testid": "visibility",
                    onchange: move |e| {
                        let id = vis_id.clone();
                        let visibility = Visibility::parse(&e.value());
                        spawn(async move {
                            let patch = StoryPatch { visibility, ..Default::default() };
                            match api::update_story(id.clone(), JsonBody(patch)).await {
                                Ok(_) => queries::after_story_write(&id),
                                Err(e) => error.set(Some(e)),
                            }
                        });
                    },
                    option { value: "private", selected: private, "Private: you and those you share it with" }
                    option { value: "public", selected: !private, "Public: anyone" }
                }
            }
            if let Some(c) = shared() {
                p { class: "muted", "Owner: {c.owner}" }
                ul { class: "collaborators", "data-testid": "collaborators",
                    for person in c.collaborators {
                        li { key: "{person.handle}",
                            "{person.handle} · {person.role.as_str()} "
                            button {
                                class: "btn",
                                r#type: "button",
                                onclick: {
                                    let id = id.clone();
                                    move |_| {
                                        let (id, who) = (id.clone(), person.handle.clone());
                                        spawn(async move { answer(api::unshare_story(id, who).await) });
                                    }
                                },
                                "Remove"
                            }
                        }
                    }
                }
            }
            form {
                class: "row",
                onsubmit: move |evt: FormEvent| {
                    evt.prevent_default();
                    let (id, who, role) = (share_id.clone(), handle(), role());
                    spawn(async move {
                        answer(api::share_story(id, who, JsonBody(ShareRequest { role })).await);
                    });
                },
                input { name: "share-handle", "aria-label": "Writer's handle", placeholder: "handle", value: "{handle}", oninput: move |e| handle.set(e.value()) }
                select {
                    name: "share-role",
                    "aria-label": "Role",
                    onchange: move |e| role.set(CollaboratorRole::parse(&e.value()).unwrap_or(CollaboratorRole::Viewer)),
                    option { value: "editor", "may edit" }
                    option { value: "viewer", "may read" }
                }
                button { class: "btn", r#type: "submit", "Share" }
            }
            FormError { error, fields: &[] }
        }
    }
}
