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
use server::tasks::{Status, Task, TaskError, Visible};

use super::{
    AppState,
    identity::{Sees, Viewer},
    time::to_rfc3339,
};
use crate::model::{
    ApiError, ErrorCode, Priority, TaskKind, TaskList, TaskStats, TaskStatus, TaskView,
    fields::{Limit, TaskId},
    result_url,
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

    /// The caller's tasks (every task for an operator), newest first; `status` filters,
    /// `before` (a task id from the previous page) pages.
    pub async fn list_tasks(
        &self,
        viewer: &Viewer,
        status: Option<&str>,
        limit: Option<&str>,
        before: Option<&str>,
    ) -> Result<TaskList, ApiError> {
        let status = match status.filter(|s| !s.is_empty()) {
            None => None,
            Some(s) => Some(Status::parse(s).ok_or_else(|| {
                ApiError::invalid(
                    "status",
                    "status must be pending, running, completed, failed or cancelled",
                )
            })?),
        };
        let limit = Limit::parse(limit)?.get();
        let before = match before.filter(|s| !s.is_empty()) {
            Some(b) => Some(self.page_end(viewer, b).await?),
            None => None,
        };
        let sees = viewer.sees();
        let visible = match &sees {
            Sees::All => Visible::All,
            Sees::Own(owner) => Visible::Owner(owner.as_str()),
            Sees::Nothing => {
                return Ok(TaskList {
                    items: Vec::new(),
                    next_before: None,
                });
            }
        };
        let tasks = self.tasks().list(visible, status, limit, before).await?;
        let next_before = (tasks.len() == limit as usize)
            .then(|| tasks.last().map(|t| t.uid.clone()))
            .flatten();
        Ok(TaskList {
            items: tasks.iter().map(task_view).collect(),
            next_before,
        })
    }

    /// The row id of the task a page of the list ended with (`before`).
    async fn page_end(&self, viewer: &Viewer, raw: &str) -> Result<i64, ApiError> {
        let task = self
            .visible_task(viewer, "before", raw)
            .await
            .map_err(|e| {
                if e.field().is_some() {
                    e
                } else {
                    ApiError::invalid("before", "before must name a task of the previous page")
                }
            })?;
        Ok(task.id)
    }

    /// One of the caller's tasks (any task for an operator) with its progress.
    pub async fn task(&self, viewer: &Viewer, raw: &str) -> Result<TaskView, ApiError> {
        Ok(task_view(&self.visible_task(viewer, "id", raw).await?))
    }

    /// Cancels one of the caller's tasks (pending: at once; running: as soon as it
    /// notices); finished tasks stay as they are.
    pub async fn cancel_task(&self, viewer: &Viewer, raw: &str) -> Result<TaskView, ApiError> {
        let task = self.visible_task(viewer, "id", raw).await?;
        Ok(task_view(&self.tasks().cancel(task.id).await?))
    }

    /// The queue measured on this server, as the API shows it.
    pub async fn task_stats(&self) -> Result<TaskStats, ApiError> {
        let s = self.tasks().stats().await?;
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
    /// What image work may hold in memory at once (shared with uploads).
    pub images: super::media::budget::ImageBudget,
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
/// queue on the same schedule); how many. Only the tasks' own files (`task-…`, and the
/// `.part` of one cut short): pointed at a directory that holds anything else (the
/// database's, by mistake), it leaves the rest alone.
pub fn sweep_files(dir: &Path, max_age: std::time::Duration) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let ours = name.to_str().is_some_and(|n| {
            n.starts_with("task-")
                && [
                    ".json",
                    ".pdf",
                    ".md",
                    ".json.part",
                    ".pdf.part",
                    ".md.part",
                ]
                .iter()
                .any(|ext| n.ends_with(ext))
        });
        if !ours {
            continue;
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sweeping_removes_old_task_files_only() {
        let dir = std::env::temp_dir().join(format!("aion-sweep-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let long_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(7200);
        let old = |name: &str| {
            let path = dir.join(name);
            std::fs::write(&path, b"x").expect("write");
            std::fs::File::options()
                .write(true)
                .open(&path)
                .and_then(|f| f.set_modified(long_ago))
                .expect("backdated");
        };
        for name in ["task-1.json", "task-2.pdf", "task-3.md", "task-4.json.part"] {
            old(name);
        }
        // Not the tasks': a database and its log that happen to live here, an unknown file.
        for name in ["aion.db", "aion.db-wal", "notes.json"] {
            old(name);
        }
        std::fs::write(dir.join("task-5.json"), b"new").expect("write");
        let removed = sweep_files(&dir, std::time::Duration::from_secs(3600));
        let mut left: Vec<String> = std::fs::read_dir(&dir)
            .expect("read")
            .flatten()
            .filter_map(|e| e.file_name().into_string().ok())
            .collect();
        left.sort();
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(removed, 4);
        assert_eq!(
            left,
            ["aion.db", "aion.db-wal", "notes.json", "task-5.json"]
        );
    }
}
