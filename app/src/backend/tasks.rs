//! What every task kind shares: the environment handlers run in ([`JobEnv`]), the seam
//! through which they reach the running app's caches ([`AppCaches`]), the task as the API
//! shows it, who may see a task, and the sweep of old result files.
//!
//! Handlers hold only what they need (the store, directories, [`AppCaches`]), never the app
//! state, so the queue can be built before the state exists and no feature's task imports
//! the state. Each kind lives with its feature: exports and reports in
//! [`super::exports`], cover variants in [`super::media`], backups and maintenance in
//! [`super::ops`]; [`super::state`] registers them.

use std::{
    path::{Path, PathBuf},
    sync::Arc,
};

use futures_util::future::BoxFuture;
use serde_json::Value;
use server::tasks::{Status, Task, TaskError};

use super::{AppState, identity::Viewer, time::to_rfc3339};
use crate::model::{
    ApiError, ErrorCode, Priority, TaskKind, TaskStatus, TaskView, fields::TaskId, result_url,
};

impl AppState {
    /// A task just enqueued (by row id), as the API shows it.
    pub async fn task_view(&self, id: i64) -> Result<TaskView, ApiError> {
        let task = self
            .tasks()
            .get(id)
            .await?
            .ok_or_else(|| ApiError::not_found("task", &id.to_string()))?;
        Ok(task_view(&task))
    }

    /// The task with public id `raw` (request field `field`) if `viewer` may see it; 404
    /// otherwise, also for another client's task, whose existence is not revealed.
    pub async fn visible_task(
        &self,
        viewer: &Viewer,
        field: &str,
        raw: &str,
    ) -> Result<Task, ApiError> {
        let id = TaskId::parse(field, raw)?;
        match self.tasks().get_by_uid(id.as_str()).await? {
            Some(task) if viewer.can_see(task.owner.as_deref()) => Ok(task),
            _ => Err(ApiError::not_found("task", id.as_str())),
        }
    }
}

/// What every handler may use.
pub struct JobEnv {
    /// The database.
    pub store: server::store::Store,
    /// Where exports and reports go.
    pub files_dir: PathBuf,
    /// Where backups go.
    pub backup_dir: PathBuf,
    /// Backups kept.
    pub backup_keep: usize,
    /// The PDF font file.
    pub pdf_font: PathBuf,
    /// The app's caches, for handlers that change what they hold; set once the state exists.
    pub app: std::sync::OnceLock<Box<dyn AppCaches>>,
}

/// What task handlers may ask of the running app: its caches, here and on every instance.
/// The state implements it (holding itself weakly, since it owns the queue); while the
/// server starts or stops there is no app and these do nothing or fail as retryable.
pub trait AppCaches: Send + Sync {
    /// A story's cover changed: its cached forms and the list pages go.
    fn cover_changed<'a>(&'a self, story_id: &'a str) -> BoxFuture<'a, ()>;
    /// Empties every instance's caches.
    fn clear_all(&self) -> BoxFuture<'_, Result<(), ApiError>>;
    /// Loads the most-read stories into this instance's cache; how many.
    fn warm(&self) -> BoxFuture<'_, Result<usize, ApiError>>;
}

/// Shared by every handler.
pub type Env = Arc<JobEnv>;

impl From<ApiError> for TaskError {
    /// An API error met inside a handler: not-found and bad input never get better on
    /// retry; the rest (a busy database) may.
    fn from(e: ApiError) -> Self {
        match e.code() {
            ErrorCode::NotFound | ErrorCode::InvalidInput => TaskError::permanent(e.message()),
            _ => TaskError::retryable(e.message()),
        }
    }
}

/// The queue's status as the wire's.
pub fn status_of(status: Status) -> TaskStatus {
    match status {
        Status::Pending => TaskStatus::Pending,
        Status::Running => TaskStatus::Running,
        Status::Completed => TaskStatus::Completed,
        Status::Failed => TaskStatus::Failed,
        Status::Cancelled => TaskStatus::Cancelled,
    }
}

/// The task as the API shows it.
pub fn task_view(t: &Task) -> TaskView {
    let time = |ms: i64| to_rfc3339(ms * 1000);
    let download = (t.status == Status::Completed
        && t.result.as_ref().and_then(|r| r.get("file")).is_some())
    .then(|| result_url(&t.uid));
    TaskView {
        id: t.uid.clone(),
        kind: TaskKind::parse(&t.kind),
        status: status_of(t.status),
        priority: match t.priority {
            server::tasks::Priority::Urgent => Priority::Urgent,
            server::tasks::Priority::High => Priority::High,
            server::tasks::Priority::Normal => Priority::Normal,
            server::tasks::Priority::Low => Priority::Low,
        },
        progress: t.progress,
        message: t.message.clone(),
        attempts: t.attempts,
        error: t.error.clone(),
        created_at: time(t.created_at),
        started_at: t.started_at.map(time),
        finished_at: t.finished_at.map(time),
        story_id: t
            .payload
            .get("story_id")
            .and_then(Value::as_str)
            .map(str::to_owned),
        download,
    }
}

/// Deletes files of finished tasks older than `max_age` (their rows are cleaned up by the
/// queue on the same schedule); how many.
pub fn sweep_files(dir: &Path, max_age: std::time::Duration) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > max_age);
        if old && std::fs::remove_file(entry.path()).is_ok() {
            removed += 1;
        }
    }
    removed
}
