//! The story library as the API sees it: reads go through the cache, writes go to the
//! store and then invalidate exactly the tags they affected, before the response is sent.
//!
//! Its parts: who may do what with a story ([`access`]: owners, collaborators,
//! visibility), stories in SQL ([`stories`]), nodes and their trees ([`nodes`]) and the bounded reads of them ([`node_reads`]), the
//! full-text index kept current in the background ([`search_index`]) and the read counts
//! ([`reads`]), and the editor's sharing panel ([`share_page`]). Every write takes the
//! caller and checks its role first.

pub mod access;
pub mod node_reads;
pub mod nodes;
pub mod reads;
pub mod search_index;
pub mod share_page;
pub mod stories;
pub mod story_list;

use std::sync::Arc;

use super::{
    AppState,
    cache::{CacheKind, Key, LIST_TAG, MEDIA_TAG, story_tag},
    identity::Viewer,
};
use crate::model::{
    ApiError, Deleted, MoveNode, NewNode, NewStory, Node, NodeBatch, NodeBatchResult, NodePatch,
    Story, StoryPage, StoryPatch, fields::Id,
};
use access::Role;
use story_list::StoryQuery;

impl AppState {
    /// Loads through the cache (or straight from the store when the cache is off), under
    /// the policy of the key's kind. An entry of another kind under the key (a corrupt
    /// shared-tier entry) is logged and read from the store instead.
    pub(super) async fn cached<V, F, Fut>(
        &self,
        key: Key<V>,
        tags: &[String],
        load: F,
    ) -> Result<V, ApiError>
    where
        V: CacheKind,
        F: Fn() -> Fut,
        Fut: Future<Output = Result<V, ApiError>>,
    {
        if !self.config().cache_enabled {
            return load().await;
        }
        let found = self
            .cache()
            .get_or_load(key.into_inner(), V::POLICY, tags, || async {
                load().await.map(V::into_cached)
            })
            .await?;
        match V::from_cached(found) {
            Some(v) => Ok(v),
            None => {
                tracing::error!("the cache held a value of another kind under a key");
                load().await
            }
        }
    }

    /// Invalidates what a write changed, in the data cache and the response cache, here
    /// and (with Redis) on every other instance before the write is answered.
    async fn invalidate(&self, story_id: Option<&str>) {
        self.invalidate_with(story_id, &[]).await;
    }

    /// [`Self::invalidate`] plus `extra` tags.
    async fn invalidate_with(&self, story_id: Option<&str>, extra: &[&str]) {
        let story = story_id.map(story_tag);
        let tags: Vec<&str> = story
            .iter()
            .map(String::as_str)
            .chain([LIST_TAG])
            .chain(extra.iter().copied())
            .collect();
        self.invalidate_everywhere(&tags).await;
    }

    /// After a story's cover changed: its cached forms and the list pages, here and on
    /// every other instance.
    pub async fn cover_changed(&self, story_id: &str) {
        self.invalidate_with(Some(story_id), &[MEDIA_TAG]).await;
    }

    /// One story. (Reads through the API are counted by the response cache's decision, which
    /// sees every request; see `backend::http::decide`.)
    pub async fn story(&self, id: &Id) -> Result<Arc<Story>, ApiError> {
        self.story_uncounted(id).await
    }

    async fn story_uncounted(&self, id: &Id) -> Result<Arc<Story>, ApiError> {
        let store = self.store();
        self.cached(
            Key::story(id.as_str()),
            &[story_tag(id.as_str())],
            || async { Ok(Arc::new(stories::get(store, id).await?)) },
        )
        .await
    }

    /// One page of the story list.
    pub async fn stories_page(&self, query: &StoryQuery) -> Result<Arc<StoryPage>, ApiError> {
        let limit = query.limit.map_or(0, |l| l.get()).to_string();
        let offset = query.offset.get().to_string();
        // Every parameter that changes the answer is in the key (a jump's offset once was
        // not, and its page was served for the first page for five minutes).
        let key = Key::story_page(&[
            &limit,
            &offset,
            query.cursor.as_deref().unwrap_or(""),
            query.status.map_or("", |s| s.as_str()),
            query.tag.as_deref().unwrap_or(""),
            query.q.as_ref().map_or("", |q| q.as_str()),
            query.sort.as_str(),
            query.scope.as_str(),
            query.account.as_deref().unwrap_or(""),
        ]);
        let store = self.store();
        self.cached(key, &[LIST_TAG.to_owned()], || async {
            Ok(Arc::new(story_list::list(store, query).await?))
        })
        .await
    }

    /// Creates a story owned by `caller` (private unless the input says otherwise).
    pub async fn create_story(&self, caller: &Viewer, input: &NewStory) -> Result<Story, ApiError> {
        let owner = access::owner_id(caller)?;
        let mut story = stories::create(self.store(), &owner, input).await?;
        self.invalidate(None).await;
        // The answer names the owner by handle, as every read does.
        story.owner = caller
            .account()
            .map_or_else(|| "demo".to_owned(), |a| a.handle.clone());
        Ok(story)
    }

    /// Changes a story: its fields for an editor, its visibility for the owner only.
    pub async fn update_story(
        &self,
        caller: &Viewer,
        id: &Id,
        patch: &StoryPatch,
    ) -> Result<Story, ApiError> {
        let needed = if patch.visibility.is_some() {
            Role::Owner
        } else {
            Role::Editor
        };
        self.story_for(caller, id, needed).await?;
        let story = stories::update(self.store(), id, patch).await?;
        self.invalidate(Some(id.as_str())).await;
        Ok(story)
    }

    /// Deletes a story and its tree (the owner only).
    pub async fn delete_story(&self, caller: &Viewer, id: &Id) -> Result<Deleted, ApiError> {
        self.story_for(caller, id, Role::Owner).await?;
        let deleted = stories::delete(self.store(), id).await?;
        // Its cover's variants may have gone with it.
        self.invalidate_with(Some(id.as_str()), &[MEDIA_TAG]).await;
        Ok(deleted)
    }

    /// How large a story may grow (`AION_STORY_MAX_NODES`, `AION_STORY_MAX_BYTES`).
    pub fn story_limits(&self) -> nodes::StoryLimits {
        nodes::StoryLimits {
            nodes: self.config().story_max_nodes,
            bytes: self.config().story_max_bytes,
        }
    }

    /// Drops what the caches knew that a story imported in one transaction changes (the
    /// lists it now appears in).
    pub(crate) async fn story_imported(&self, id: &Id) {
        self.invalidate(Some(id.as_str())).await;
    }

    /// Adds a node.
    pub async fn create_node(
        &self,
        caller: &Viewer,
        story_id: &Id,
        input: &NewNode,
    ) -> Result<Node, ApiError> {
        self.editable_story(caller, story_id).await?;
        let node = nodes::create(self.store(), story_id, input, self.story_limits()).await?;
        self.invalidate(Some(story_id.as_str())).await;
        Ok(node)
    }

    /// Adds many nodes.
    pub async fn create_nodes(
        &self,
        caller: &Viewer,
        story_id: &Id,
        batch: &NodeBatch,
    ) -> Result<NodeBatchResult, ApiError> {
        self.editable_story(caller, story_id).await?;
        let created =
            nodes::create_batch(self.store(), story_id, batch, self.story_limits()).await?;
        self.invalidate(Some(story_id.as_str())).await;
        Ok(created)
    }

    /// One node (not cached: the editor needs it fresh, and trees are the hot path), if
    /// `caller` may read its story.
    pub async fn node(&self, caller: &Viewer, id: &Id) -> Result<Node, ApiError> {
        let node = nodes::get(self.store(), id).await?;
        let story = Id::parse("story_id", &node.story_id)?;
        match self.readable_story(caller, &story).await {
            Ok(_) => Ok(node),
            // A node of a story the caller may not see does not exist for it.
            Err(e) if e.code() == crate::model::ErrorCode::NotFound => {
                Err(ApiError::not_found("node", id.as_str()))
            }
            Err(e) => Err(e),
        }
    }

    /// Whether `caller` may edit node `id`'s story (401, 403, or 404 naming the node when
    /// it may not even read it).
    async fn editable_node(&self, caller: &Viewer, id: &Id) -> Result<(), ApiError> {
        let node = nodes::get(self.store(), id).await?;
        let story = Id::parse("story_id", &node.story_id)?;
        match self.story_for(caller, &story, Role::Editor).await {
            Ok(_) => Ok(()),
            Err(e) if e.code() == crate::model::ErrorCode::NotFound => {
                Err(ApiError::not_found("node", id.as_str()))
            }
            Err(e) => Err(e),
        }
    }

    /// Edits a node.
    pub async fn update_node(
        &self,
        caller: &Viewer,
        id: &Id,
        patch: &NodePatch,
    ) -> Result<Node, ApiError> {
        self.editable_node(caller, id).await?;
        let node = nodes::update(self.store(), id, patch, self.story_limits()).await?;
        self.invalidate(Some(&node.story_id)).await;
        Ok(node)
    }

    /// Deletes a node and its subtree.
    pub async fn delete_node(&self, caller: &Viewer, id: &Id) -> Result<Deleted, ApiError> {
        self.editable_node(caller, id).await?;
        let deleted = nodes::delete(self.store(), id).await?;
        self.invalidate(Some(&deleted.story_id)).await;
        Ok(deleted)
    }

    /// Moves a node.
    pub async fn move_node(
        &self,
        caller: &Viewer,
        id: &Id,
        input: &MoveNode,
    ) -> Result<Node, ApiError> {
        self.editable_node(caller, id).await?;
        let node = nodes::move_node(self.store(), id, input).await?;
        self.invalidate(Some(&node.story_id)).await;
        Ok(node)
    }

    /// Loads the `n` most-read stories and their outlines into the cache; returns how many.
    pub async fn warm_up(&self, n: usize) -> Result<usize, ApiError> {
        use std::time::Duration;
        let Ok(_lock) = self
            .locks()
            .acquire("cache-warm-up", Duration::from_secs(300), Duration::ZERO)
            .await
        else {
            return Ok(0);
        };
        let ids = {
            let conn = self.store().read().await?;
            conn.query(
                "story.most_read",
                "SELECT id FROM stories ORDER BY read_count DESC, updated_at DESC LIMIT ?1",
                [n as i64],
                |r| r.get::<String>(0),
            )
            .await?
        };
        let mut warmed = 0;
        for id in ids {
            let id = Id::parse("id", &id)?;
            self.story_uncounted(&id).await?;
            self.outline(&id).await?;
            warmed += 1;
        }
        Ok(warmed)
    }
}
