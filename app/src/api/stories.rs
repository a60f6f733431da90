//! Story endpoints: list (keyset pages, filters, search), create, read, update, delete.

use dioxus::prelude::*;

use app::model::{ApiError, Deleted, JsonBody, NewStory, Story, StoryPage, StoryPatch};
#[cfg(feature = "server")]
use app::{backend::stories, model::fields::Id};

/// A page of stories. All parameters are optional; bad values are a 400 naming the parameter.
#[get("/api/stories?limit&cursor&status&tag&q&sort", state: app::backend::AppExt)]
pub async fn list_stories(
    limit: Option<String>,
    cursor: Option<String>,
    status: Option<String>,
    tag: Option<String>,
    q: Option<String>,
    sort: Option<String>,
) -> Result<StoryPage, ApiError> {
    let query = stories::StoryQuery::parse(
        limit.as_deref(),
        cursor.as_deref(),
        status.as_deref(),
        tag.as_deref(),
        q.as_deref(),
        sort.as_deref(),
    )?;
    stories::list(state.store(), &query).await
}

/// Creates a story.
#[post("/api/stories", state: app::backend::AppExt)]
pub async fn create_story(body: JsonBody<NewStory>) -> Result<Story, ApiError> {
    stories::create(state.store(), &body.0).await
}

/// One story.
#[get("/api/stories/{id}", state: app::backend::AppExt)]
pub async fn get_story(id: String) -> Result<Story, ApiError> {
    stories::get(state.store(), &Id::parse("id", &id)?).await
}

/// Changes the fields present in the body.
#[patch("/api/stories/{id}", state: app::backend::AppExt)]
pub async fn update_story(id: String, body: JsonBody<StoryPatch>) -> Result<Story, ApiError> {
    stories::update(state.store(), &Id::parse("id", &id)?, &body.0).await
}

/// Deletes a story and its whole tree.
#[delete("/api/stories/{id}", state: app::backend::AppExt)]
pub async fn delete_story(id: String) -> Result<Deleted, ApiError> {
    stories::delete(state.store(), &Id::parse("id", &id)?).await
}
