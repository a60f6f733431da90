//! Node endpoints: the tree of a story (whole when small, in pages when large), its
//! outline, the view of one node, add one or many, edit, move, delete a subtree.
//!
//! Every read checks that the caller may read the story before anything is read or
//! cached, and marks a private story's answer `private, no-store`.

use std::sync::Arc;

use dioxus::prelude::*;

use app::model::{
    ApiError, BATCH_BODY_LIMIT, Deleted, JsonBody, MoveNode, NewNode, Node, NodeBatch,
    NodeBatchResult, NodePatch, NodeView, OutlinePage, StoryTree,
};
#[cfg(feature = "server")]
use app::{
    backend::{AppState, identity::Viewer, library::node_reads::TreeQuery},
    model::fields::Id,
};

/// The story `id` names, if `caller` may read it; a private story's answer is kept out of
/// shared caches.
#[cfg(feature = "server")]
async fn readable(state: &AppState, caller: &Viewer, id: &str) -> Result<Id, ApiError> {
    let id = Id::parse("id", id)?;
    let story = state.readable_story(caller, &id).await?;
    if story.visibility == app::model::Visibility::Private {
        super::private_answer();
    }
    Ok(id)
}

/// A story's tree, depth-first: whole for a story within 5,000 nodes and 2 MiB of text
/// when no parameter is given, otherwise one page (follow `next_cursor` while it is not
/// null). A bad parameter is a 400 naming it.
#[cfg_attr(feature = "server", utoipa::path(
    get, path = "/api/stories/{id}/tree", tag = "nodes",
    security((), ("session" = [])),
    params(("id" = String, Path, description = "The story's id (a UUID)."), crate::api::shapes::TreePageQuery),
    responses((status = 200, body = StoryTree))
))]
#[get("/api/stories/{id}/tree?limit&cursor&offset", state: app::backend::AppExt, caller: Viewer)]
pub async fn story_tree(
    id: String,
    limit: Option<String>,
    cursor: Option<String>,
    offset: Option<String>,
) -> Result<Arc<StoryTree>, ApiError> {
    let id = readable(&state, &caller, &id).await?;
    let query = TreeQuery {
        limit: limit.as_deref(),
        cursor: cursor.as_deref(),
        offset: offset.as_deref(),
    };
    Ok(Arc::new(state.tree_page(&id, query).await?))
}

/// A page of a story's outline: its nodes without content, depth-first, with depths.
#[cfg_attr(feature = "server", utoipa::path(
    get, path = "/api/stories/{id}/outline", tag = "nodes",
    security((), ("session" = [])),
    params(("id" = String, Path, description = "The story's id (a UUID)."), crate::api::shapes::OutlineQuery),
    responses((status = 200, body = OutlinePage))
))]
#[get("/api/stories/{id}/outline?limit&offset", state: app::backend::AppExt, caller: Viewer)]
pub async fn story_outline(
    id: String,
    limit: Option<String>,
    offset: Option<String>,
) -> Result<Arc<OutlinePage>, ApiError> {
    let id = readable(&state, &caller, &id).await?;
    let page = state
        .outline_page(&id, limit.as_deref(), offset.as_deref())
        .await?;
    Ok(Arc::new(page))
}

/// One node of a story with its path, its first 200 choices and the counts the editor
/// needs: node `node`, or without it the story's start (its first top-level node). 404
/// when `node` is not a node of this story, or the story has none yet (naming `node`).
#[cfg_attr(feature = "server", utoipa::path(
    get, path = "/api/stories/{id}/view", tag = "nodes",
    security((), ("session" = [])),
    params(("id" = String, Path, description = "The story's id (a UUID)."), crate::api::shapes::ViewQuery),
    responses((status = 200, body = NodeView))
))]
#[get("/api/stories/{id}/view?node", state: app::backend::AppExt, caller: Viewer)]
pub async fn node_view(id: String, node: Option<String>) -> Result<Arc<NodeView>, ApiError> {
    let id = readable(&state, &caller, &id).await?;
    let node = node
        .filter(|n| !n.is_empty())
        .map(|n| Id::parse("node", &n))
        .transpose()?;
    Ok(Arc::new(state.node_view(&id, node.as_ref()).await?))
}

/// Adds one node.
#[cfg_attr(feature = "server", utoipa::path(
    post, path = "/api/stories/{id}/nodes", tag = "nodes",
    security(("session" = [])),
    params(("id" = String, Path, description = "The story's id (a UUID).")),
    request_body = NewNode,
    responses(
        (
            status = 200,
            body = Node,
            links(
                ("GetNode" = (operation_id = "get_node", parameters(("id" = "$response.body#/id")))),
                ("UpdateNode" = (operation_id = "update_node", parameters(("id" = "$response.body#/id")))),
                ("MoveNode" = (operation_id = "move_node", parameters(("id" = "$response.body#/id")))),
                ("DeleteNode" = (operation_id = "delete_node", parameters(("id" = "$response.body#/id"))))
            )
        )
    )
))]
#[post("/api/stories/{id}/nodes", state: app::backend::AppExt, caller: Viewer)]
pub async fn create_node(id: String, body: JsonBody<NewNode>) -> Result<Node, ApiError> {
    state
        .create_node(&caller, &Id::parse("id", &id)?, &body.0)
        .await
}

/// Adds many nodes in one transaction: all or nothing.
#[cfg_attr(feature = "server", utoipa::path(
    post, path = "/api/stories/{id}/nodes/batch", tag = "nodes",
    security(("session" = [])),
    params(("id" = String, Path, description = "The story's id (a UUID).")),
    request_body = NodeBatch,
    responses((status = 200, body = NodeBatchResult))
))]
#[post("/api/stories/{id}/nodes/batch", state: app::backend::AppExt, caller: Viewer)]
pub async fn create_nodes(
    id: String,
    body: JsonBody<NodeBatch, BATCH_BODY_LIMIT>,
) -> Result<NodeBatchResult, ApiError> {
    state
        .create_nodes(&caller, &Id::parse("id", &id)?, &body.0)
        .await
}

/// One node.
#[cfg_attr(feature = "server", utoipa::path(
    get, path = "/api/nodes/{id}", tag = "nodes",
    security((), ("session" = [])),
    params(("id" = String, Path, description = "The node's id (a UUID).")),
    responses((status = 200, body = Node))
))]
#[get("/api/nodes/{id}", state: app::backend::AppExt, caller: Viewer)]
pub async fn get_node(id: String) -> Result<Node, ApiError> {
    state.node(&caller, &Id::parse("id", &id)?).await
}

/// Edits a node.
#[cfg_attr(feature = "server", utoipa::path(
    patch, path = "/api/nodes/{id}", tag = "nodes",
    security(("session" = [])),
    params(("id" = String, Path, description = "The node's id (a UUID).")),
    request_body = NodePatch,
    responses((status = 200, body = Node))
))]
#[patch("/api/nodes/{id}", state: app::backend::AppExt, caller: Viewer)]
pub async fn update_node(id: String, body: JsonBody<NodePatch>) -> Result<Node, ApiError> {
    state
        .update_node(&caller, &Id::parse("id", &id)?, &body.0)
        .await
}

/// Deletes a node and its subtree.
#[cfg_attr(feature = "server", utoipa::path(
    delete, path = "/api/nodes/{id}", tag = "nodes",
    security(("session" = [])),
    params(("id" = String, Path, description = "The node's id (a UUID).")),
    responses((status = 200, body = Deleted))
))]
#[delete("/api/nodes/{id}", state: app::backend::AppExt, caller: Viewer)]
pub async fn delete_node(id: String) -> Result<Deleted, ApiError> {
    state.delete_node(&caller, &Id::parse("id", &id)?).await
}

/// Re-parents or reorders a node.
#[cfg_attr(feature = "server", utoipa::path(
    post, path = "/api/nodes/{id}/move", tag = "nodes",
    security(("session" = [])),
    params(("id" = String, Path, description = "The node's id (a UUID).")),
    request_body = MoveNode,
    responses((status = 200, body = Node))
))]
#[post("/api/nodes/{id}/move", state: app::backend::AppExt, caller: Viewer)]
pub async fn move_node(id: String, body: JsonBody<MoveNode>) -> Result<Node, ApiError> {
    state
        .move_node(&caller, &Id::parse("id", &id)?, &body.0)
        .await
}
