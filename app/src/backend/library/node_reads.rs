//! The reads of a story's nodes that requests make, each bounded whatever the story's size:
//! a page of the outline, a page of the tree, the view of one node. All are cut from the
//! story's outline, cached under the story's tag (so every node write drops it); only the
//! nodes a page or a view shows are read with their content. The caller's right to read
//! the story is the handler's check, made before any of these.

use std::sync::Arc;

use super::nodes::outline::{self, Outline, TREE_PAGE_BYTES};
use crate::backend::{
    AppState,
    cache::{Key, story_tag},
};
use crate::model::{
    ApiError, ErrorCode, NodeView, OutlinePage, StoryTree,
    fields::{Id, Limit, Offset},
};

/// Where a page of the tree starts: after `cursor` or at `offset`; `limit` nodes at most.
/// Every part is optional; a bad one is a 400 naming it.
pub struct TreeQuery<'a> {
    /// `limit`.
    pub limit: Option<&'a str>,
    /// `cursor`: a page's `next_cursor`.
    pub cursor: Option<&'a str>,
    /// `offset`.
    pub offset: Option<&'a str>,
}

impl TreeQuery<'_> {
    fn is_empty(&self) -> bool {
        [self.limit, self.cursor, self.offset]
            .iter()
            .all(|p| p.is_none_or(str::is_empty))
    }
}

impl AppState {
    /// A story's outline, through the cache.
    pub async fn outline(&self, id: &Id) -> Result<Arc<Outline>, ApiError> {
        let store = self.store();
        self.cached(
            Key::outline(id.as_str()),
            &[story_tag(id.as_str())],
            || async { Ok(Arc::new(Outline::load(store, id).await?)) },
        )
        .await
    }

    /// Rows `offset..offset + limit` of a story's outline.
    pub async fn outline_page(
        &self,
        id: &Id,
        limit: Option<&str>,
        offset: Option<&str>,
    ) -> Result<OutlinePage, ApiError> {
        let limit = Limit::nodes(limit)?.get() as usize;
        let offset = Offset::parse(offset)?.get() as usize;
        Ok(self.outline(id).await?.page(offset, limit))
    }

    /// A page of a story's tree with the nodes' content. Without parameters a story within
    /// `AION_TREE_WHOLE_MAX_NODES` and 2 MiB of text comes whole; a larger one, or any
    /// parameter, gives a page of `limit` nodes and about 2 MiB at most.
    pub async fn tree_page(&self, id: &Id, query: TreeQuery<'_>) -> Result<StoryTree, ApiError> {
        let limit = match query.is_empty() {
            true => self.config().tree_whole_max_nodes.max(1) as usize,
            false => Limit::nodes(query.limit)?.get() as usize,
        };
        let offset = Offset::parse(query.offset)?.get() as usize;
        let cursor = query
            .cursor
            .filter(|c| !c.is_empty())
            .map(|c| Id::parse("cursor", c))
            .transpose()?;
        if cursor.is_some() && offset > 0 {
            return Err(ApiError::invalid(
                "offset",
                "offset and cursor do not go together: follow the cursor, or jump with offset",
            ));
        }
        let outline = self.outline(id).await?;
        let from = match &cursor {
            None => offset,
            Some(c) => {
                outline.index_of(c.as_str()).ok_or_else(|| {
                    ApiError::invalid(
                        "cursor",
                        "cursor is not a node of this story (deleted since?); start again without a cursor",
                    )
                })? + 1
            }
        };
        let range = outline.tree_range(from, limit, TREE_PAGE_BYTES);
        outline::tree_page(self.store(), &outline, range).await
    }

    /// The view of node `node` of story `id` (its first top-level node when `None`): 404
    /// naming the node when it is not a node of this story, or the story has none.
    pub async fn node_view(&self, id: &Id, node: Option<&Id>) -> Result<NodeView, ApiError> {
        let outline = self.outline(id).await?;
        let missing = || match node {
            Some(n) => ApiError::not_found("node", n.as_str()),
            None => {
                ApiError::new(ErrorCode::NotFound, "this story has no nodes yet").with_field("node")
            }
        };
        let index = match node {
            Some(n) => outline.index_of(n.as_str()),
            None => outline.start(),
        }
        .ok_or_else(missing)?;
        let node_id = &outline.rows[index].summary.id;
        let full = outline::node_of_story(self.store(), id, node_id)
            .await?
            .ok_or_else(missing)?;
        Ok(outline.view_of(index, full))
    }
}
