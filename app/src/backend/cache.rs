//! What the app caches, under which policy, and which tags a write invalidates.
//!
//! One tiered cache holds stories, outlines (a tree without its content) and list pages (an enum value, so they share one
//! capacity and one set of statistics). Every entry carries `story:{id}` and/or
//! `stories:list`; a write invalidates exactly the tags of what it changed.
//!
//! With several instances, [`SharedValues`] is how entries cross to the shared (Redis)
//! tier: JSON compressed with zstd at level 1, a kind byte first. Measured on the demo
//! library (the API's JSON through `zstd -1`): a list page 17,937 → 3,857 bytes, a tree
//! 4,817 → 1,191, one story 354 → 329. JSON rather than a binary format because the model
//! types use `skip_serializing_if`, which positional formats cannot read back.

use std::{hash::Hasher, marker::PhantomData, sync::Arc, time::Duration};

use server::cache::{CachePolicy, SharedCodec, TieredCache};

use super::identity::SignedIn;
use crate::backend::library::nodes::outline::Outline;
use crate::model::{Story, StoryPage};

/// Kinds of cached data and their times to live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Policy {
    /// One story: 1 h.
    Story,
    /// A story's outline (its node tree without content): 30 min.
    NodeTree,
    /// Media (covers and their variants): 24 h.
    Media,
    /// An API response (list pages, HTTP response cache): 5 min.
    ApiResponse,
    /// A server-rendered page (HTTP response cache): 5 min; writes invalidate it by tag.
    Page,
    /// A signed-in session and its account: 2 h; sign-out and revocation invalidate it by
    /// tag on every instance.
    UserSession,
}

impl CachePolicy for Policy {
    const ALL: &'static [Self] = &[
        Self::Story,
        Self::NodeTree,
        Self::Media,
        Self::ApiResponse,
        Self::Page,
        Self::UserSession,
    ];

    fn ttl(&self) -> Duration {
        Duration::from_secs(match self {
            Self::Story => 3_600,
            Self::NodeTree => 1_800,
            Self::Media => 86_400,
            Self::ApiResponse | Self::Page => 300,
            Self::UserSession => 7_200,
        })
    }

    fn name(&self) -> &'static str {
        match self {
            Self::Story => "story",
            Self::NodeTree => "node_tree",
            Self::Media => "media",
            Self::ApiResponse => "api_response",
            Self::Page => "page",
            Self::UserSession => "user_session",
        }
    }
}

/// Typed cache keys. List pages are keyed by a hash of their parameters, so a long search
/// term never becomes a long key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CacheKey {
    /// A story by id.
    Story(String),
    /// A story's outline by story id.
    Outline(String),
    /// A list page by the hash of its parameters.
    StoryPage(u64),
    /// A cover variant by its canonical file name (`{hash}-{width}.{ext}`).
    Media(String),
    /// A signed-in session by the SHA-256 of its token.
    Session(String),
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

/// A key that can only hold values of kind `V`: made by the constructor of that kind, so
/// reading it back as another kind cannot be written (see [`CacheKind`]).
#[derive(Debug, Clone)]
pub struct Key<V> {
    key: CacheKey,
    kind: PhantomData<fn() -> V>,
}

impl<V> Key<V> {
    fn new(key: CacheKey) -> Self {
        Self {
            key,
            kind: PhantomData,
        }
    }

    /// The untyped key the tiers use.
    pub fn into_inner(self) -> CacheKey {
        self.key
    }
}

impl Key<Arc<Story>> {
    /// One story.
    pub fn story(id: &str) -> Self {
        Self::new(CacheKey::Story(id.to_owned()))
    }
}

impl Key<Arc<Outline>> {
    /// One story's outline.
    pub fn outline(story_id: &str) -> Self {
        Self::new(CacheKey::Outline(story_id.to_owned()))
    }
}

impl Key<Arc<StoryPage>> {
    /// A list page with these (normalised) parameters.
    pub fn story_page(parts: &[&str]) -> Self {
        Self::new(CacheKey::story_page(parts))
    }
}

impl Key<Arc<SignedIn>> {
    /// A session by the hex SHA-256 of its token.
    pub fn session(token_hash: &str) -> Self {
        Self::new(CacheKey::Session(token_hash.to_owned()))
    }
}

impl Key<axum::body::Bytes> {
    /// A cover variant by its canonical file name.
    pub fn media(name: &str) -> Self {
        Self::new(CacheKey::Media(name.to_owned()))
    }
}

/// A kind of value the data cache holds: its policy, and how it goes into the one enum the
/// tiers share (one capacity, one set of statistics) and comes back out.
pub trait CacheKind: Sized {
    /// Its time to live.
    const POLICY: Policy;
    /// Into the shared enum.
    fn into_cached(self) -> Cached;
    /// Out of it; `None` only for an entry of another kind under this kind's key, which
    /// only a corrupt shared-tier entry can be (its kind byte disagrees with its key).
    fn from_cached(cached: Cached) -> Option<Self>;
}

macro_rules! cache_kind {
    ($ty:ty, $variant:ident, $policy:ident) => {
        impl CacheKind for $ty {
            const POLICY: Policy = Policy::$policy;
            fn into_cached(self) -> Cached {
                Cached::$variant(self)
            }
            fn from_cached(cached: Cached) -> Option<Self> {
                match cached {
                    Cached::$variant(v) => Some(v),
                    _ => None,
                }
            }
        }
    };
}

cache_kind!(Arc<Story>, Story, Story);
cache_kind!(Arc<Outline>, Outline, NodeTree);
cache_kind!(Arc<StoryPage>, Page, ApiResponse);
cache_kind!(axum::body::Bytes, Media, Media);
cache_kind!(Arc<SignedIn>, Session, UserSession);

/// Cached values; `Arc`s, so a hit never copies a story or a tree.
#[derive(Debug, Clone)]
pub enum Cached {
    /// A story.
    Story(Arc<Story>),
    /// A story's outline.
    Outline(Arc<Outline>),
    /// A list page.
    Page(Arc<StoryPage>),
    /// A cover variant's bytes (immutable: its name is its content); `Bytes`, so a hit
    /// becomes a response body without a copy.
    Media(axum::body::Bytes),
    /// A signed-in session.
    Session(Arc<SignedIn>),
}

/// The app's cache.
pub type AppCache = TieredCache<CacheKey, Cached, Policy>;

/// Tag of everything derived from one story.
pub fn story_tag(id: &str) -> String {
    format!("story:{id}")
}

/// Tag of one session (its token's hash): sign-out and revocation.
pub fn session_tag(token_hash: &str) -> String {
    format!("session:{token_hash}")
}

/// Tag of every list page.
pub const LIST_TAG: &str = "stories:list";

/// Tag of every cached cover variant: invalidated when media may have been deleted (a
/// story or its cover removed), which is rare, so the whole set goes.
pub const MEDIA_TAG: &str = "media";

/// Keys and values of the app's cache as the shared tier keeps them.
pub struct SharedValues;

const STORY: u8 = 1;
// 2 was the whole tree, which is no longer cached.
const PAGE: u8 = 3;
const MEDIA: u8 = 4;
const SESSION: u8 = 5;
const OUTLINE: u8 = 6;

fn packed<T: serde::Serialize>(kind: u8, value: &T) -> Option<Vec<u8>> {
    let json = serde_json::to_vec(value).ok()?;
    let mut out = vec![kind];
    out.extend(zstd::bulk::compress(&json, 1).ok()?);
    Some(out)
}

fn unpacked<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Option<T> {
    // Limits what a corrupt or hostile entry can make this instance allocate.
    let json = zstd::bulk::decompress(bytes, 64 << 20).ok()?;
    serde_json::from_slice(&json).ok()
}

impl SharedCodec<CacheKey, Cached> for SharedValues {
    fn key(&self, key: &CacheKey) -> Option<String> {
        Some(match key {
            CacheKey::Story(id) => format!("story:{id}"),
            CacheKey::Outline(id) => format!("outline:{id}"),
            CacheKey::StoryPage(hash) => format!("list:{hash:016x}"),
            CacheKey::Media(name) => format!("media:{name}"),
            CacheKey::Session(hash) => format!("session:{hash}"),
        })
    }

    fn encode(&self, value: &Cached) -> Option<Vec<u8>> {
        match value {
            Cached::Story(s) => packed(STORY, &**s),
            Cached::Outline(o) => packed(OUTLINE, &**o),
            Cached::Page(p) => packed(PAGE, &**p),
            // Already compressed: stored as is.
            Cached::Media(m) => Some([&[MEDIA][..], m].concat()),
            Cached::Session(s) => packed(SESSION, &**s),
        }
    }

    fn decode(&self, bytes: &[u8]) -> Option<Cached> {
        let (kind, rest) = bytes.split_first()?;
        match *kind {
            STORY => unpacked(rest).map(|s| Cached::Story(Arc::new(s))),
            OUTLINE => unpacked(rest).map(|o| Cached::Outline(Arc::new(o))),
            PAGE => unpacked(rest).map(|p| Cached::Page(Arc::new(p))),
            MEDIA => Some(Cached::Media(axum::body::Bytes::copy_from_slice(rest))),
            SESSION => unpacked(rest).map(|s| Cached::Session(Arc::new(s))),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kind_comes_back_out_only_as_itself() {
        let bytes = axum::body::Bytes::from_static(b"webp");
        let cached = bytes.clone().into_cached();
        assert!(matches!(
            Key::media("a-1.webp").into_inner(),
            CacheKey::Media(_)
        ));
        assert_eq!(axum::body::Bytes::from_cached(cached.clone()), Some(bytes));
        assert!(<Arc<Story>>::from_cached(cached.clone()).is_none());
        assert!(<Arc<Outline>>::from_cached(cached).is_none());
        // What the shared tier sends back decodes to the kind its byte names.
        let codec = SharedValues;
        let packed = codec.encode(&Cached::Media(axum::body::Bytes::from_static(b"x")));
        let decoded = packed.and_then(|p| codec.decode(&p));
        assert!(decoded.is_some_and(|d| <Arc<StoryPage>>::from_cached(d).is_none()));
    }
}
