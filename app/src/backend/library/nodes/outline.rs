//! A story's outline: every node without its content, depth-first with its depth and the
//! bytes of text it holds, built by one indexed scan and cached under the story's tag.
//! The editor's outline pages, the tree's pages and the reader's view of one node are all
//! cut from it, so no request but an export holds every node's content at once (issue 27,
//! finding 6: a story of 64 MiB read whole by every page view took twice that in memory).
//!
//! A view walks the depth-first order rather than an index: the ancestors of a row are the
//! nearest earlier rows of each smaller depth, its subtree the rows after it that are
//! deeper. Every walk is linear in the rows it passes (at most the story's 50,000) and
//! compares integers; the outline of a 50,000-node story is built once per change.

use serde::{Deserialize, Serialize};
use server::store::{Row, SqlError, Store, ValueType};

use super::{NODE_BYTES, NODE_COLUMNS, node_from_row};
use crate::model::{
    ApiError, Node, NodeKind, NodeSummary, NodeView, OutlinePage, StoryTree, fields::Id,
};

/// Every node of story `?1` without its content, with its bytes of text, in storage order.
fn outline_sql() -> String {
    format!(
        "SELECT n.id, n.parent_id, n.position, n.kind, n.title, n.choice_label, {NODE_BYTES}
           FROM nodes n WHERE n.story_id = ?1"
    )
}

/// Ancestors a view names at most: the top-level one and the nearest 99.
pub const PATH_MAX: usize = 100;
/// Children a view lists at most.
pub const CHILDREN_MAX: usize = 200;
/// Bytes of node text one page of the tree holds at most (always at least one node).
pub const TREE_PAGE_BYTES: u64 = 2 << 20;

/// One row of an outline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutlineRow {
    /// The node without its content.
    pub summary: NodeSummary,
    /// Its bytes of text (title, content, choice label).
    pub bytes: u32,
}

/// A story's nodes depth-first, siblings by position, with depths.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outline {
    /// The story.
    pub story_id: String,
    /// Every node.
    pub rows: Vec<OutlineRow>,
    /// How many nodes are at the top level.
    pub top_level: u32,
}

/// The depth-first order of a tree given as `(id, parent, position)` per item, with each
/// item's depth: siblings by position, items whose parent is missing (which the schema's
/// foreign key prevents) at the end with depth 0 rather than lost.
pub fn depth_first_order<T>(
    items: &[T],
    key: impl Fn(&T) -> (&str, Option<&str>, u32),
) -> Vec<(usize, u32)> {
    // Fx rather than SipHash: hashing 10k ids cost about a millisecond of the tree read.
    let index: rustc_hash::FxHashMap<&str, usize> = items
        .iter()
        .enumerate()
        .map(|(i, n)| (key(n).0, i))
        .collect();
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); items.len()];
    let mut roots = Vec::new();
    let mut orphans = Vec::new();
    for (i, n) in items.iter().enumerate() {
        match key(n).1 {
            None => roots.push(i),
            Some(p) => match index.get(p) {
                Some(&parent) => children[parent].push(i),
                None => orphans.push(i),
            },
        }
    }
    let by_position = |list: &mut Vec<usize>| list.sort_unstable_by_key(|&i| (key(&items[i]).2, i));
    by_position(&mut roots);
    children.iter_mut().for_each(by_position);
    let mut order = Vec::with_capacity(items.len());
    let mut stack: Vec<(usize, u32)> = roots.into_iter().rev().map(|i| (i, 0)).collect();
    while let Some((i, depth)) = stack.pop() {
        order.push((i, depth));
        stack.extend(children[i].iter().rev().map(|&c| (c, depth + 1)));
    }
    order.extend(orphans.into_iter().map(|i| (i, 0)));
    order
}

/// Orders a story's nodes depth-first, siblings by position (see [`depth_first_order`]).
pub fn depth_first(nodes: Vec<Node>) -> Vec<Node> {
    let order = depth_first_order(&nodes, |n| {
        (n.id.as_str(), n.parent_id.as_deref(), n.position)
    });
    let mut slots: Vec<Option<Node>> = nodes.into_iter().map(Some).collect();
    order
        .into_iter()
        .filter_map(|(i, _)| slots[i].take())
        .collect()
}

fn row_from_sql(r: &Row) -> Result<OutlineRow, SqlError> {
    let text = |i| r.get_str(i).map(str::to_owned);
    let opt_text = |i| match r.column_type(i)? {
        ValueType::Null => Ok(None),
        _ => text(i).map(Some),
    };
    Ok(OutlineRow {
        summary: NodeSummary {
            id: text(0)?,
            parent_id: opt_text(1)?,
            position: r.get(2)?,
            kind: NodeKind::parse(r.get_str(3)?).ok_or(SqlError::InvalidColumnType)?,
            title: text(4)?,
            choice_label: opt_text(5)?,
            depth: 0,
        },
        bytes: r.get::<i64>(6)?.clamp(0, i64::from(u32::MAX)) as u32,
    })
}

impl Outline {
    /// Reads story `story_id`'s outline from the store.
    pub async fn load(store: &Store, story_id: &Id) -> Result<Self, ApiError> {
        let conn = store.read().await?;
        let expected = super::story_size(&conn, story_id).await?.nodes as usize;
        let rows = conn
            .query_sized(
                "node.outline",
                &outline_sql(),
                [story_id.as_str()],
                expected,
                row_from_sql,
            )
            .await?;
        Ok(Self::from_rows(story_id.as_str(), rows))
    }

    /// Orders `rows` (in any order) depth-first and sets their depths.
    pub fn from_rows(story_id: &str, rows: Vec<OutlineRow>) -> Self {
        let order = depth_first_order(&rows, |r| {
            let s = &r.summary;
            (s.id.as_str(), s.parent_id.as_deref(), s.position)
        });
        let mut slots: Vec<Option<OutlineRow>> = rows.into_iter().map(Some).collect();
        let rows = order
            .into_iter()
            .filter_map(|(i, depth)| {
                let mut row = slots[i].take()?;
                row.summary.depth = depth;
                Some(row)
            })
            .collect::<Vec<OutlineRow>>();
        let top_level = rows
            .iter()
            .filter(|r| r.summary.parent_id.is_none())
            .count() as u32;
        Self {
            story_id: story_id.to_owned(),
            rows,
            top_level,
        }
    }

    /// Nodes in the story.
    pub fn total(&self) -> u32 {
        self.rows.len() as u32
    }

    /// Where node `id` is in the depth-first order.
    pub fn index_of(&self, id: &str) -> Option<usize> {
        self.rows.iter().position(|r| r.summary.id == id)
    }

    /// The first top-level node, if the story has any.
    pub fn start(&self) -> Option<usize> {
        (!self.rows.is_empty()).then_some(0)
    }

    fn depth(&self, i: usize) -> u32 {
        self.rows[i].summary.depth
    }

    /// The end (exclusive) of row `i`'s subtree.
    fn subtree_end(&self, i: usize) -> usize {
        let d = self.depth(i);
        self.rows[i + 1..]
            .iter()
            .position(|r| r.summary.depth <= d)
            .map_or(self.rows.len(), |k| i + 1 + k)
    }

    /// Rows `offset..offset + limit` (fewer at the end).
    pub fn page(&self, offset: usize, limit: usize) -> OutlinePage {
        let from = offset.min(self.rows.len());
        let to = from.saturating_add(limit).min(self.rows.len());
        OutlinePage {
            story_id: self.story_id.clone(),
            total: self.total(),
            top_level: self.top_level,
            offset: from as u32,
            rows: self.rows[from..to]
                .iter()
                .map(|r| r.summary.clone())
                .collect(),
        }
    }

    /// The rows of one page of the tree from `from`: at most `limit` nodes and about
    /// `max_bytes` of their text, at least one node.
    pub fn tree_range(&self, from: usize, limit: usize, max_bytes: u64) -> std::ops::Range<usize> {
        let from = from.min(self.rows.len());
        let mut bytes = 0u64;
        let mut to = from;
        for row in self.rows[from..].iter().take(limit) {
            bytes += u64::from(row.bytes);
            if to > from && bytes > max_bytes {
                break;
            }
            to += 1;
        }
        from..to
    }

    /// The view of row `i` without its content: path, children, counts (see [`NodeView`]).
    pub fn view_of(&self, i: usize, node: Node) -> NodeView {
        let d = self.depth(i);
        // Ancestors, nearest first: the nearest earlier row of each smaller depth.
        let mut ancestors = Vec::with_capacity(d as usize);
        let mut want = d;
        for j in (0..i).rev() {
            if want == 0 {
                break;
            }
            if self.depth(j) < want {
                ancestors.push(j);
                want = self.depth(j);
            }
        }
        let path_total = ancestors.len() as u32;
        let kept: Vec<usize> = if ancestors.len() > PATH_MAX {
            let root = ancestors[ancestors.len() - 1];
            std::iter::once(root)
                .chain(ancestors[..PATH_MAX - 1].iter().rev().copied())
                .collect()
        } else {
            ancestors.iter().rev().copied().collect()
        };
        let end = self.subtree_end(i);
        let children: Vec<usize> = (i + 1..end).filter(|&j| self.depth(j) == d + 1).collect();
        let siblings = match ancestors.first() {
            Some(&parent) => (parent + 1..self.subtree_end(parent))
                .filter(|&j| self.depth(j) == d)
                .count(),
            None => self.top_level as usize,
        } as u32;
        let previous_id = (0..i)
            .rev()
            .find(|&j| self.depth(j) <= d)
            .filter(|&j| self.depth(j) == d)
            .map(|j| self.rows[j].summary.id.clone());
        let root = ancestors.last().copied().unwrap_or(i);
        let next_part = self
            .rows
            .get(self.subtree_end(root))
            .filter(|r| r.summary.parent_id.is_none())
            .map(|r| r.summary.clone());
        let summary = |&j: &usize| self.rows[j].summary.clone();
        NodeView {
            story_id: self.story_id.clone(),
            node,
            path: kept.iter().map(summary).collect(),
            path_total,
            children: children.iter().take(CHILDREN_MAX).map(summary).collect(),
            children_total: children.len() as u32,
            siblings,
            previous_id,
            descendants: (end - i - 1) as u32,
            next_part,
        }
    }
}

/// One node of story `story_id` with its content; `None` if it is not a node of that story.
pub async fn node_of_story(
    store: &Store,
    story_id: &Id,
    id: &str,
) -> Result<Option<Node>, ApiError> {
    let conn = store.read().await?;
    Ok(conn
        .query_opt(
            "node.of_story",
            &format!("SELECT {NODE_COLUMNS} FROM nodes n WHERE n.id = ?2 AND n.story_id = ?1"),
            [story_id.as_str(), id],
            node_from_row,
        )
        .await?)
}

/// The page of the tree made of `outline`'s rows in `range`, with their content.
pub async fn tree_page(
    store: &Store,
    outline: &Outline,
    range: std::ops::Range<usize>,
) -> Result<StoryTree, ApiError> {
    let rows = &outline.rows[range.clone()];
    let ids: Vec<&str> = rows.iter().map(|r| r.summary.id.as_str()).collect();
    let ids_json = serde_json::to_string(&ids).map_err(|_| ApiError::internal())?;
    let conn = store.read().await?;
    // The ids as one JSON array: no SQL is built from input.
    let found = conn
        .query_sized(
            "node.page",
            &format!(
                "SELECT {NODE_COLUMNS} FROM nodes n
                  WHERE n.story_id = ?1 AND n.id IN (SELECT value FROM json_each(?2))"
            ),
            [outline.story_id.as_str(), ids_json.as_str()],
            ids.len(),
            node_from_row,
        )
        .await?;
    let mut by_id: rustc_hash::FxHashMap<String, Node> =
        found.into_iter().map(|n| (n.id.clone(), n)).collect();
    // In the outline's order; a node deleted since the outline was read is left out.
    let nodes = ids.iter().filter_map(|id| by_id.remove(*id)).collect();
    let next_cursor = (range.end < outline.rows.len())
        .then(|| rows.last().map(|r| r.summary.id.clone()))
        .flatten();
    Ok(StoryTree {
        story_id: outline.story_id.clone(),
        nodes,
        total: outline.total(),
        next_cursor,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(id: &str, parent: Option<&str>, position: u32) -> Node {
        Node {
            id: id.into(),
            story_id: "s".into(),
            parent_id: parent.map(Into::into),
            position,
            kind: NodeKind::Scene,
            title: id.into(),
            content: String::new(),
            choice_label: None,
            created_at: String::new(),
            updated_at: String::new(),
        }
    }

    fn outline(nodes: &[Node]) -> Outline {
        let rows = nodes
            .iter()
            .map(|n| OutlineRow {
                summary: NodeSummary {
                    id: n.id.clone(),
                    parent_id: n.parent_id.clone(),
                    position: n.position,
                    kind: n.kind,
                    title: n.title.clone(),
                    choice_label: None,
                    depth: 0,
                },
                bytes: n.title.len() as u32,
            })
            .collect();
        Outline::from_rows("s", rows)
    }

    fn shuffled() -> Vec<Node> {
        vec![
            node("b", None, 1),
            node("a10", Some("a"), 10),
            node("a2", Some("a"), 2),
            node("a", None, 0),
            node("a2x", Some("a2"), 0),
            node("b0", Some("b"), 0),
            node("lost", Some("gone"), 0),
        ]
    }

    #[test]
    fn depth_first_orders_by_tree_then_numeric_position() {
        let ids: Vec<String> = depth_first(shuffled()).into_iter().map(|n| n.id).collect();
        assert_eq!(ids, ["a", "a2", "a2x", "a10", "b", "b0", "lost"]);
    }

    #[test]
    fn the_outline_has_every_depth() {
        let o = outline(&shuffled());
        let depths: Vec<(&str, u32)> = o
            .rows
            .iter()
            .map(|r| (r.summary.id.as_str(), r.summary.depth))
            .collect();
        assert_eq!(
            depths,
            [
                ("a", 0),
                ("a2", 1),
                ("a2x", 2),
                ("a10", 1),
                ("b", 0),
                ("b0", 1),
                ("lost", 0)
            ]
        );
    }

    #[test]
    fn a_view_finds_path_children_siblings_and_the_next_part() {
        let o = outline(&shuffled()[..6]);
        let ids = |v: &[NodeSummary]| v.iter().map(|s| s.id.clone()).collect::<Vec<_>>();
        let at = |id| o.view_of(o.index_of(id).unwrap(), node(id, None, 0));
        let a2x = at("a2x");
        assert_eq!(ids(&a2x.path), ["a", "a2"]);
        assert_eq!((a2x.path_total, a2x.siblings, a2x.descendants), (2, 1, 0));
        assert_eq!(a2x.next_part.map(|n| n.id).as_deref(), Some("b"));
        let a = at("a");
        assert_eq!(ids(&a.children), ["a2", "a10"]);
        assert_eq!((a.children_total, a.descendants, a.siblings), (2, 3, 2));
        assert_eq!(a.previous_id, None);
        let a10 = at("a10");
        assert_eq!(a10.previous_id.as_deref(), Some("a2"));
        assert_eq!((a10.siblings, a10.descendants), (2, 0));
        let b0 = at("b0");
        assert_eq!(b0.next_part, None);
        assert_eq!(at("b").previous_id.as_deref(), Some("a"));
    }

    #[test]
    fn a_deep_path_keeps_the_top_level_and_the_nearest_ancestors() {
        let mut nodes = vec![node("n0", None, 0)];
        for i in 1..150 {
            nodes.push(node(&format!("n{i}"), Some(&format!("n{}", i - 1)), 0));
        }
        let o = outline(&nodes);
        let v = o.view_of(149, node("n149", None, 0));
        assert_eq!(v.path_total, 149);
        assert_eq!(v.path.len(), PATH_MAX);
        assert_eq!(v.path[0].id, "n0");
        assert_eq!(v.path[1].id, "n50");
        assert_eq!(v.path[PATH_MAX - 1].id, "n148");
    }

    #[test]
    fn tree_pages_are_cut_by_count_and_by_bytes_but_hold_one_node_at_least() {
        let o = outline(&shuffled());
        assert_eq!(o.tree_range(0, 3, u64::MAX), 0..3);
        assert_eq!(o.tree_range(5, 3, u64::MAX), 5..7);
        // "a" (1 byte) + "a2" (2) fit in 3 bytes; "a2x" does not.
        assert_eq!(o.tree_range(0, 10, 3), 0..2);
        assert_eq!(o.tree_range(2, 10, 1), 2..3);
        assert_eq!(o.tree_range(7, 10, 1), 7..7);
    }
}
