//! The app's cached reads: one [`Query`] per kind of data, keyed canonically, and what each
//! write invalidates.
//!
//! Keys: `story/{id}`, `tree/{id}`, `stories|{scope}|{status}|{sort}|{q}|{page}`. Story ids come
//! from the server in their canonical form (lowercase UUID), so one story has one key.
//! Writes invalidate through [`after_story_write`] and [`after_list_write`], so the next view
//! is fresh; views of the keys revalidate at once.

use std::sync::Arc;

use dioxus::fullstack::{Loader, Loading};
use dioxus::prelude::*;

use app::model::{ApiError, Node, Story, StoryPage, StoryTree};

use crate::{
    api,
    hooks::{
        hydrated::Hydrated,
        query::{Query, QueryClient},
    },
};

/// The filters a list was loaded with; empty strings mean "not set".
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ListFilters {
    /// Search term.
    pub q: String,
    /// Status filter.
    pub status: String,
    /// Sort order.
    pub sort: String,
    /// Which stories (`mine`, `shared`, `public`; empty: public and the writer's own).
    pub scope: String,
}

/// Stories per page of the list.
pub const PAGE: usize = 100;

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_owned())
}

/// One story.
pub fn story(id: String) -> Query<Arc<Story>> {
    Query::new(format!("story/{id}"), move || api::get_story(id.clone()))
}

/// One story's node tree.
pub fn tree(id: String) -> Query<Arc<StoryTree>> {
    Query::new(format!("tree/{id}"), move || {
        api::story_tree(id.clone(), None, None, None)
    })
}

/// Page `page` of the list with `filters`: through `cursor` (the previous page's end: the
/// same cost for every page) when it is known, else by offset (a jump).
pub fn stories_page(
    filters: &ListFilters,
    page: usize,
    cursor: Option<String>,
) -> Query<Arc<StoryPage>> {
    let key = format!(
        "stories|{}|{}|{}|{}|{page}",
        filters.scope, filters.status, filters.sort, filters.q
    );
    let f = filters.clone();
    Query::new(key, move || {
        let offset = match (&cursor, page) {
            (Some(_), _) | (None, 0) => None,
            (None, p) => Some((p * PAGE).to_string()),
        };
        api::list_stories(
            Some(PAGE.to_string()),
            cursor.clone(),
            offset,
            non_empty(&f.status),
            None,
            non_empty(&f.q),
            non_empty(&f.sort),
            non_empty(&f.scope),
        )
    })
}

/// A story and its tree, through the cache; what the reader and the editor show.
pub async fn story_with_tree(client: QueryClient, id: String) -> Result<StoryAndTree, ApiError> {
    let (story, tree) =
        futures_util::future::join(client.fetch(story(id.clone())), client.fetch(tree(id))).await;
    Ok((story?, tree?))
}

/// A story and its node tree.
pub type StoryAndTree = (Arc<Story>, Arc<StoryTree>);

/// Loader of a page showing a story and its tree: re-runs when the cache changes, and puts
/// the server-rendered pair into the cache on hydration.
#[allow(clippy::result_large_err)]
pub fn use_story_with_tree(
    id: ReadSignal<String>,
) -> Result<Loader<Hydrated<StoryAndTree>>, Loading> {
    let client = QueryClient::get();
    let data = use_loader(move || {
        client.subscribe();
        let load = story_with_tree(client, id());
        async move { load.await.map(Hydrated) }
    })?;
    let Hydrated((s, t)) = data();
    client.seed(&format!("story/{}", s.id), s.clone());
    client.seed(&format!("tree/{}", s.id), t);
    Ok(data)
}

/// Loads what the reader needs for story `id` into the cache.
pub fn prefetch_story(id: &str) {
    let client = QueryClient::get();
    client.prefetch(story(id.to_owned()));
    client.prefetch(tree(id.to_owned()));
}

/// A story (or its tree) changed: its views and every list load afresh.
pub fn after_story_write(id: &str) {
    let client = QueryClient::get();
    client.invalidate(&format!("story/{id}"));
    client.invalidate(&format!("tree/{id}"));
    after_list_write();
}

/// A node was saved: the cached tree shows the server's answer at once (no reload), and the
/// story (its word count and version changed) revalidates.
pub fn after_node_save(node: &Node) {
    let client = QueryClient::get();
    let saved = node.clone();
    client.update(
        &format!("tree/{}", node.story_id),
        move |tree: Arc<StoryTree>| {
            let mut tree = (*tree).clone();
            if let Some(n) = tree.nodes.iter_mut().find(|n| n.id == saved.id) {
                *n = saved;
            }
            Arc::new(tree)
        },
    );
    client.invalidate(&format!("story/{}", node.story_id));
    after_list_write();
}

/// Stories were created or deleted: every list loads afresh.
pub fn after_list_write() {
    QueryClient::get().invalidate("stories|");
}
