//! The app's background work on the durable task queue: story exports (JSON, PDF), reports,
//! cover variants, database backups and maintenance, plus the views the API and pages show of tasks.
//!
//! Handlers hold only what they need (the store and directories), not the app state, so
//! the queue can be built before the state exists. Files are written under a temporary
//! name and renamed, so a task killed mid-write never leaves a file that looks finished,
//! and a rerun simply overwrites its own `task-{id}` file.

mod backup;
mod cover;
mod export_json;
mod maintenance;
mod pdf;
mod report;

use std::{
    path::{Path, PathBuf},
    sync::Arc,
};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use server::{
    store::Store,
    tasks::{Task, TaskContext, TaskError},
};

pub use backup::{Backup, BackupPayload, list_backups};
pub use cover::{CoverPayload, CoverVariants};
pub use export_json::{ExportJson, build_export, import_story};
pub use maintenance::{Maintenance, MaintenancePayload, Operation};
pub use pdf::ExportPdf;
pub use report::{Report, ReportPayload};

use super::{AppState, nodes, session::Viewer, stories, time::to_rfc3339};
use crate::model::{
    ApiError, ErrorCode, Story, StoryTree, TaskView,
    fields::{Id, TaskId},
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
    /// The app, for maintenance that works on its caches; set once the state exists.
    pub app: std::sync::OnceLock<super::state::WeakState>,
}

/// Shared by every handler.
pub type Env = Arc<JobEnv>;

/// Payload of tasks about one story.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoryPayload {
    /// The story.
    pub story_id: String,
}

/// What a task that wrote a file returns; stored as the task's result.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FileResult {
    /// File name inside the files directory.
    pub file: String,
    /// Size.
    pub bytes: u64,
    /// MIME type to serve it with.
    pub content_type: String,
    /// The name a browser saves it under.
    pub filename: String,
    /// Anything else worth keeping (counts, stats).
    #[serde(default)]
    pub details: Value,
}

impl FileResult {
    /// As the task's stored result.
    pub fn into_value(self) -> Result<Value, TaskError> {
        serde_json::to_value(self)
            .map_err(|e| TaskError::permanent("the task's result could not be recorded").detail(e))
    }
}

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

/// The story a task is about, and its whole tree.
pub async fn load_story(
    store: &Store,
    story_id: &str,
    ctx: &TaskContext,
) -> Result<(Story, StoryTree), TaskError> {
    let id = Id::parse("story_id", story_id)?;
    ctx.progress(2, "reading the story");
    Ok((
        stories::get(store, &id).await?,
        nodes::tree(store, &id).await?,
    ))
}

/// Writes `bytes` to `dir/name` atomically; the size.
pub fn write_file(dir: &Path, name: &str, bytes: &[u8]) -> Result<u64, TaskError> {
    let io = |e: std::io::Error| {
        TaskError::retryable(
            "the result file could not be written (the server's disk may be full); the task will be tried again",
        )
        .detail(format_args!("writing {}: {e}", dir.join(name).display()))
    };
    std::fs::create_dir_all(dir).map_err(io)?;
    let part = dir.join(format!("{name}.part"));
    std::fs::write(&part, bytes).map_err(io)?;
    std::fs::rename(&part, dir.join(name)).map_err(io)?;
    Ok(bytes.len() as u64)
}

/// A file name made from a title: letters, digits (any script) and dashes.
pub fn slug(title: &str) -> String {
    let mut out = String::new();
    for c in title.chars() {
        if c.is_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
        if out.chars().count() >= 60 {
            break;
        }
    }
    let out = out.trim_end_matches('-').to_owned();
    if out.is_empty() { "story".into() } else { out }
}

/// The task as the API shows it.
pub fn task_view(t: &Task) -> TaskView {
    let time = |ms: i64| to_rfc3339(ms * 1000);
    let download = (t.status == server::tasks::Status::Completed
        && t.result.as_ref().and_then(|r| r.get("file")).is_some())
    .then(|| format!("/api/tasks/{}/result", t.uid));
    TaskView {
        id: t.uid.clone(),
        kind: t.kind.clone(),
        status: t.status.as_str().to_owned(),
        priority: format!("{:?}", t.priority).to_lowercase(),
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

#[cfg(test)]
mod tests {
    use super::slug;

    #[test]
    fn slugs_keep_letters_of_any_script() {
        assert_eq!(slug("第1章 The Dark Forest!"), "第1章-The-Dark-Forest");
        assert_eq!(slug("  ??  "), "story");
    }
}
