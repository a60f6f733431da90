//! The app's cached reads: one [`Query`] per kind of data, keyed canonically, and what each
//! write invalidates.
//!
//! Keys: `story/{id}`, `view/{id}/{node}` (the reader; `""` for the start),
//! `edit/{id}/{node}` (the editor's form: the same view under its own key, so an autosave
//! does not reload the open form), `outline/{id}/{page}` (the editor's tree, [`OUTLINE_PAGE`]
//! rows a page), `stories|{scope}|{status}|{sort}|{q}|{page}`. Story ids come from the
//! server in their canonical form (lowercase UUID), so one story has one key. No view
//! loads a whole story: a page shows one node with its path and choices, the editor's
//! tree loads the outline page by page. Writes invalidate through [`after_story_write`]
//! and [`after_list_write`], so the next view is fresh; views of the keys revalidate at once.

use std::sync::Arc;

use dioxus::fullstack::{Loader, Loading};
use dioxus::prelude::*;
use serde::{Deserialize, Serialize};

use app::model::{ErrorCode, Node, NodeView, OutlinePage, Story, StoryPage};

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

/// The view of node `node` of story `id` (its start when `None`), under the reader's key
/// (`view`) or the editor's (`edit`).
pub fn view(kind: &'static str, id: String, node: Option<String>) -> Query<Arc<NodeView>> {
    let key = format!("{kind}/{id}/{}", node.as_deref().unwrap_or(""));
    Query::new(key, move || api::node_view(id.clone(), node.clone()))
}

/// Rows of an outline page.
pub const OUTLINE_PAGE: usize = 500;

/// Page `page` of story `id`'s outline.
pub fn outline(id: String, page: usize) -> Query<Arc<OutlinePage>> {
    Query::new(format!("outline/{id}/{page}"), move || {
        api::story_outline(
            id.clone(),
            Some(OUTLINE_PAGE.to_string()),
            Some((page * OUTLINE_PAGE).to_string()),
        )
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

/// What a story's pages load with the story: the reader the view of one node (`None` for
/// a node the story does not have, or a story without nodes), the editor the first page
/// of the outline. One type for both, so the client has one loader and one decoder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoryData {
    /// The story.
    pub story: Arc<Story>,
    /// The reader's node.
    pub view: Option<Arc<NodeView>>,
    /// The editor's first outline page.
    pub outline: Option<Arc<OutlinePage>>,
}

/// Loader of a story's page: the story, and the view of `node` (its start when `None`)
/// or, with `outline`, the first page of its outline. It re-runs when the cache changes,
/// and puts the server-rendered values into the cache on hydration.
#[allow(clippy::result_large_err)]
pub fn use_story_data(
    id: ReadSignal<String>,
    node: ReadSignal<Option<String>>,
    outline: bool,
) -> Result<Loader<Hydrated<StoryData>>, Loading> {
    let client = QueryClient::get();
    let data = use_loader(move || {
        client.subscribe();
        let (id, node) = (id(), node());
        let story = client.fetch(story(id.clone()));
        let view = (!outline).then(|| client.fetch(view("view", id.clone(), node)));
        let first = outline.then(|| client.fetch(self::outline(id, 0)));
        async move {
            let story = story.await?;
            let view = match view {
                None => None,
                Some(v) => match v.await {
                    Ok(v) => Some(v),
                    Err(e) if e.code() == ErrorCode::NotFound => None,
                    Err(e) => return Err(e),
                },
            };
            let outline = match first {
                None => None,
                Some(o) => Some(o.await?),
            };
            Ok(Hydrated(StoryData {
                story,
                view,
                outline,
            }))
        }
    })?;
    // Seeded under the keys the values name (the loader may still hold the previous
    // node's view while the next one loads): the node's own, and the start's when it is
    // the first top-level node.
    let d = data().0;
    let id = &d.story.id;
    client.seed(&format!("story/{id}"), d.story.clone());
    if let Some(v) = d.view {
        if v.node.parent_id.is_none() && v.node.position == 0 {
            client.seed(&format!("view/{id}/"), v.clone());
        }
        client.seed(&format!("view/{id}/{}", v.node.id), v);
    }
    if let Some(o) = d.outline {
        client.seed(&format!("outline/{id}/0"), o);
    }
    Ok(data)
}

/// Loads what the reader needs for story `id` into the cache: the story and its start.
pub fn prefetch_story(id: &str) {
    let client = QueryClient::get();
    client.prefetch(story(id.to_owned()));
    client.prefetch(view("view", id.to_owned(), None));
}

/// A story or its nodes changed: its views and every list load afresh.
pub fn after_story_write(id: &str) {
    let client = QueryClient::get();
    for kind in ["story", "view", "edit", "outline"] {
        client.invalidate(&format!("{kind}/{id}"));
    }
    after_list_write();
}

/// A node was saved: the editor's form keeps the server's answer (no reload), the outline
/// row shows its new title and kind at once, and the story (its word count and version
/// changed) and the reader's views revalidate.
pub fn after_node_save(node: &Node) {
    let client = QueryClient::get();
    let saved = node.clone();
    client.update(
        &format!("edit/{}/{}", node.story_id, node.id),
        move |view: Arc<NodeView>| {
            let mut view = (*view).clone();
            view.node = saved;
            Arc::new(view)
        },
    );
    for page in 0..=MAX_OUTLINE_PAGES {
        let saved = node.clone();
        client.update(
            &format!("outline/{}/{page}", node.story_id),
            move |page: Arc<OutlinePage>| {
                let mut page = (*page).clone();
                if let Some(row) = page.rows.iter_mut().find(|r| r.id == saved.id) {
                    row.title = saved.title;
                    row.kind = saved.kind;
                    row.choice_label = saved.choice_label;
                }
                Arc::new(page)
            },
        );
    }
    client.invalidate(&format!("story/{}", node.story_id));
    client.invalidate(&format!("view/{}", node.story_id));
    after_list_write();
}

/// Outline pages a story can have (50,000 nodes in pages of [`OUTLINE_PAGE`]).
const MAX_OUTLINE_PAGES: usize = 100;

/// Stories were created or deleted: every list loads afresh.
pub fn after_list_write() {
    QueryClient::get().invalidate("stories|");
}
