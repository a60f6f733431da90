//! `/stories/{id}/edit`: the tree editor.
//!
//! The left side is the outline, the right side edits the selected node: its fields, its
//! place (up, down, indent, outdent), new children and siblings, and deleting it with its
//! subtree after a confirmation. Every change goes to the server at once and the outline
//! and the node are reloaded, so what is shown is what is stored. Neither side loads the
//! whole story: the outline comes in pages without content, the form is one node's view. Errors appear next to their field; an edit
//! based on an old version is refused (409) and says so.

use dioxus::prelude::*;

use std::sync::Arc;

use app::model::{
    ApiError, ErrorCode, JsonBody, NewNode, NodeKind, NodeView, OutlinePage, Story, StoryPatch,
    StoryStatus,
};

use super::node_editor::NodeEditor;
use crate::{
    api,
    components::{CoverEditor, FieldError, FormError, NodeTree, SharePanel, textarea_text},
    hooks::query::QueryClient,
    queries,
    routes::Route,
};

/// Edits one story's tree.
#[component]
pub fn Editor(id: ReadSignal<String>) -> Element {
    let no_node = use_signal(|| None::<String>);
    let data = queries::use_story_data(id, no_node.into(), true)?;
    let mut selected = use_signal(|| None::<String>);
    let queries::StoryData { story, outline, .. } = data().0;
    let outline = outline.unwrap_or_else(|| {
        Arc::new(OutlinePage {
            story_id: story.id.clone(),
            total: 0,
            top_level: 0,
            offset: 0,
            rows: Vec::new(),
        })
    });
    let mut top_error = use_signal(|| None::<ApiError>);
    let story_id = story.id.clone();
    let top_count = outline.top_level;

    rsx! {
        section { class: "page-head",
            h1 { "Editing: {story.title}" }
            div { class: "row",
                Link { class: "btn", to: Route::Reader { id: story.id.clone() }, "Read it" }
                Link { class: "btn", to: Route::stories(), "All stories" }
            }
        }
        {rsx! {
            StoryMetaForm {
                key: "{story.id}",
                story: (*story).clone(),
                on_saved: move |_| queries::after_story_write(&id()),
            }
        }}
        {rsx! {
            SharePanel { key: "share-{story.id}", id: story.id.clone() }
        }}
        {rsx! {
            CoverEditor {
                key: "cover-{story.id}",
                story: (*story).clone(),
                on_changed: move |_| queries::after_story_write(&id()),
            }
        }}
        div { class: "editor",
            aside { class: "card editor-tree",
                h2 { "Tree" }
                if outline.total == 0 {
                    p { class: "muted", "No nodes yet: add the first chapter." }
                }
                NodeTree { key: "{story.id}", story_id: story.id.clone(), first: outline.clone(), selected }
                button {
                    class: "btn",
                    "data-testid": "add-top",
                    onclick: move |_| {
                        let story_id = story_id.clone();
                        spawn(async move {
                            let input = NewNode {
                                parent_id: None,
                                kind: NodeKind::Chapter,
                                title: format!("Chapter {}", top_count + 1),
                                content: None,
                                choice_label: None,
                                position: None,
                            };
                            match api::create_node(story_id, JsonBody(input)).await {
                                Ok(node) => {
                                    selected.set(Some(node.id));
                                    top_error.set(None);
                                    queries::after_story_write(&id());
                                }
                                Err(e) => top_error.set(Some(e)),
                            }
                        });
                    },
                    "+ Add chapter"
                }
                FormError { error: top_error, fields: &[] }
            }
            section { class: "card editor-node",
                SelectedNode { key: "{story.id}", story_id: story.id.clone(), selected }
            }
        }
    }
}

/// The form of the selected node, loaded as its view (the node, its place and the counts
/// its buttons need) through the request cache, and again whenever the cache changes: a
/// save patches it in place, a structural change brings it back fresh.
#[component]
fn SelectedNode(story_id: String, selected: Signal<Option<String>>) -> Element {
    let client = QueryClient::get();
    let story = use_hook(|| CopyValue::new(story_id));
    let mut view = use_signal(|| None::<Arc<NodeView>>);
    let mut error = use_signal(|| None::<ApiError>);
    use_effect(move || {
        client.subscribe();
        let Some(node) = selected() else {
            return;
        };
        let query = queries::view("edit", story.cloned(), Some(node.clone()));
        spawn(async move {
            match client.fetch(query).await {
                // Only the answer for what is still selected.
                Ok(v) if selected.peek().as_deref() == Some(node.as_str()) => {
                    if view.peek().as_ref().is_none_or(|old| !Arc::ptr_eq(old, &v)) {
                        view.set(Some(v));
                    }
                    error.set(None);
                }
                Ok(_) => {}
                // Deleted meanwhile (by another tab or writer): nothing is selected.
                Err(e) if e.code() == ErrorCode::NotFound => selected.set(None),
                Err(e) => error.set(Some(e)),
            }
        });
    });
    let shown = view().filter(|v| selected.read().as_deref() == Some(v.node.id.as_str()));
    match (selected(), shown) {
        (None, _) => rsx! { p { class: "muted", "Select a node in the tree to edit it." } },
        (Some(_), Some(v)) => rsx! {
            NodeEditor {
                key: "{v.node.id}",
                view: v.clone(),
                on_change: move |next: Option<String>| {
                    selected.set(next);
                    queries::after_story_write(&story.cloned());
                },
            }
        },
        (Some(_), None) => match error() {
            Some(e) => rsx! { p { class: "error", "Could not load the node: {e}" } },
            None => rsx! { p { class: "muted", "data-testid": "node-loading", "Loading…" } },
        },
    }
}

/// The story's own fields.
#[component]
fn StoryMetaForm(story: Story, on_saved: EventHandler<()>) -> Element {
    let mut title = use_signal(|| story.title.clone());
    let mut summary = use_signal(|| story.summary.clone());
    let mut status = use_signal(|| story.status);
    let mut tags = use_signal(|| story.tags.join(", "));
    let mut error = use_signal(|| None::<ApiError>);
    let id = story.id.clone();
    // The version the next save is based on: node edits change the story's version too,
    // and the revalidated story brings the newer one.
    let mut seen = use_hook(|| CopyValue::new(story.updated_at.clone()));
    if story.updated_at > *seen.peek() {
        seen.set(story.updated_at.clone());
    }
    rsx! {
        form {
            class: "card story-meta",
            onsubmit: move |evt: FormEvent| {
                evt.prevent_default();
                let id = id.clone();
                // `..Default::default()`: the server's build has one field more (visibility).
                #[allow(clippy::needless_update)]
                let patch = StoryPatch {
                    title: Some(title()),
                    summary: Some(summary()),
                    status: Some(status()),
                    tags: Some(tags().split([',', '，']).map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned).collect()),
                    updated_at: Some(seen.cloned()),
                    ..Default::default()
                };
                // The new title shows at once; if the server refuses it, the old one returns.
                let client = QueryClient::get();
                let key = format!("story/{id}");
                let mut shown = story.clone();
                shown.title = title();
                let snapshot = client.optimistic(&key, std::sync::Arc::new(shown));
                spawn(async move {
                    match api::update_story(id, JsonBody(patch)).await {
                        Ok(saved) => {
                            error.set(None);
                            seen.set(saved.updated_at.clone());
                            client.optimistic(&key, std::sync::Arc::new(saved));
                            on_saved.call(());
                        }
                        Err(e) => {
                            client.rollback(snapshot);
                            error.set(Some(e));
                        }
                    }
                });
            },
            div { class: "grid2",
                label { "Title"
                    input { name: "story-title", value: "{title}", oninput: move |e| title.set(e.value()) }
                    FieldError { error, field: "title" }
                }
                label { "Status"
                    select {
                        name: "story-status",
                        onchange: move |e| if let Some(s) = StoryStatus::parse(&e.value()) { status.set(s) },
                        for s in StoryStatus::ALL {
                            option { value: s.as_str(), selected: status() == s, "{s.label()}" }
                        }
                    }
                }
                label { "Summary"
                    textarea { name: "story-summary", rows: 2, value: "{summary}", dangerous_inner_html: textarea_text(&summary.read()), oninput: move |e| summary.set(e.value()) }
                    FieldError { error, field: "summary" }
                }
                label { "Tags (comma-separated)"
                    input { name: "story-tags", value: "{tags}", oninput: move |e| tags.set(e.value()) }
                    FieldError { error, field: "tags" }
                }
            }
            div { class: "row",
                button { class: "btn primary", r#type: "submit", "Save story" }
                FormError { error, fields: &["title", "summary", "tags"] }
            }
        }
    }
}
