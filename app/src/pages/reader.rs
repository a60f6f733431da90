//! `/stories/{id}` and `/stories/{id}/nodes/{node}`: the reader.
//!
//! A story is played from its first top-level node: the page shows the current node and
//! the branches below it; each branch is a link, so every step has its own URL and the
//! browser's back button goes back. At a leaf the reader can continue with the next
//! top-level part or start again.

use dioxus::prelude::*;

use app::model::Node;

use crate::{
    components::{CoverImage, ExportPanel},
    queries,
    routes::Route,
};

/// The story's start.
#[component]
pub fn Reader(id: ReadSignal<String>) -> Element {
    rsx! { StoryReader { id, node: None } }
}

/// One node of a story.
#[component]
pub fn ReaderNode(id: ReadSignal<String>, node: ReadSignal<String>) -> Element {
    rsx! { StoryReader { id, node: Some(node()) } }
}

#[component]
fn StoryReader(id: ReadSignal<String>, node: Option<String>) -> Element {
    // Through the request cache: a prefetched (hovered) story opens with no request.
    let data = queries::use_story_with_tree(id)?;
    let (story, tree) = data().0;
    let nodes = &tree.nodes;
    let current = match &node {
        Some(n) => nodes.iter().find(|x| &x.id == n),
        None => nodes.iter().find(|x| x.parent_id.is_none()),
    };

    let Some(current) = current else {
        return rsx! {
            section { class: "card reader",
                h1 { "{story.title}" }
                if node.is_some() {
                    p { class: "error", "This story has no such node." }
                } else {
                    p { class: "muted", "This story has no nodes yet." }
                }
                Link { class: "btn", to: Route::Editor { id: story.id.clone() }, "Write it in the editor" }
            }
        };
    };

    let path = ancestors(nodes, current);
    let children: Vec<&Node> = nodes
        .iter()
        .filter(|n| n.parent_id.as_deref() == Some(current.id.as_str()))
        .collect();
    let root = path.first().copied().unwrap_or(current);
    let next_part = nodes
        .iter()
        .find(|n| n.parent_id.is_none() && n.position == root.position + 1);
    let back = match current.parent_id.as_deref() {
        Some(parent) => Route::ReaderNode {
            id: story.id.clone(),
            node: parent.to_owned(),
        },
        None => Route::stories(),
    };
    let paragraphs: Vec<&str> = current
        .content
        .split('\n')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();

    rsx! {
        article { class: "card reader", "data-testid": "reader",
            nav { class: "breadcrumbs", aria_label: "Path",
                Link { to: Route::Reader { id: story.id.clone() }, "{story.title}" }
                for step in path.iter() {
                    span { " › " }
                    Link { to: Route::ReaderNode { id: story.id.clone(), node: step.id.clone() }, "{step.title}" }
                }
            }
            if node.is_none() && let Some(cover) = story.cover.clone() {
                CoverImage {
                    cover,
                    sizes: "(max-width: 860px) calc(100vw - 2rem), 800px",
                    eager: true,
                    class: "cover-hero",
                    alt: "Cover of {story.title}",
                }
            }
            h1 { "data-testid": "node-title", "{current.title}" }
            div { class: "prose", "data-testid": "node-content",
                for p in paragraphs {
                    p { "{p}" }
                }
            }
            if children.is_empty() {
                div { class: "ending",
                    p { class: "muted", "The end of this path." }
                    div { class: "row",
                        if let Some(next) = next_part {
                            Link { class: "btn primary", to: Route::ReaderNode { id: story.id.clone(), node: next.id.clone() }, "Continue: {next.title}" }
                        }
                        Link { class: "btn", to: Route::Reader { id: story.id.clone() }, "Start again" }
                    }
                }
            } else {
                ol { class: "choices", "data-testid": "choices",
                    for child in children {
                        li {
                            Link {
                                class: "btn choice",
                                to: Route::ReaderNode { id: story.id.clone(), node: child.id.clone() },
                                {child.choice_label.clone().unwrap_or_else(|| child.title.clone())}
                            }
                        }
                    }
                }
            }
            div { class: "row reader-foot",
                Link { class: "btn", "data-testid": "back", to: back, "← Back" }
                Link { class: "btn", to: Route::Editor { id: story.id.clone() }, "Edit this story" }
            }
        }
        ExportPanel { story_id: story.id.clone() }
    }
}

/// The nodes from the top level down to (excluding) `node`.
fn ancestors<'a>(nodes: &'a [Node], node: &'a Node) -> Vec<&'a Node> {
    let mut path = Vec::new();
    let mut at = node.parent_id.as_deref();
    while let Some(id) = at {
        let Some(parent) = nodes.iter().find(|n| n.id == id) else {
            break;
        };
        path.push(parent);
        at = parent.parent_id.as_deref();
    }
    path.reverse();
    path
}
