//! `/stories/{id}` and `/stories/{id}/nodes/{node}`: the reader.
//!
//! A story is played from its first top-level node: the page shows the current node and
//! the branches below it; each branch is a link, so every step has its own URL and the
//! browser's back button goes back. At a leaf the reader can continue with the next
//! top-level part or start again. Each step loads one node's view (the node, its path and
//! its first 200 choices), never the whole story.

use dioxus::prelude::*;

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
fn StoryReader(id: ReadSignal<String>, node: ReadSignal<Option<String>>) -> Element {
    // Through the request cache: a prefetched (hovered) story opens with no request. Only
    // this node, its path and its choices are loaded, however large the story.
    let data = queries::use_story_data(id, node, false)?;
    let queries::StoryData { story, view, .. } = data().0;

    let Some(view) = view else {
        return rsx! {
            section { class: "card reader",
                h1 { "{story.title}" }
                if node().is_some() {
                    p { class: "error", "This story has no such node." }
                } else {
                    p { class: "muted", "This story has no nodes yet." }
                }
                Link { class: "btn", to: Route::Editor { id: story.id.clone() }, "Write it in the editor" }
            }
        };
    };
    let current = &view.node;
    let children = &view.children;
    let next_part = view.next_part.as_ref();
    // A path cut by the server (over 100 steps) shows where it was cut.
    let cut = view.path_total as usize > view.path.len();
    let more_choices = (view.children_total as usize).saturating_sub(children.len());
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
                for (i, step) in view.path.iter().enumerate() {
                    span { " › " }
                    if cut && i == 1 {
                        span { "… › " }
                    }
                    Link { to: Route::ReaderNode { id: story.id.clone(), node: step.id.clone() }, "{step.title}" }
                }
            }
            if node().is_none() && let Some(cover) = story.cover.clone() {
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
                    for child in children.iter() {
                        li {
                            Link {
                                class: "btn choice",
                                to: Route::ReaderNode { id: story.id.clone(), node: child.id.clone() },
                                {child.choice_label.clone().unwrap_or_else(|| child.title.clone())}
                            }
                        }
                    }
                }
                if more_choices > 0 {
                    p { class: "muted", "{more_choices} more paths are in the editor." }
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
