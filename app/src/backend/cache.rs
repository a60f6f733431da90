//! What the app caches, under which policy, and which tags a write invalidates.
//!
//! One tiered cache holds stories, trees and list pages (an enum value, so they share one
//! capacity and one set of statistics). Every entry carries `story:{id}` and/or
//! `stories:list`; a write invalidates exactly the tags of what it changed.

use std::{hash::Hasher, sync::Arc, time::Duration};

use server::cache::{CachePolicy, TieredCache};

use crate::model::{Story, StoryPage, StoryTree};

/// Kinds of cached data and their times to live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Policy {
    /// One story: 1 h.
    Story,
    /// A story's node tree: 30 min.
    NodeTree,
    /// A user session: 2 h.
    Session,
    /// Media (covers and their variants): 24 h.
    Media,
    /// An API response (list pages, HTTP response cache): 5 min.
    ApiResponse,
    /// A server-rendered page (HTTP response cache): 5 min; writes invalidate it by tag.
    Page,
    /// Static files: 7 days.
    Static,
}

impl CachePolicy for Policy {
    const ALL: &'static [Self] = &[
        Self::Story,
        Self::NodeTree,
        Self::Session,
        Self::Media,
        Self::ApiResponse,
        Self::Page,
        Self::Static,
    ];

    fn ttl(&self) -> Duration {
        Duration::from_secs(match self {
            Self::Story => 3_600,
            Self::NodeTree => 1_800,
            Self::Session => 7_200,
            Self::Media => 86_400,
            Self::ApiResponse | Self::Page => 300,
            Self::Static => 604_800,
        })
    }

    fn name(&self) -> &'static str {
        match self {
            Self::Story => "story",
            Self::NodeTree => "node_tree",
            Self::Session => "session",
            Self::Media => "media",
            Self::ApiResponse => "api_response",
            Self::Page => "page",
            Self::Static => "static",
        }
    }
}

/// Typed cache keys. List pages are keyed by a hash of their parameters, so a long search
/// term never becomes a long key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CacheKey {
    /// A story by id.
    Story(String),
    /// A story's tree by story id.
    Tree(String),
    /// A list page by the hash of its parameters.
    StoryPage(u64),
}

impl CacheKey {
    /// The key of a list page with these (normalised) parameters.
    pub fn story_page(parts: &[&str]) -> Self {
        let mut h = std::hash::DefaultHasher::new();
        for p in parts {
            h.write(p.as_bytes());
            h.write_u8(0xff);
        }
        Self::StoryPage(h.finish())
    }
}

/// Cached values; `Arc`s, so a hit never copies a story or a tree.
#[derive(Debug, Clone)]
pub enum Cached {
    /// A story.
    Story(Arc<Story>),
    /// A tree.
    Tree(Arc<StoryTree>),
    /// A list page.
    Page(Arc<StoryPage>),
}

/// The app's cache.
pub type AppCache = TieredCache<CacheKey, Cached, Policy>;

/// Tag of everything derived from one story.
pub fn story_tag(id: &str) -> String {
    format!("story:{id}")
}

/// Tag of every list page.
pub const LIST_TAG: &str = "stories:list";
