//! `/stories/{id}/edit`: the tree editor.
//!
//! The left side is the outline, the right side edits the selected node: its fields, its
//! place (up, down, indent, outdent), new children and siblings, and deleting it with its
//! subtree after a confirmation. Every change goes to the server at once and the tree is
//! reloaded, so what is shown is what is stored. Errors appear next to their field; an edit
//! based on an old version is refused (409) and says so.

use std::sync::Arc;

use dioxus::prelude::*;

use app::model::{
    ApiError, JsonBody, MoveNode, NewNode, Node, NodeKind, NodePatch, Story, StoryPatch,
    StoryStatus, StoryTree,
};

use crate::{
    api,
    components::{FieldError, FormError, NodeTree, kind_label},
    routes::Route,
};

async fn load(id: String) -> Result<(Arc<Story>, Arc<StoryTree>), ApiError> {
    let story = api::get_story(id.clone()).await?;
    let tree = api::story_tree(id).await?;
    Ok((story, tree))
}

/// Edits one story's tree.
#[component]
pub fn Editor(id: ReadSignal<String>) -> Element {
    let mut data = use_loader(move || load(id()))?;
    let mut selected = use_signal(|| None::<String>);
    let (story, tree) = data();
    let current = selected
        .read()
        .as_ref()
        .and_then(|s| tree.nodes.iter().find(|n| &n.id == s).cloned());
    let mut top_error = use_signal(|| None::<ApiError>);
    let story_id = story.id.clone();
    let top_count = tree.nodes.iter().filter(|n| n.parent_id.is_none()).count();

    rsx! {
        section { class: "page-head",
            h1 { "Editing: {story.title}" }
            div { class: "row",
                Link { class: "btn", to: Route::Reader { id: story.id.clone() }, "Read it" }
                Link { class: "btn", to: Route::stories(), "All stories" }
            }
        }
        // Keyed by the version: a saved or reloaded story resets the form.
        {rsx! {
            StoryMetaForm {
                key: "{story.updated_at}",
                story: (*story).clone(),
                on_saved: move |_| data.restart(),
            }
        }}
        div { class: "editor",
            aside { class: "card editor-tree",
                h2 { "Tree" }
                if tree.nodes.is_empty() {
                    p { class: "muted", "No nodes yet: add the first chapter." }
                }
                NodeTree { nodes: tree.nodes.clone(), selected }
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
                                    data.restart();
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
                match current {
                    Some(node) => rsx! {
                        NodeEditor {
                            key: "{node.id}-{node.updated_at}-{node.position}",
                            node: node.clone(),
                            nodes: tree.nodes.clone(),
                            on_change: move |next: Option<String>| {
                                selected.set(next);
                                data.restart();
                            },
                        }
                    },
                    None => rsx! { p { class: "muted", "Select a node in the tree to edit it." } },
                }
            }
        }
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
    let seen = story.updated_at.clone();
    rsx! {
        form {
            class: "card story-meta",
            onsubmit: move |evt: FormEvent| {
                evt.prevent_default();
                let id = id.clone();
                let patch = StoryPatch {
                    title: Some(title()),
                    summary: Some(summary()),
                    status: Some(status()),
                    tags: Some(tags().split([',', '，']).map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned).collect()),
                    updated_at: Some(seen.clone()),
                };
                spawn(async move {
                    match api::update_story(id, JsonBody(patch)).await {
                        Ok(_) => {
                            error.set(None);
                            on_saved.call(());
                        }
                        Err(e) => error.set(Some(e)),
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
                    textarea { name: "story-summary", rows: 2, value: "{summary}", oninput: move |e| summary.set(e.value()) }
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

/// The kind a new child of `kind` usually has.
fn child_kind(kind: NodeKind) -> NodeKind {
    match kind {
        NodeKind::Chapter | NodeKind::Choice => NodeKind::Scene,
        NodeKind::Scene | NodeKind::Text => NodeKind::Choice,
        NodeKind::Ending => NodeKind::Text,
    }
}

/// Everything below `id` (not including it).
fn descendants(nodes: &[Node], id: &str) -> usize {
    let mut inside = vec![id.to_owned()];
    let mut count = 0;
    for n in nodes {
        if n.parent_id.as_ref().is_some_and(|p| inside.contains(p)) {
            inside.push(n.id.clone());
            count += 1;
        }
    }
    count
}

/// Edits the selected node and its place in the tree.
#[component]
fn NodeEditor(node: Node, nodes: Vec<Node>, on_change: EventHandler<Option<String>>) -> Element {
    let mut kind = use_signal(|| node.kind);
    let mut title = use_signal(|| node.title.clone());
    let mut content = use_signal(|| node.content.clone());
    let mut label = use_signal(|| node.choice_label.clone().unwrap_or_default());
    let mut error = use_signal(|| None::<ApiError>);
    let mut confirming = use_signal(|| false);

    let siblings = nodes
        .iter()
        .filter(|n| n.parent_id == node.parent_id)
        .count() as u32;
    let previous = nodes
        .iter()
        .find(|n| n.parent_id == node.parent_id && n.position + 1 == node.position)
        .map(|n| n.id.clone());
    let parent = node
        .parent_id
        .as_ref()
        .and_then(|p| nodes.iter().find(|n| &n.id == p))
        .cloned();
    let below = descendants(&nodes, &node.id);
    let node = use_signal(|| node);

    // Runs one change; on success selects `select(result)` and reloads the tree.
    let run = move |op: std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<Option<String>, ApiError>>>,
    >| {
        spawn(async move {
            match op.await {
                Ok(next) => {
                    error.set(None);
                    on_change.call(next);
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let move_to = move |parent_id: Option<String>, position: Option<u32>| {
        let id = node().id;
        run(Box::pin(async move {
            api::move_node(
                id.clone(),
                JsonBody(MoveNode {
                    parent_id,
                    position,
                }),
            )
            .await?;
            Ok(Some(id))
        }));
    };
    let add = move |parent_id: Option<String>, kind: NodeKind, position: Option<u32>| {
        let story_id = node().story_id;
        run(Box::pin(async move {
            let input = NewNode {
                parent_id,
                kind,
                title: format!("New {}", kind_label(kind).to_lowercase()),
                content: None,
                choice_label: None,
                position,
            };
            Ok(Some(api::create_node(story_id, JsonBody(input)).await?.id))
        }));
    };

    let n = node();
    rsx! {
        form {
            class: "node-form",
            "data-testid": "node-form",
            onsubmit: move |evt: FormEvent| {
                evt.prevent_default();
                let n = node();
                let patch = NodePatch {
                    kind: Some(kind()),
                    title: Some(title()),
                    content: Some(content()),
                    choice_label: Some(label()),
                    updated_at: Some(n.updated_at.clone()),
                };
                run(Box::pin(async move {
                    api::update_node(n.id.clone(), JsonBody(patch)).await?;
                    Ok(Some(n.id))
                }));
            },
            div { class: "grid2",
                label { "Title"
                    input { name: "node-title", value: "{title}", oninput: move |e| title.set(e.value()) }
                    FieldError { error, field: "title" }
                }
                label { "Kind"
                    select {
                        name: "node-kind",
                        onchange: move |e| if let Some(k) = NodeKind::parse(&e.value()) { kind.set(k) },
                        for k in NodeKind::ALL {
                            option { value: k.as_str(), selected: kind() == k, "{kind_label(k)}" }
                        }
                    }
                }
            }
            label { "Choice label (the button that leads here)"
                input { name: "node-choice-label", value: "{label}", oninput: move |e| label.set(e.value()) }
                FieldError { error, field: "choice_label" }
            }
            label { "Content"
                textarea { name: "node-content", rows: 10, value: "{content}", oninput: move |e| content.set(e.value()) }
                FieldError { error, field: "content" }
            }
            FormError { error, fields: &["title", "choice_label", "content"] }
            div { class: "row",
                button { class: "btn primary", r#type: "submit", "data-testid": "save-node", "Save" }
                button {
                    class: "btn", r#type: "button", "data-testid": "add-child",
                    onclick: move |_| add(Some(node().id), child_kind(node().kind), None),
                    "+ Child"
                }
                button {
                    class: "btn", r#type: "button", "data-testid": "add-sibling",
                    onclick: move |_| { let n = node(); add(n.parent_id, n.kind, Some(n.position + 1)) },
                    "+ Sibling"
                }
            }
            div { class: "row",
                span { class: "muted", "Move:" }
                button {
                    class: "btn", r#type: "button", disabled: n.position == 0, title: "Move up",
                    onclick: move |_| { let n = node(); move_to(n.parent_id, Some(n.position - 1)) },
                    "↑"
                }
                button {
                    class: "btn", r#type: "button", disabled: n.position + 1 >= siblings, title: "Move down",
                    onclick: move |_| { let n = node(); move_to(n.parent_id, Some(n.position + 1)) },
                    "↓"
                }
                button {
                    class: "btn", r#type: "button", disabled: previous.is_none(), title: "Make it the last child of the node above",
                    onclick: move |_| move_to(previous.clone(), None),
                    "Indent →"
                }
                button {
                    class: "btn", r#type: "button", disabled: parent.is_none(), title: "Move it out of its parent",
                    onclick: move |_| if let Some(p) = parent.clone() { move_to(p.parent_id, Some(p.position + 1)) },
                    "← Outdent"
                }
            }
            div { class: "row danger-zone",
                if confirming() {
                    span { class: "error", "Delete “{n.title}” and the {below} nodes under it?" }
                    button {
                        class: "btn danger", r#type: "button", "data-testid": "confirm-delete",
                        onclick: move |_| {
                            let n = node();
                            run(Box::pin(async move {
                                api::delete_node(n.id).await?;
                                Ok(n.parent_id)
                            }));
                        },
                        "Delete"
                    }
                    button { class: "btn", r#type: "button", onclick: move |_| confirming.set(false), "Cancel" }
                } else {
                    button {
                        class: "btn danger", r#type: "button", "data-testid": "delete-node",
                        onclick: move |_| confirming.set(true),
                        "Delete…"
                    }
                }
            }
        }
    }
}
