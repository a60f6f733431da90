//! A story's tree as an indented, selectable outline, virtualised: only the rows near the
//! view are in the DOM however many nodes the story has.

use dioxus::prelude::*;

use super::VirtualList;

use app::model::{Node, NodeKind};

/// Depth of every node of a depth-first ordered tree (parents come before children).
pub fn depths(nodes: &[Node]) -> Vec<usize> {
    let mut depth_of: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    nodes
        .iter()
        .map(|n| {
            let d = n
                .parent_id
                .as_deref()
                .and_then(|p| depth_of.get(p))
                .map_or(0, |d| d + 1);
            depth_of.insert(n.id.as_str(), d);
            d
        })
        .collect()
}

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

/// The outline; clicking a row selects its node. A story can have thousands of nodes, and
/// long titles wrap: the rows are a virtual list with measured heights, in its own
/// scrolling box beside the node being edited.
#[component]
pub fn NodeTree(nodes: Vec<Node>, selected: Signal<Option<String>>) -> Element {
    let depth = depths(&nodes);
    // Order, titles, kinds and depths (indentation narrows a row) decide the rows' heights:
    // a change of any re-measures.
    let version = {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        for (n, d) in nodes.iter().zip(&depth) {
            (&n.id, &n.title, n.kind.as_str(), d).hash(&mut h);
        }
        h.finish()
    };
    let count = nodes.len();
    let rows = use_signal(|| (nodes.clone(), depth.clone()));
    if rows.peek().0 != nodes {
        let mut rows = rows;
        rows.set((nodes, depth));
    }
    rsx! {
        div { class: "node-tree", "data-testid": "node-tree",
            VirtualList {
                count,
                row_height: ROW_ESTIMATE,
                measure: true,
                version,
                label: "Outline",
                class: "tree-rows",
                row: move |i: usize| {
                    let (nodes, depth) = &*rows.read();
                    let (Some(node), Some(d)) = (nodes.get(i), depth.get(i).copied()) else {
                        return rsx! {};
                    };
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
