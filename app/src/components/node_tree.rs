//! A story's outline as an indented, selectable list, virtualised and paged: only the
//! rows near the view are in the DOM, and only the outline pages under them are loaded
//! ([`OUTLINE_PAGE`] rows each, without content), however many nodes the story has.
//!
//! The first page comes with the editor (server-rendered, with the total, so the list's
//! size and scrollbar are honest from the start). Pages under the view load through the
//! request cache as it moves, throttled as the story list's are; rows whose page has not
//! arrived are placeholders of the estimated height. Every page shown is read from the
//! cache again whenever it changes: a saved title shows in its row at once (the save
//! patches the cached page), and a structural change (which invalidates the outline)
//! brings every shown page back fresh.

use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
};

use dioxus::prelude::*;

use super::VirtualList;
use crate::{
    hooks::{query::QueryClient, throttle::use_throttle, virtual_list::Window},
    queries::{self, OUTLINE_PAGE},
};

use app::model::{NodeKind, OutlinePage};

/// A short label for a kind.
pub fn kind_label(kind: NodeKind) -> &'static str {
    match kind {
        NodeKind::Chapter => "Chapter",
        NodeKind::Scene => "Scene",
        NodeKind::Choice => "Choice",
        NodeKind::Text => "Text",
        NodeKind::Ending => "Ending",
    }
}

/// Estimated height of one outline row before it is measured (one line of `.tree-row`).
const ROW_ESTIMATE: f64 = 34.0;

/// The outline of story `story_id` (the parent keys it by the story), whose first page is
/// `first`; clicking a row selects its node.
#[component]
pub fn NodeTree(
    story_id: String,
    first: Arc<OutlinePage>,
    selected: Signal<Option<String>>,
) -> Element {
    let client = QueryClient::get();
    let count = first.total as usize;
    let mut pages = use_signal(|| HashMap::from([(0usize, first.clone())]));
    let mut asked = use_signal(|| HashSet::from([0usize]));
    // Bumped whenever a page arrives or changes: rows are measured again.
    let mut loaded = use_signal(|| 0u64);
    // The editor keys this list by its story: one list, one story.
    let story = use_hook(|| CopyValue::new(story_id));
    // The first page from the editor's loader (after a write, a fresh one).
    use_effect(use_reactive!(|first| {
        if pages.peek().get(&0).is_none_or(|p| !Arc::ptr_eq(p, &first)) {
            pages.write().insert(0, first);
            loaded += 1;
        }
    }));
    // Every page asked for, from the cache, again whenever the cache changes.
    use_effect(move || {
        client.subscribe();
        for page in asked.read().iter().copied().filter(|p| *p > 0) {
            let query = queries::outline(story.peek().clone(), page);
            spawn(async move {
                if let Ok(p) = client.fetch(query).await
                    && pages
                        .peek()
                        .get(&page)
                        .is_none_or(|old| !Arc::ptr_eq(old, &p))
                {
                    pages.write().insert(page, p);
                    loaded += 1;
                }
            });
        }
    });
    // Pages load as soon as scrolling starts, then at most every 250 ms while it goes on.
    let settle = use_throttle(250.0, move |w: Window| {
        if w.end == 0 {
            return;
        }
        for page in w.start / OUTLINE_PAGE..=(w.end - 1) / OUTLINE_PAGE {
            if !asked.peek().contains(&page) {
                asked.write().insert(page);
            }
        }
    });
    rsx! {
        div { class: "node-tree", "data-testid": "node-tree",
            if count > OUTLINE_PAGE {
                p { class: "muted count", "{count} nodes" }
            }
            VirtualList {
                count,
                row_height: ROW_ESTIMATE,
                measure: true,
                version: loaded(),
                label: "Outline",
                class: "tree-rows",
                on_range: move |w: Window| settle.call(w),
                row: move |i: usize| {
                    let row = pages
                        .read()
                        .get(&(i / OUTLINE_PAGE))
                        .and_then(|p| p.rows.get(i % OUTLINE_PAGE).cloned());
                    let Some(node) = row else {
                        return rsx! { div { class: "tree-row placeholder", "data-testid": "tree-placeholder", "…" } };
                    };
                    let d = node.depth;
                    let id = node.id.clone();
                    rsx! {
                        button {
                            class: if selected.read().as_deref() == Some(node.id.as_str()) { "tree-row selected" } else { "tree-row" },
                            style: "padding-left: {d * 18 + 6}px",
                            "data-testid": "tree-node",
                            "data-depth": "{d}",
                            onclick: move |_| selected.set(Some(id.clone())),
                            span { class: "kind kind-{node.kind.as_str()}", "{kind_label(node.kind)}" }
                            " {node.title}"
                        }
                    }
                },
            }
        }
    }
}
