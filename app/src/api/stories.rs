//! Story endpoints: list (keyset pages, filters, search), create, read, update, delete.
//! Reads are served through the cache; writes invalidate what they change.

use std::sync::Arc;

use dioxus::prelude::*;

use app::model::{ApiError, Deleted, JsonBody, NewStory, Story, StoryPage, StoryPatch};
#[cfg(feature = "server")]
use app::{backend::library::story_list::StoryQuery, model::fields::Id};

/// A page of stories. All parameters are optional; bad values are a 400 naming the parameter.
#[allow(clippy::too_many_arguments)] // one per documented query parameter
#[get("/api/stories?limit&cursor&offset&status&tag&q&sort", state: app::backend::AppExt)]
pub async fn list_stories(
    limit: Option<String>,
    cursor: Option<String>,
    offset: Option<String>,
    status: Option<String>,
    tag: Option<String>,
    q: Option<String>,
    sort: Option<String>,
) -> Result<Arc<StoryPage>, ApiError> {
    let query = StoryQuery::parse(
        limit.as_deref(),
        cursor.as_deref(),
        offset.as_deref(),
        status.as_deref(),
        tag.as_deref(),
        q.as_deref(),
        sort.as_deref(),
    )?;
    state.stories_page(&query).await
}

/// Creates a story.
#[post("/api/stories", state: app::backend::AppExt)]
pub async fn create_story(body: JsonBody<NewStory>) -> Result<Story, ApiError> {
    state.create_story(&body.0).await
}

/// One story.
#[get("/api/stories/{id}", state: app::backend::AppExt)]
pub async fn get_story(id: String) -> Result<Arc<Story>, ApiError> {
    state.story(&Id::parse("id", &id)?).await
}

/// Changes the fields present in the body.
#[patch("/api/stories/{id}", state: app::backend::AppExt)]
pub async fn update_story(id: String, body: JsonBody<StoryPatch>) -> Result<Story, ApiError> {
    state.update_story(&Id::parse("id", &id)?, &body.0).await
}

/// Deletes a story and its whole tree.
#[delete("/api/stories/{id}", state: app::backend::AppExt)]
pub async fn delete_story(id: String) -> Result<Deleted, ApiError> {
    state.delete_story(&Id::parse("id", &id)?).await
}
