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
#[post("/api/stories/{id}/exports", state: app::backend::AppExt, session: Session)]
pub async fn start_export(id: String, body: JsonBody<ExportRequest>) -> Result<TaskView, ApiError> {
    state.start_export(&session, &id, &body.0.format).await
}

/// Starts a report of one story (`story_id`) or of the whole library.
#[post("/api/reports", state: app::backend::AppExt, session: Session)]
pub async fn start_report(body: JsonBody<ReportRequest>) -> Result<TaskView, ApiError> {
    state
        .start_report(&session, body.0.story_id.as_deref())
        .await
}

/// The caller's tasks (every task for an operator), newest first; `status` filters,
/// `before` (a task id from the previous page) pages.
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
#[get("/api/tasks/stats", state: app::backend::AppExt)]
pub async fn task_stats() -> Result<TaskStats, ApiError> {
    state.task_stats().await
}

/// One of the caller's tasks with its progress.
#[get("/api/tasks/{id}", state: app::backend::AppExt, viewer: Viewer)]
pub async fn get_task(id: String) -> Result<TaskView, ApiError> {
    super::private_answer();
    state.task(&viewer, &id).await
}

/// Cancels a task (pending: at once; running: as soon as it notices). Finished tasks stay.
#[post("/api/tasks/{id}/cancel", state: app::backend::AppExt, viewer: Viewer)]
pub async fn cancel_task(id: String) -> Result<TaskView, ApiError> {
    super::private_answer();
    state.cancel_task(&viewer, &id).await
}

/// The caller's latest notifications and unread count.
#[get("/api/notifications", state: app::backend::AppExt, viewer: Viewer)]
pub async fn list_notifications() -> Result<NotificationList, ApiError> {
    super::private_answer();
    state.notifications(&viewer).await
}

/// Marks the caller's notifications read (`{"ids":[...]}`, at most 500, or all with `{}`).
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
#[get("/api/events", state: app::backend::AppExt, session: Session, client: Option<axum::Extension<server::http::rate_limit::ClientAddress>>)]
pub async fn live_events() -> Result<ServerEvents<LiveEvent>, ApiError> {
    let address = client.map(|axum::Extension(c)| c.0);
    Ok(ServerEvents::from_stream(
        state.live_events(&session, address)?,
    ))
}

/// Creates a new story from a JSON export (format `aion.story`, version 1): all or nothing.
#[post("/api/stories/import", state: app::backend::AppExt, session: Session)]
pub async fn import_story(
    body: JsonBody<StoryExport, BATCH_BODY_LIMIT>,
) -> Result<Story, ApiError> {
    exports::import_story(&state, session.viewer(), &body.0, session.owner().as_str()).await
}
