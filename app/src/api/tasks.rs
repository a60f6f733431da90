//! Task endpoints: start exports and reports, list, follow, cancel; notifications; the live
//! event stream; story import. Downloads of results are a plain axum route
//! (`GET /api/tasks/{id}/result`, in `files`) because they are files, not JSON. Each is a
//! thin call of the feature that owns it (`backend::tasks`, `exports`, `notifications`).
//!
//! Tasks, their results, notifications and live events are private to the client session
//! that started the task (see `backend::identity`): starting one makes a session if the client
//! has none; reading shows only the session's own (everything to an operator).

use dioxus::fullstack::ServerEvents;
use dioxus::prelude::*;

#[cfg(feature = "server")]
use app::backend::{
    exports,
    identity::{Session, Viewer},
};
use app::model::{
    ApiError, BATCH_BODY_LIMIT, ExportRequest, JsonBody, LiveEvent, MarkRead, NotificationList,
    ReportRequest, Story, StoryExport, TaskList, TaskStats, TaskView,
};

/// Starts an export of a story: `{"format":"json"|"pdf"}`.
#[cfg_attr(feature = "server", utoipa::path(
    post, path = "/api/stories/{id}/exports", tag = "tasks",
    security((), ("session" = [])),
    params(("id" = String, Path, description = "The story's id (a UUID).")),
    request_body = ExportRequest,
    responses(
        (
            status = 200,
            description = "The task, pending.",
            body = TaskView,
            links(
                ("GetTask" = (operation_id = "get_task", parameters(("id" = "$response.body#/id")))),
                ("CancelTask" = (operation_id = "cancel_task", parameters(("id" = "$response.body#/id")))),
                ("TaskResult" = (operation_id = "task_result", parameters(("id" = "$response.body#/id"))))
            )
        )
    )
))]
#[post("/api/stories/{id}/exports", state: app::backend::AppExt, session: Session)]
pub async fn start_export(id: String, body: JsonBody<ExportRequest>) -> Result<TaskView, ApiError> {
    state.start_export(&session, &id, &body.0.format).await
}

/// Starts a report of one story (`story_id`) or of the whole library.
#[cfg_attr(feature = "server", utoipa::path(
    post, path = "/api/reports", tag = "tasks",
    security((), ("session" = [])),
    request_body = ReportRequest,
    responses(
        (
            status = 200,
            description = "The task, pending.",
            body = TaskView,
            links(
                ("GetTask" = (operation_id = "get_task", parameters(("id" = "$response.body#/id")))),
                ("CancelTask" = (operation_id = "cancel_task", parameters(("id" = "$response.body#/id")))),
                ("TaskResult" = (operation_id = "task_result", parameters(("id" = "$response.body#/id"))))
            )
        )
    )
))]
#[post("/api/reports", state: app::backend::AppExt, session: Session)]
pub async fn start_report(body: JsonBody<ReportRequest>) -> Result<TaskView, ApiError> {
    state
        .start_report(&session, body.0.story_id.as_deref())
        .await
}

/// The caller's tasks (every task for an operator), newest first; `status` filters,
/// `before` (a task id from the previous page) pages.
#[cfg_attr(feature = "server", utoipa::path(
    get, path = "/api/tasks", tag = "tasks",
    security((), ("session" = [])),
    params(crate::api::shapes::TaskListQuery),
    responses((status = 200, body = TaskList))
))]
#[get("/api/tasks?status&limit&before", state: app::backend::AppExt, viewer: Viewer)]
pub async fn list_tasks(
    status: Option<String>,
    limit: Option<String>,
    before: Option<String>,
) -> Result<TaskList, ApiError> {
    super::private_answer();
    state
        .list_tasks(
            &viewer,
            status.as_deref(),
            limit.as_deref(),
            before.as_deref(),
        )
        .await
}

/// The queue measured on this server.
#[cfg_attr(feature = "server", utoipa::path(
    get, path = "/api/tasks/stats", tag = "tasks",
    security((), ("session" = [])),
    responses((status = 200, body = TaskStats))
))]
#[get("/api/tasks/stats", state: app::backend::AppExt)]
pub async fn task_stats() -> Result<TaskStats, ApiError> {
    state.task_stats().await
}

/// One of the caller's tasks with its progress.
#[cfg_attr(feature = "server", utoipa::path(
    get, path = "/api/tasks/{id}", tag = "tasks",
    security((), ("session" = [])),
    params(("id" = String, Path, description = "The task's id.")),
    responses((status = 200, body = TaskView))
))]
#[get("/api/tasks/{id}", state: app::backend::AppExt, viewer: Viewer)]
pub async fn get_task(id: String) -> Result<TaskView, ApiError> {
    super::private_answer();
    state.task(&viewer, &id).await
}

/// Cancels a task (pending: at once; running: as soon as it notices). Finished tasks stay.
#[cfg_attr(feature = "server", utoipa::path(
    post, path = "/api/tasks/{id}/cancel", tag = "tasks",
    security((), ("session" = [])),
    params(("id" = String, Path, description = "The task's id.")),
    responses((status = 200, body = TaskView))
))]
#[post("/api/tasks/{id}/cancel", state: app::backend::AppExt, viewer: Viewer)]
pub async fn cancel_task(id: String) -> Result<TaskView, ApiError> {
    super::private_answer();
    state.cancel_task(&viewer, &id).await
}

/// The caller's latest notifications and unread count.
#[cfg_attr(feature = "server", utoipa::path(
    get, path = "/api/notifications", tag = "tasks",
    security((), ("session" = [])),
    responses((status = 200, body = NotificationList))
))]
#[get("/api/notifications", state: app::backend::AppExt, viewer: Viewer)]
pub async fn list_notifications() -> Result<NotificationList, ApiError> {
    super::private_answer();
    state.notifications(&viewer).await
}

/// Marks the caller's notifications read (`{"ids":[...]}`, at most 500, or all with `{}`).
#[cfg_attr(feature = "server", utoipa::path(
    post, path = "/api/notifications/read", tag = "tasks",
    security((), ("session" = [])),
    request_body = MarkRead,
    responses((status = 200, body = NotificationList))
))]
#[post("/api/notifications/read", state: app::backend::AppExt, viewer: Viewer)]
pub async fn mark_notifications_read(
    body: JsonBody<MarkRead>,
) -> Result<NotificationList, ApiError> {
    state
        .mark_notifications_read(&viewer, body.0.ids.as_deref())
        .await
}

/// Live events for open pages: progress of the caller's tasks and its new notifications
/// (server-sent events). Opening the stream makes a session if there is none, so that a
/// task the page starts next is followed live. Bounded per session and per client
/// address (429 past either), and ended after a while (the browser opens another).
#[cfg_attr(feature = "server", utoipa::path(
    get, path = "/api/events", tag = "tasks",
    security((), ("session" = [])),
    responses(
        (
            status = 200,
            description = "Server-sent events; each event's data is one JSON `LiveEvent`.",
            content_type = "text/event-stream",
            body = LiveEvent
        )
    )
))]
#[get("/api/events", state: app::backend::AppExt, session: Session, client: Option<axum::Extension<server::http::rate_limit::ClientAddress>>)]
pub async fn live_events() -> Result<ServerEvents<LiveEvent>, ApiError> {
    let address = client.map(|axum::Extension(c)| c.0);
    Ok(ServerEvents::from_stream(
        state.live_events(&session, address)?,
    ))
}

/// Creates a new story from a JSON export (format `aion.story`, version 1): all or nothing.
#[cfg_attr(feature = "server", utoipa::path(
    post, path = "/api/stories/import", tag = "stories",
    security(("session" = [])),
    request_body = StoryExport,
    responses((status = 200, description = "The new story.", body = Story))
))]
#[post("/api/stories/import", state: app::backend::AppExt, session: Session)]
pub async fn import_story(
    body: JsonBody<StoryExport, BATCH_BODY_LIMIT>,
) -> Result<Story, ApiError> {
    exports::import_story(&state, session.viewer(), &body.0, session.owner().as_str()).await
}
