//! Node endpoints: the tree of a story, add one or many, edit, move, delete a subtree.

use std::sync::Arc;

use dioxus::prelude::*;

use app::model::{
    ApiError, BATCH_BODY_LIMIT, Deleted, JsonBody, MoveNode, NewNode, Node, NodeBatch,
    NodeBatchResult, NodePatch, StoryTree,
};
#[cfg(feature = "server")]
use app::{backend::identity::Viewer, model::fields::Id};

/// The whole tree of a story, depth-first.
#[cfg_attr(feature = "server", utoipa::path(
    get, path = "/api/stories/{id}/tree", tag = "nodes",
    security((), ("session" = [])),
    params(("id" = String, Path, description = "The story's id (a UUID).")),
    responses((status = 200, body = StoryTree))
))]
#[get("/api/stories/{id}/tree", state: app::backend::AppExt, caller: Viewer)]
pub async fn story_tree(id: String) -> Result<Arc<StoryTree>, ApiError> {
    let id = Id::parse("id", &id)?;
    let story = state.readable_story(&caller, &id).await?;
    if story.visibility == app::model::Visibility::Private {
        super::private_answer();
    }
    state.tree(&id).await
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
