//! Task endpoints: start exports and reports, list, follow, cancel; notifications; the live
//! event stream; story import; backups (admin). Downloads of results are a plain axum route
//! (`GET /api/tasks/{id}/result`, in the router) because they are files, not JSON.
//!
//! Tasks, their results, notifications and live events are private to the client session
//! that started the task (see `backend::identity`): starting one makes a session if the client
//! has none; reading shows only the session's own (everything to an operator).

use dioxus::fullstack::ServerEvents;
use dioxus::prelude::*;

use app::model::{
    ApiError, BATCH_BODY_LIMIT, ExportRequest, JsonBody, LiveEvent, MarkRead, NotificationList,
    ReportRequest, Story, StoryExport, TaskList, TaskStats, TaskView,
};
#[cfg(feature = "server")]
use app::{
    backend::{
        exports,
        identity::{Session, Viewer},
        notifications, tasks,
    },
    model::fields::{Id, Limit},
};
#[cfg(feature = "server")]
use server::tasks::{EnqueueOptions, Priority, Status, Visible};

/// Starts an export of a story: `{"format":"json"|"pdf"}`.
#[post("/api/stories/{id}/exports", state: app::backend::AppExt, session: Session)]
pub async fn start_export(id: String, body: JsonBody<ExportRequest>) -> Result<TaskView, ApiError> {
    let story = Id::parse("id", &id)?;
    state.story(&story).await?;
    let payload = exports::StoryPayload {
        story_id: story.as_str().to_owned(),
    };
    let options = EnqueueOptions::priority(Priority::High).owned_by(session.owner().as_str());
    let task = match body.0.format.as_str() {
        "json" => {
            state
                .tasks()
                .enqueue::<exports::ExportJson>(&payload, options)
                .await?
        }
        "pdf" => {
            state
                .tasks()
                .enqueue::<exports::ExportPdf>(&payload, options)
                .await?
        }
        _ => return Err(ApiError::invalid("format", "format must be json or pdf")),
    };
    state.task_view(task).await
}

/// Starts a report of one story (`story_id`) or of the whole library.
#[post("/api/reports", state: app::backend::AppExt, session: Session)]
pub async fn start_report(body: JsonBody<ReportRequest>) -> Result<TaskView, ApiError> {
    if let Some(id) = &body.0.story_id {
        state.story(&Id::parse("story_id", id)?).await?;
    }
    let payload = exports::ReportPayload {
        story_id: body.0.story_id.clone(),
    };
    let task = state
        .tasks()
        .enqueue::<exports::Report>(
            &payload,
            EnqueueOptions::default().owned_by(session.owner().as_str()),
        )
        .await?;
    state.task_view(task).await
}

/// The caller's tasks (every task for an operator), newest first; `status` filters,
/// `before` (a task id from the previous page) pages.
#[get("/api/tasks?status&limit&before", state: app::backend::AppExt, viewer: Viewer)]
pub async fn list_tasks(
    status: Option<String>,
    limit: Option<String>,
    before: Option<String>,
) -> Result<TaskList, ApiError> {
    let status = match status.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(Status::parse(s).ok_or_else(|| {
            ApiError::invalid(
                "status",
                "status must be pending, running, completed, failed or cancelled",
            )
        })?),
    };
    let limit = Limit::parse(limit.as_deref())?.get();
    let before = match before.as_deref().filter(|s| !s.is_empty()) {
        Some(b) => {
            let task = state
                .visible_task(&viewer, "before", b)
                .await
                .map_err(|e| {
                    if e.field().is_some() {
                        e
                    } else {
                        ApiError::invalid("before", "before must name a task of the previous page")
                    }
                })?;
            Some(task.id)
        }
        None => None,
    };
    let visible = match &viewer {
        Viewer::Operator => Visible::All,
        Viewer::Client(owner) => Visible::Owner(owner.as_str()),
        Viewer::Nobody => {
            return Ok(TaskList {
                items: Vec::new(),
                next_before: None,
            });
        }
    };
    let tasks = state.tasks().list(visible, status, limit, before).await?;
    let next_before = (tasks.len() == limit as usize)
        .then(|| tasks.last().map(|t| t.uid.clone()))
        .flatten();
    Ok(TaskList {
        items: tasks.iter().map(tasks::task_view).collect(),
        next_before,
    })
}

/// The queue measured on this server.
#[get("/api/tasks/stats", state: app::backend::AppExt)]
pub async fn task_stats() -> Result<TaskStats, ApiError> {
    task_stats_of(&state).await
}

/// The queue's statistics as the API shows them.
#[cfg(feature = "server")]
pub async fn task_stats_of(state: &app::backend::AppState) -> Result<TaskStats, ApiError> {
    let s = state.tasks().stats().await?;
    Ok(TaskStats {
        pending: s.count(Status::Pending),
        running: s.count(Status::Running),
        completed: s.count(Status::Completed),
        failed: s.count(Status::Failed),
        cancelled: s.count(Status::Cancelled),
        max_pending: s.max_pending,
        finished_last_minute: (s.throughput_per_sec * 60.0).round() as u64,
        completed_total: s.completed_total,
        failed_total: s.failed_total,
        cancelled_total: s.cancelled_total,
        retries_total: s.retries_total,
        run_mean_us: s.run_time.mean_us.round() as u64,
        run_p95_us: s.run_time.p95_us.round() as u64,
        pickup_p50_us: s.pickup.p50_us.round() as u64,
        pickup_p99_us: s.pickup.p99_us.round() as u64,
        workers: s.workers,
    })
}

/// One of the caller's tasks with its progress.
#[get("/api/tasks/{id}", state: app::backend::AppExt, viewer: Viewer)]
pub async fn get_task(id: String) -> Result<TaskView, ApiError> {
    Ok(tasks::task_view(
        &state.visible_task(&viewer, "id", &id).await?,
    ))
}

/// Cancels a task (pending: at once; running: as soon as it notices). Finished tasks stay.
#[post("/api/tasks/{id}/cancel", state: app::backend::AppExt, viewer: Viewer)]
pub async fn cancel_task(id: String) -> Result<TaskView, ApiError> {
    let task = state.visible_task(&viewer, "id", &id).await?;
    let task = state.tasks().cancel(task.id).await?;
    Ok(tasks::task_view(&task))
}

/// The caller's latest notifications and unread count.
#[get("/api/notifications", state: app::backend::AppExt, viewer: Viewer)]
pub async fn list_notifications() -> Result<NotificationList, ApiError> {
    notifications::list(state.store(), &viewer).await
}

/// Marks the caller's notifications read (`{"ids":[...]}`, at most 500, or all with `{}`).
#[post("/api/notifications/read", state: app::backend::AppExt, viewer: Viewer)]
pub async fn mark_notifications_read(
    body: JsonBody<MarkRead>,
) -> Result<NotificationList, ApiError> {
    notifications::mark_read(state.store(), &viewer, body.0.ids.as_deref()).await?;
    notifications::list(state.store(), &viewer).await
}

/// Live events for open pages: progress of the caller's tasks and its new notifications
/// (server-sent events). Opening the stream makes a session if there is none, so that a
/// task the page starts next is followed live.
#[get("/api/events", state: app::backend::AppExt, session: Session)]
pub async fn live_events() -> Result<ServerEvents<LiveEvent>, ApiError> {
    let mut rx = state.live().subscribe();
    let viewer = session.viewer();
    Ok(ServerEvents::new(move |mut tx| async move {
        loop {
            match rx.recv().await {
                Ok(message) if viewer.can_see(message.owner.as_deref()) => {
                    if tx.send(message.event).await.is_err() {
                        return; // the page went away
                    }
                }
                Ok(_) => continue,
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            }
        }
    }))
}

/// Creates a new story from a JSON export (format `aion.story`, version 1): all or nothing.
#[post("/api/stories/import", state: app::backend::AppExt, session: Session)]
pub async fn import_story(
    body: JsonBody<StoryExport, BATCH_BODY_LIMIT>,
) -> Result<Story, ApiError> {
    exports::import_story(&state, &body.0, session.owner().as_str()).await
}
