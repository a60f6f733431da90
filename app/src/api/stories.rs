//! Story endpoints: list (keyset pages, filters, search), create, read, update, delete.
//! Reads are served through the cache; writes invalidate what they change.
// The list takes one argument per documented query parameter, and the macro's generated
// client function repeats them.
#![allow(clippy::too_many_arguments)]

use std::sync::Arc;

use dioxus::prelude::*;

use app::model::{
    ApiError, Collaborators, Deleted, JsonBody, NewStory, ShareRequest, Story, StoryPage,
    StoryPatch,
};
#[cfg(feature = "server")]
use app::{
    backend::{identity::Viewer, library::story_list::StoryQuery},
    model::{Visibility, fields::Id},
};

/// A page of stories. All parameters are optional; bad values are a 400 naming the parameter.
/// `scope`: `public`, `mine`, `shared`, or none (public, and the caller's own when signed
/// in).
#[cfg_attr(feature = "server", utoipa::path(
    get, path = "/api/stories", tag = "stories",
    security((), ("session" = [])),
    params(crate::api::shapes::StoryListQuery),
    responses((status = 200, body = StoryPage))
))]
#[get("/api/stories?limit&cursor&offset&status&tag&q&sort&scope", state: app::backend::AppExt, caller: Viewer)]
pub async fn list_stories(
    limit: Option<String>,
    cursor: Option<String>,
    offset: Option<String>,
    status: Option<String>,
    tag: Option<String>,
    q: Option<String>,
    sort: Option<String>,
    scope: Option<String>,
) -> Result<Arc<StoryPage>, ApiError> {
    let query = StoryQuery::parse(
        limit.as_deref(),
        cursor.as_deref(),
        offset.as_deref(),
        status.as_deref(),
        tag.as_deref(),
        q.as_deref(),
        sort.as_deref(),
    )?
    .scoped(scope.as_deref(), caller.account().map(|a| a.id.as_str()))?;
    if query.is_personal() {
        super::private_answer();
    }
    state.stories_page(&query).await
}

/// Creates a story owned by the caller (a signed-in writer), private unless the body
/// says `"visibility": "public"`.
#[cfg_attr(feature = "server", utoipa::path(
    post, path = "/api/stories", tag = "stories",
    security(("session" = [])),
    request_body = NewStory,
    responses(
        (
            status = 200,
            description = "The story, as stored.",
            body = Story,
            links(
                ("GetStory" = (operation_id = "get_story", parameters(("id" = "$response.body#/id")))),
                ("UpdateStory" = (operation_id = "update_story", parameters(("id" = "$response.body#/id")))),
                ("DeleteStory" = (operation_id = "delete_story", parameters(("id" = "$response.body#/id")))),
                ("ListCollaborators" = (operation_id = "list_collaborators", parameters(("id" = "$response.body#/id")))),
                ("ShareStory" = (operation_id = "share_story", parameters(("id" = "$response.body#/id")))),
                ("StoryTree" = (operation_id = "story_tree", parameters(("id" = "$response.body#/id")))),
                ("StoryOutline" = (operation_id = "story_outline", parameters(("id" = "$response.body#/id")))),
                ("NodeView" = (operation_id = "node_view", parameters(("id" = "$response.body#/id")))),
                ("CreateNode" = (operation_id = "create_node", parameters(("id" = "$response.body#/id")))),
                ("CreateNodes" = (operation_id = "create_nodes", parameters(("id" = "$response.body#/id")))),
                ("StartExport" = (operation_id = "start_export", parameters(("id" = "$response.body#/id")))),
                ("Upload" = (operation_id = "upload", parameters(("id" = "$response.body#/id"))))
            )
        )
    )
))]
#[post("/api/stories", state: app::backend::AppExt, caller: Viewer)]
pub async fn create_story(body: JsonBody<NewStory>) -> Result<Story, ApiError> {
    super::private_answer();
    state.create_story(&caller, &body.0).await
}

/// One story (404 for a private story the caller may not read).
#[cfg_attr(feature = "server", utoipa::path(
    get, path = "/api/stories/{id}", tag = "stories",
    security((), ("session" = [])),
    params(("id" = String, Path, description = "The story's id (a UUID).")),
    responses((status = 200, body = Story))
))]
#[get("/api/stories/{id}", state: app::backend::AppExt, caller: Viewer)]
pub async fn get_story(id: String) -> Result<Arc<Story>, ApiError> {
    let story = state
        .readable_story(&caller, &Id::parse("id", &id)?)
        .await?;
    if story.visibility == Visibility::Private {
        super::private_answer();
    }
    Ok(story)
}

/// Changes the fields present in the body (`visibility`: the owner only).
#[cfg_attr(feature = "server", utoipa::path(
    patch, path = "/api/stories/{id}", tag = "stories",
    security(("session" = [])),
    params(("id" = String, Path, description = "The story's id (a UUID).")),
    request_body = StoryPatch,
    responses((status = 200, description = "The story, as stored.", body = Story))
))]
#[patch("/api/stories/{id}", state: app::backend::AppExt, caller: Viewer)]
pub async fn update_story(id: String, body: JsonBody<StoryPatch>) -> Result<Story, ApiError> {
    super::private_answer();
    state
        .update_story(&caller, &Id::parse("id", &id)?, &body.0)
        .await
}

/// Deletes a story and its whole tree (the owner only).
#[cfg_attr(feature = "server", utoipa::path(
    delete, path = "/api/stories/{id}", tag = "stories",
    security(("session" = [])),
    params(("id" = String, Path, description = "The story's id (a UUID).")),
    responses((status = 200, body = Deleted))
))]
#[delete("/api/stories/{id}", state: app::backend::AppExt, caller: Viewer)]
pub async fn delete_story(id: String) -> Result<Deleted, ApiError> {
    state.delete_story(&caller, &Id::parse("id", &id)?).await
}

/// The story's owner and collaborators (for anyone who may read it).
#[cfg_attr(feature = "server", utoipa::path(
    get, path = "/api/stories/{id}/collaborators", tag = "stories",
    security((), ("session" = [])),
    params(("id" = String, Path, description = "The story's id (a UUID).")),
    responses((status = 200, body = Collaborators))
))]
#[get("/api/stories/{id}/collaborators", state: app::backend::AppExt, caller: Viewer)]
pub async fn list_collaborators(id: String) -> Result<Collaborators, ApiError> {
    super::private_answer();
    state.collaborators(&caller, &Id::parse("id", &id)?).await
}

/// Shares the story with the writer `handle` as `editor` or `viewer` (the owner only).
#[cfg_attr(feature = "server", utoipa::path(
    put, path = "/api/stories/{id}/collaborators/{handle}", tag = "stories",
    security(("session" = [])),
    params(
        ("id" = String, Path, description = "The story's id (a UUID)."),
        ("handle" = String, Path, description = "The writer's handle.")
    ),
    request_body = ShareRequest,
    responses((status = 200, body = Collaborators))
))]
#[put("/api/stories/{id}/collaborators/{handle}", state: app::backend::AppExt, caller: Viewer)]
pub async fn share_story(
    id: String,
    handle: String,
    body: JsonBody<ShareRequest>,
) -> Result<Collaborators, ApiError> {
    super::private_answer();
    state
        .share(&caller, &Id::parse("id", &id)?, &handle, body.0.role)
        .await
}

/// Stops sharing the story with `handle` (the owner only).
#[cfg_attr(feature = "server", utoipa::path(
    delete, path = "/api/stories/{id}/collaborators/{handle}", tag = "stories",
    security(("session" = [])),
    params(
        ("id" = String, Path, description = "The story's id (a UUID)."),
        ("handle" = String, Path, description = "The writer's handle.")
    ),
    responses((status = 200, body = Collaborators))
))]
#[delete("/api/stories/{id}/collaborators/{handle}", state: app::backend::AppExt, caller: Viewer)]
pub async fn unshare_story(id: String, handle: String) -> Result<Collaborators, ApiError> {
    super::private_answer();
    state
        .unshare(&caller, &Id::parse("id", &id)?, &handle)
        .await
}
