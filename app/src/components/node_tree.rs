//! A story's tree as an indented, selectable outline.

use dioxus::prelude::*;

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

/// The outline; clicking a row selects its node.
#[component]
pub fn NodeTree(nodes: Vec<Node>, selected: Signal<Option<String>>) -> Element {
    let depth = depths(&nodes);
    rsx! {
        ul { class: "node-tree", role: "tree", "data-testid": "node-tree",
            for (node, d) in nodes.iter().zip(depth) {
                li {
                    key: "{node.id}",
                    role: "treeitem",
                    style: "padding-left: {d * 18}px",
                    button {
                        class: if selected.read().as_deref() == Some(node.id.as_str()) { "tree-row selected" } else { "tree-row" },
                        "data-testid": "tree-node",
                        "data-depth": "{d}",
                        onclick: {
                            let id = node.id.clone();
                            move |_| selected.set(Some(id.clone()))
                        },
                        span { class: "kind kind-{node.kind.as_str()}", "{kind_label(node.kind)}" }
                        " {node.title}"
                    }
                }
            }
        }
    }
}
