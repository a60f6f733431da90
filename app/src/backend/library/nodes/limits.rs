//! How large one story may grow, and what a write adds to it.
//!
//! A write that would take a story past its nodes or its bytes of node text is refused
//! with 413 before anything is written; the story row keeps both counts (`node_count`,
//! `byte_count`), so the check reads one row, inside the write's own transaction. Without
//! a bound about twenty batch requests made a 600 MB story that every tree read, page and
//! export then held in memory (issue 27, finding 6).

use server::store::Conn;

use crate::model::{ApiError, ErrorCode, fields::Id};

/// How large one story may grow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoryLimits {
    /// Nodes at most (`AION_STORY_MAX_NODES`, 50,000).
    pub nodes: u64,
    /// Bytes of node text (titles, contents, choice labels) at most
    /// (`AION_STORY_MAX_BYTES`, 64 MiB).
    pub bytes: u64,
}

impl StoryLimits {
    /// No bound (tools and benchmarks that write stories of their own).
    pub const NONE: Self = Self {
        nodes: u64::MAX,
        bytes: u64::MAX,
    };

    /// Whether a story of `size` may take `nodes` more nodes and `bytes` more bytes; 413
    /// naming `field` and both figures when not. Shrinking is always allowed.
    pub(super) fn check(
        &self,
        size: StorySize,
        nodes: u64,
        bytes: i64,
        field: &str,
    ) -> Result<(), ApiError> {
        if nodes > 0 && size.nodes + nodes > self.nodes {
            return Err(ApiError::new(
                ErrorCode::PayloadTooLarge,
                format!(
                    "a story holds at most {} nodes; this one has {} and this would add {nodes}",
                    self.nodes, size.nodes
                ),
            )
            .with_field(field));
        }
        if bytes > 0 && size.bytes.saturating_add(bytes as u64) > self.bytes {
            return Err(ApiError::new(
                ErrorCode::PayloadTooLarge,
                format!(
                    "a story holds at most {} bytes of text; this one has {} and this would add {bytes}",
                    self.bytes, size.bytes
                ),
            )
            .with_field(field));
        }
        Ok(())
    }
}

/// A story's size as its row keeps it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct StorySize {
    pub(super) nodes: u64,
    pub(super) bytes: u64,
}

/// The bytes of text a node holds, as counted against [`StoryLimits::bytes`].
pub(super) fn node_bytes(title: &str, content: &str, choice_label: Option<&str>) -> i64 {
    (title.len() + content.len() + choice_label.map_or(0, str::len)) as i64
}

/// The story's size (kept by the writes), or 404.
pub(super) async fn story_size(conn: &Conn, story_id: &Id) -> Result<StorySize, ApiError> {
    conn.query_opt(
        "story.size",
        "SELECT node_count, byte_count FROM stories WHERE id = ?1",
        [story_id.as_str()],
        |r| {
            Ok(StorySize {
                nodes: r.get::<i64>(0)?.max(0) as u64,
                bytes: r.get::<i64>(1)?.max(0) as u64,
            })
        },
    )
    .await?
    .ok_or_else(|| ApiError::not_found("story", story_id.as_str()))
}
