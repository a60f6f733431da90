//! The node form of the editor: a node's fields, saved as you type, and its place in the
//! tree (up, down, indent, outdent, new children and siblings, delete with its subtree).
//!
//! Typing autosaves through a batch (`hooks::batch`): one request per pause (800 ms, at
//! most every 5 s while typing on), one at a time, flushed when the page is hidden or left
//! and when another node is selected. The status line says saving / saved / offline; with
//! the network down the text stays in the form and in a local draft (`hooks::draft`) and is
//! sent when the network returns, and a reload restores the draft. Structural changes wait
//! for the autosave, then reload the outline and the node.

use dioxus::prelude::*;

use std::sync::Arc;

use app::model::{ApiError, JsonBody, MoveNode, NewNode, NodeKind, NodePatch, NodeView};

use crate::{
    api,
    components::{FieldError, FormError, kind_label, textarea_text},
    hooks::{
        batch::{self, BatchStatus, Changes, use_batch},
        clock,
        debounce::DebounceOptions,
        draft::{self, Draft},
    },
    queries,
};

/// The kind a new child of `kind` usually has.
fn child_kind(kind: NodeKind) -> NodeKind {
    match kind {
        NodeKind::Chapter | NodeKind::Choice => NodeKind::Scene,
        NodeKind::Scene | NodeKind::Text => NodeKind::Choice,
        NodeKind::Ending => NodeKind::Text,
    }
}

/// The fields autosave keys its changes by.
const FIELDS: [&str; 4] = ["kind", "title", "content", "choice_label"];

/// A node patch from the changed fields, based on version `base`.
fn patch(changes: &Changes<&'static str, String>, base: String) -> NodePatch {
    let field = |name: &'static str| batch::get(changes, &name).cloned();
    NodePatch {
        kind: field("kind").and_then(|k| NodeKind::parse(&k)),
        title: field("title"),
        content: field("content"),
        choice_label: field("choice_label"),
        updated_at: Some(base),
    }
}

/// Edits the selected node and its place in the tree; `view` is the node with the counts
/// its buttons need (siblings, the node above, its parent, what is below it).
#[component]
pub fn NodeEditor(view: Arc<NodeView>, on_change: EventHandler<Option<String>>) -> Element {
    let node = view.node.clone();
    let mut kind = use_signal(|| node.kind);
    let mut title = use_signal(|| node.title.clone());
    let mut content = use_signal(|| node.content.clone());
    let mut label = use_signal(|| node.choice_label.clone().unwrap_or_default());
    let mut error = use_signal(|| None::<ApiError>);
    let mut confirming = use_signal(|| false);
    // The node as the tree shows it now, and the version the next save is based on (a
    // move changes it; a save returns the new one).
    let mut current = use_hook(|| CopyValue::new(node.clone()));
    current.set(node.clone());
    let mut base = use_hook(|| CopyValue::new(node.updated_at.clone()));
    if node.updated_at > *base.peek() {
        base.set(node.updated_at.clone());
    }

    let id = node.id.clone();
    let autosave = use_batch(
        DebounceOptions::trailing(800.0).max_wait(5_000.0),
        move |changes: Changes<&'static str, String>| {
            // Built now: the last save of a closing form runs after the form is gone.
            let request = api::update_node(id.clone(), JsonBody(patch(&changes, base.cloned())));
            async move {
                let saved = request.await?;
                if let Ok(mut b) = base.try_write() {
                    *b = saved.updated_at.clone();
                }
                queries::after_node_save(&saved);
                Ok(())
            }
        },
    );
    let status = autosave.status;
    // The local draft follows every change of the batch: what is unsaved, on which version.
    let draft_id = use_hook(|| CopyValue::new(node.id.clone()));
    let remember = move || {
        let fields = autosave
            .unsaved()
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        draft::save(
            &draft_id.read(),
            &Draft {
                base: base.cloned(),
                fields,
            },
        );
    };
    use_effect(move || {
        let _ = status();
        remember();
    });
    let edit = move |field: &'static str, value: String| {
        autosave.push(field, value);
        remember();
    };
    // A draft left by a reload or a closed tab comes back into the form and is saved.
    let restore_id = node.id.clone();
    let restore_base = node.updated_at.clone();
    use_hook(move || {
        let Some(d) = draft::load(&restore_id, &restore_base) else {
            return;
        };
        for (field, value) in d.fields {
            let Some(key) = FIELDS.iter().find(|f| **f == field) else {
                continue;
            };
            match *key {
                "kind" => kind.set(NodeKind::parse(&value).unwrap_or(node.kind)),
                "title" => title.set(value.clone()),
                "content" => content.set(value.clone()),
                _ => label.set(value.clone()),
            }
            autosave.push(key, value);
        }
    });
    if let BatchStatus::Failed(e) = status()
        && error.peek().as_ref() != Some(&e)
    {
        error.set(Some(e));
    }

    let siblings = view.siblings;
    let previous = view.previous_id.clone();
    let parent = view.path.last().cloned();
    let below = view.descendants;
    let node = current;

    // Runs one change; on success selects `select(result)` and reloads the tree.
    let run = move |op: std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<Option<String>, ApiError>>>,
    >| {
        autosave.flush();
        spawn(async move {
            // Structural changes go after the autosave, so its version check still holds.
            let started = clock::now();
            while autosave.busy() && clock::now() - started < 10_000.0 {
                clock::sleep(50.0).await;
            }
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
        let id = node.cloned().id;
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
        let story_id = node.cloned().story_id;
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

    let n = node.cloned();
    rsx! {
        form {
            class: "node-form",
            "data-testid": "node-form",
            onsubmit: move |evt: FormEvent| {
                evt.prevent_default();
                // Saving by hand saves now what autosave would save after the pause.
                autosave.flush();
            },
            div { class: "grid2",
                label { "Title"
                    input { name: "node-title", value: "{title}", oninput: move |e| { title.set(e.value()); edit("title", e.value()); } }
                    FieldError { error, field: "title" }
                }
                label { "Kind"
                    select {
                        name: "node-kind",
                        onchange: move |e| if let Some(k) = NodeKind::parse(&e.value()) { kind.set(k); edit("kind", k.as_str().to_owned()); },
                        for k in NodeKind::ALL {
                            option { value: k.as_str(), selected: kind() == k, "{kind_label(k)}" }
                        }
                    }
                }
            }
            label { "Choice label (the button that leads here)"
                input { name: "node-choice-label", value: "{label}", oninput: move |e| { label.set(e.value()); edit("choice_label", e.value()); } }
                FieldError { error, field: "choice_label" }
            }
            label { "Content"
                textarea { name: "node-content", rows: 10, value: "{content}", dangerous_inner_html: textarea_text(&content.read()), oninput: move |e| { content.set(e.value()); edit("content", e.value()); } }
                FieldError { error, field: "content" }
            }
            FormError { error, fields: &["title", "choice_label", "content"] }
            p { class: "muted save-status", "data-testid": "save-status", role: "status",
                match status() {
                    BatchStatus::Idle => "",
                    BatchStatus::Pending => "Unsaved changes…",
                    BatchStatus::Saving => "Saving…",
                    BatchStatus::Saved => "Saved",
                    BatchStatus::Offline => "Offline: your text is kept here and saved when the network is back",
                    BatchStatus::Failed(_) => "Not saved",
                }
            }
            div { class: "row",
                button { class: "btn primary", r#type: "submit", "data-testid": "save-node", "Save" }
                button {
                    class: "btn", r#type: "button", "data-testid": "add-child",
                    onclick: move |_| add(Some(node.cloned().id), child_kind(node.cloned().kind), None),
                    "+ Child"
                }
                button {
                    class: "btn", r#type: "button", "data-testid": "add-sibling",
                    onclick: move |_| { let n = node.cloned(); add(n.parent_id, n.kind, Some(n.position + 1)) },
                    "+ Sibling"
                }
            }
            div { class: "row",
                span { class: "muted", "Move:" }
                button {
                    class: "btn", r#type: "button", disabled: n.position == 0, title: "Move up",
                    onclick: move |_| { let n = node.cloned(); move_to(n.parent_id, Some(n.position - 1)) },
                    "↑"
                }
                button {
                    class: "btn", r#type: "button", disabled: n.position + 1 >= siblings, title: "Move down",
                    onclick: move |_| { let n = node.cloned(); move_to(n.parent_id, Some(n.position + 1)) },
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
                            let n = node.cloned();
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
