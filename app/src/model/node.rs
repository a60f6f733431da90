//! Nodes of a story's tree as they travel over the wire, and the bodies that change them.

use serde::{Deserialize, Serialize};

/// What a node is: `chapter`, `scene`, `choice`, `text` or `ending` on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NodeKind {
    /// A part of the story that groups scenes.
    Chapter,
    /// A passage the reader reads.
    Scene,
    /// A branch the reader can pick; its `choice_label` is the button text.
    Choice,
    /// Plain text.
    Text,
    /// A way the story ends.
    Ending,
}

impl NodeKind {
    /// Every kind.
    pub const ALL: [NodeKind; 5] = [
        Self::Chapter,
        Self::Scene,
        Self::Choice,
        Self::Text,
        Self::Ending,
    ];

    /// The wire (and database) name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Chapter => "chapter",
            Self::Scene => "scene",
            Self::Choice => "choice",
            Self::Text => "text",
            Self::Ending => "ending",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

// Written by hand rather than derived: serde's derived enum code costs the client bytes.
wire_name!(NodeKind, "node kind", NodeKind::ALL, |s| NodeKind::parse(
    &s
));

/// A node: `{"id","story_id","parent_id","position","kind","title","content","choice_label","created_at","updated_at"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Node {
    /// Opaque, sortable id (UUIDv7).
    pub id: String,
    /// The story it belongs to.
    pub story_id: String,
    /// Its parent; `null` for a top-level node.
    pub parent_id: Option<String>,
    /// Place among its siblings, from 0.
    pub position: u32,
    /// What it is.
    pub kind: NodeKind,
    /// 1-200 characters.
    pub title: String,
    /// Up to 1 MB of text.
    pub content: String,
    /// The text of the button that leads here, if any.
    pub choice_label: Option<String>,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub updated_at: String,
}

/// A story's tree, or one page of it: `{"story_id","nodes":[Node...],"total","next_cursor"}`,
/// depth-first, siblings by position. A small story comes whole (`next_cursor` null); a
/// large one in pages: follow `next_cursor` while it is not null.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct StoryTree {
    /// The story.
    pub story_id: String,
    /// The nodes of this page (every node when `next_cursor` is null and the page started
    /// at the beginning), depth-first.
    pub nodes: Vec<Node>,
    /// Nodes in the whole story.
    #[serde(default)]
    pub total: u32,
    /// The id of this page's last node, to pass as `cursor` for the next page; `null` on
    /// the last page.
    #[serde(default)]
    pub next_cursor: Option<String>,
}

/// A node without its content, with its depth: a row of the editor's outline, a step of
/// the reader's path, a choice. `{"id","parent_id","position","kind","title","choice_label","depth"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct NodeSummary {
    /// The node's id.
    pub id: String,
    /// Its parent; `null` for a top-level node.
    pub parent_id: Option<String>,
    /// Place among its siblings, from 0.
    pub position: u32,
    /// What it is.
    pub kind: NodeKind,
    /// Its title.
    pub title: String,
    /// The text of the button that leads here, if any.
    pub choice_label: Option<String>,
    /// 0 for a top-level node, its parent's depth + 1 otherwise.
    pub depth: u32,
}

/// One node as the reader and the editor show it, with what is around it: its path from
/// the top level, its first choices, and the counts the editor's buttons need.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct NodeView {
    /// The story.
    pub story_id: String,
    /// The node, with its content.
    pub node: Node,
    /// Its ancestors, top level first, up to its parent: the top-level one and the 99
    /// nearest at most.
    pub path: Vec<NodeSummary>,
    /// How many ancestors it has (its depth); more than `path` holds when the path was cut.
    pub path_total: u32,
    /// Its children by position: the first 200 at most.
    pub children: Vec<NodeSummary>,
    /// How many children it has.
    pub children_total: u32,
    /// How many nodes share its parent, itself included.
    pub siblings: u32,
    /// The sibling just before it, if any.
    pub previous_id: Option<String>,
    /// How many nodes are below it (what deleting it deletes besides itself).
    pub descendants: u32,
    /// The top-level node after the one its path starts from: where the reader continues
    /// at the end of a path.
    pub next_part: Option<NodeSummary>,
}

/// A page of a story's outline: every node without content, depth-first, with depths.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct OutlinePage {
    /// The story.
    pub story_id: String,
    /// Nodes in the story.
    pub total: u32,
    /// Top-level nodes in the story.
    pub top_level: u32,
    /// Where this page starts in the depth-first order.
    pub offset: u32,
    /// The rows `offset..offset + rows.len()`.
    pub rows: Vec<NodeSummary>,
}

/// Body of `POST /api/stories/{id}/nodes`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewNode {
    /// The parent (must be in the same story); `null` or absent for top level.
    #[serde(default)]
    pub parent_id: Option<String>,
    /// What it is.
    pub kind: NodeKind,
    /// 1-200 characters.
    pub title: String,
    /// Up to 1 MB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// Button text leading here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub choice_label: Option<String>,
    /// Place among siblings; default: last.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<u32>,
}

/// One item of `POST /api/stories/{id}/nodes/batch`: a node that may name its parent by the
/// client label (`ref`) of an earlier item in the same batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct BatchNode {
    /// A label for this item, unique in the batch, that later items can use as `parent_ref`.
    #[serde(default, rename = "ref", skip_serializing_if = "Option::is_none")]
    pub ref_: Option<String>,
    /// The parent's `ref` in this batch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_ref: Option<String>,
    /// Or an existing parent's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
    /// What it is.
    pub kind: NodeKind,
    /// 1-200 characters.
    pub title: String,
    /// Up to 1 MB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// Button text leading here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub choice_label: Option<String>,
    /// Place among siblings; default: last.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<u32>,
}

/// Body of `POST /api/stories/{id}/nodes/batch`: all or nothing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NodeBatch {
    /// Up to 10,000 nodes, parents before children.
    pub nodes: Vec<BatchNode>,
}

/// The answer to a batch: `{"created": n, "ids": [...]}`, the new ids in request order
/// (so a client maps its `ref`s by index). The tree endpoint has the full nodes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct NodeBatchResult {
    /// How many nodes were created.
    pub created: u32,
    /// Their ids, in the order they were sent.
    pub ids: Vec<String>,
}

/// Body of `PATCH /api/nodes/{id}`: only the fields present change.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NodePatch {
    /// New kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<NodeKind>,
    /// New title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// New content.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// New choice label; an empty string removes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub choice_label: Option<String>,
    /// The `updated_at` the client last saw (409 if the node changed since).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
}

/// Body of `POST /api/nodes/{id}/move`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MoveNode {
    /// The new parent (same story, not inside the moved subtree); `null` for top level.
    #[serde(default)]
    pub parent_id: Option<String>,
    /// The new place among the new siblings; default: last.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<u32>,
}

/// The answer to a delete: what went away.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Deleted {
    /// The id that was deleted.
    pub id: String,
    /// The story it belonged to (for a story: its own id).
    pub story_id: String,
    /// How many nodes went with it (a subtree, or a story's whole tree).
    pub nodes_deleted: u32,
}
