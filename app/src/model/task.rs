//! Background tasks, notifications and exports as they travel over the wire.
//!
//! The queue itself lives in the server crate; these are the app's views of it, shared with
//! the WASM client (which cannot depend on the server crate).

use serde::{Deserialize, Serialize};

/// A task: `{"id","kind","status","priority","progress","message","attempts","error",
/// "created_at","started_at","finished_at","story_id","download"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskView {
    /// Opaque id.
    pub id: String,
    /// What it does, e.g. `story.export_pdf`.
    pub kind: String,
    /// `pending`, `running`, `completed`, `failed` or `cancelled`.
    pub status: String,
    /// `urgent`, `high`, `normal` or `low`.
    pub priority: String,
    /// 0-100.
    pub progress: u8,
    /// What it is doing (or did).
    pub message: String,
    /// Runs so far.
    pub attempts: u32,
    /// The last attempt's error.
    pub error: Option<String>,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339, last attempt.
    pub started_at: Option<String>,
    /// RFC 3339, once final.
    pub finished_at: Option<String>,
    /// The story the task is about, if any.
    pub story_id: Option<String>,
    /// Where to download what it produced, once completed (`/api/tasks/{id}/result`).
    pub download: Option<String>,
}

impl TaskView {
    /// Whether the task will not change any more.
    pub fn is_final(&self) -> bool {
        matches!(self.status.as_str(), "completed" | "failed" | "cancelled")
    }

    /// A short human name for the kind.
    pub fn label(&self) -> &'static str {
        kind_label(&self.kind)
    }
}

/// A short human name for a task kind.
pub fn kind_label(kind: &str) -> &'static str {
    match kind {
        "story.export_json" => "JSON export",
        "story.export_pdf" => "PDF export",
        "report" => "Report",
        "db.backup" => "Database backup",
        "maintenance" => "Maintenance",
        _ => "Task",
    }
}

/// `GET /api/tasks`: newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskList {
    /// The tasks.
    pub items: Vec<TaskView>,
    /// Pass as `before` for older tasks; `null` at the end.
    pub next_before: Option<String>,
}

/// Body of `POST /api/stories/{id}/exports`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportRequest {
    /// `json` or `pdf`.
    pub format: String,
}

/// Body of `POST /api/admin/session`: the admin token, to unlock this browser's session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminUnlock {
    /// `AION_ADMIN_TOKEN`.
    pub token: String,
}

/// Body of `POST /api/reports`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportRequest {
    /// One story; the whole library when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub story_id: Option<String>,
}

/// A notification: what a finished task tells the user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notification {
    /// Opaque id.
    pub id: String,
    /// `success` or `failure`.
    pub level: String,
    /// One line.
    pub title: String,
    /// Details.
    pub body: String,
    /// Where to go (a download or a page), if anywhere.
    pub link: Option<String>,
    /// The task it is about.
    pub task_id: Option<String>,
    /// RFC 3339.
    pub created_at: String,
    /// Whether the user has seen it.
    pub read: bool,
}

/// `GET /api/notifications`: newest first, with the unread count.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NotificationList {
    /// The latest notifications.
    pub items: Vec<Notification>,
    /// Unread notifications in total.
    pub unread: u64,
}

/// Body of `POST /api/notifications/read`: some ids, or all when `ids` is absent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarkRead {
    /// Notification ids; all when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ids: Option<Vec<String>>,
}

/// One message of the live stream `GET /api/events` (server-sent events).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LiveEvent {
    /// A task changed (progress, start, end).
    Task {
        /// The task's id.
        id: String,
        /// Its kind.
        kind: String,
        /// Its status after the change.
        status: String,
        /// 0-100.
        progress: u8,
        /// What it is doing.
        message: String,
        /// The error of a failed attempt.
        error: Option<String>,
    },
    /// A notification was created.
    Notification {
        /// The notification.
        notification: Notification,
        /// Unread notifications now.
        unread: u64,
    },
}

/// The versioned JSON export of a story, and the body `POST /api/stories/import` reads back.
/// See API.md ("Story export format").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoryExport {
    /// Always `aion.story`.
    pub format: String,
    /// Format version; this build writes and reads 1.
    pub version: u32,
    /// RFC 3339.
    pub exported_at: String,
    /// The story's fields.
    pub story: ExportedStory,
    /// Every node, depth-first, siblings by position; parents before children.
    pub nodes: Vec<ExportedNode>,
}

/// The story part of an export.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportedStory {
    /// The id it had where it was exported (an import gets a new one).
    pub id: String,
    /// 1-200 characters.
    pub title: String,
    /// Summary.
    pub summary: String,
    /// `draft`, `in_progress`, `completed` or `archived`.
    pub status: crate::model::StoryStatus,
    /// Tags.
    pub tags: Vec<String>,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub updated_at: String,
    /// The cover as it was uploaded; absent when the story has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cover: Option<ExportedCover>,
}

/// A story's cover in an export: the uploaded file, so that an import makes its variants
/// again from the original.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportedCover {
    /// `image/jpeg`, `image/png` or `image/webp`.
    pub content_type: String,
    /// The file, base64 (standard alphabet, padded).
    pub data: String,
}

/// A node of an export; `ref`/`parent_ref` are the ids it had where it was exported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportedNode {
    /// Its id in the exported story.
    #[serde(rename = "ref")]
    pub ref_: String,
    /// Its parent's `ref`; `null` at the top.
    pub parent_ref: Option<String>,
    /// Place among siblings.
    pub position: u32,
    /// What it is.
    pub kind: crate::model::NodeKind,
    /// Title.
    pub title: String,
    /// Content.
    pub content: String,
    /// Button text leading here.
    pub choice_label: Option<String>,
}

/// The export format name.
pub const EXPORT_FORMAT: &str = "aion.story";
/// The export format version this build writes and reads.
pub const EXPORT_VERSION: u32 = 1;

/// `GET /api/tasks/stats`: the queue measured on this server.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TaskStats {
    /// Pending tasks (the queue depth).
    pub pending: u64,
    /// Running tasks.
    pub running: u64,
    /// Completed tasks still kept.
    pub completed: u64,
    /// Failed tasks still kept.
    pub failed: u64,
    /// Cancelled tasks still kept.
    pub cancelled: u64,
    /// The bound on pending tasks (enqueue beyond it is a 503).
    pub max_pending: u64,
    /// Tasks finished (any final status) in the last minute.
    pub finished_last_minute: u64,
    /// Completed since start.
    pub completed_total: u64,
    /// Failed since start.
    pub failed_total: u64,
    /// Cancelled since start.
    pub cancelled_total: u64,
    /// Retries scheduled since start.
    pub retries_total: u64,
    /// Handler run time, mean (µs). Integers on purpose: the client then needs no float
    /// parsing or formatting code.
    pub run_mean_us: u64,
    /// Handler run time, p95 (µs).
    pub run_p95_us: u64,
    /// Due to claimed, p50 (µs).
    pub pickup_p50_us: u64,
    /// Due to claimed, p99 (µs).
    pub pickup_p99_us: u64,
    /// Workers.
    pub workers: u64,
}

/// Microseconds as milliseconds with one decimal, e.g. `12.3 ms`, by integer arithmetic.
pub fn millis(us: u64) -> String {
    format!("{}.{} ms", us / 1000, (us % 1000) / 100)
}

/// A count per minute as a rate per second with two decimals, by integer arithmetic.
pub fn per_second(per_minute: u64) -> String {
    let hundredths = per_minute * 100 / 60;
    format!("{}.{:02}", hundredths / 100, hundredths % 100)
}
