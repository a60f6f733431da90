//! Background tasks, notifications and exports as they travel over the wire.
//!
//! The queue itself lives in the server crate; these are the app's views of it, shared with
//! the WASM client (which cannot depend on the server crate).

use serde::{Deserialize, Serialize};

/// Where a task stands: `pending`, `running`, `completed`, `failed` or `cancelled` on the
/// wire (the queue's own names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TaskStatus {
    /// Waiting for its time and a free worker.
    Pending,
    /// Running now.
    Running,
    /// Finished with a result.
    Completed,
    /// Finished with an error after its last attempt.
    Failed,
    /// Stopped on request.
    Cancelled,
}

impl TaskStatus {
    /// Every status, in life order.
    pub const ALL: [TaskStatus; 5] = [
        Self::Pending,
        Self::Running,
        Self::Completed,
        Self::Failed,
        Self::Cancelled,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Running => "running",
            Self::Completed => "completed",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }

    /// From the wire name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// Whether a task in this status will not change any more.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Completed | Self::Failed | Self::Cancelled)
    }

    /// Whether it may still be cancelled.
    pub fn is_cancellable(self) -> bool {
        !self.is_final()
    }
}

impl std::fmt::Display for TaskStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How soon a task runs: `urgent`, `high`, `normal` or `low` on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Priority {
    /// Before everything else.
    Urgent,
    /// What a person waits for (exports, backups asked for by hand).
    High,
    /// The default.
    Normal,
    /// Work nobody waits for (cover variants).
    Low,
}

impl Priority {
    /// Every priority, most urgent first.
    pub const ALL: [Priority; 4] = [Self::Urgent, Self::High, Self::Normal, Self::Low];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Urgent => "urgent",
            Self::High => "high",
            Self::Normal => "normal",
            Self::Low => "low",
        }
    }

    /// From the wire name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

wire_name!(TaskStatus, "task status", TaskStatus::ALL, |s| {
    TaskStatus::parse(&s)
});
wire_name!(Priority, "priority", Priority::ALL, |s| Priority::parse(&s));
wire_name!(
    TaskKind,
    "task kind",
    TaskKind::ALL
        .into_iter()
        .chain([TaskKind::Other])
        .collect::<Vec<_>>(),
    |s| Some(TaskKind::parse(&s))
);

/// What a task does. The wire names are the queue's task kinds; a kind this build does not
/// know (a newer server's) reads as `Other`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TaskKind {
    /// A story as JSON.
    ExportJson,
    /// A story as a gamebook PDF.
    ExportPdf,
    /// Statistics of a story or of the library, as Markdown.
    Report,
    /// A copy of the database.
    Backup,
    /// An operator's maintenance run.
    Maintenance,
    /// The variants of an uploaded cover.
    CoverVariants,
    /// A kind this build does not know.
    Other,
}

impl TaskKind {
    /// Every kind this build runs.
    pub const ALL: [TaskKind; 6] = [
        Self::ExportJson,
        Self::ExportPdf,
        Self::Report,
        Self::Backup,
        Self::Maintenance,
        Self::CoverVariants,
    ];

    /// The wire name (the queue's kind).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::ExportJson => "story.export_json",
            Self::ExportPdf => "story.export_pdf",
            Self::Report => "report",
            Self::Backup => "db.backup",
            Self::Maintenance => "maintenance",
            Self::CoverVariants => "cover.variants",
            Self::Other => "other",
        }
    }

    /// From the wire name; unknown kinds are `Other`.
    pub fn parse(s: &str) -> Self {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .unwrap_or(Self::Other)
    }

    /// A short human name.
    pub fn label(self) -> &'static str {
        match self {
            Self::ExportJson => "JSON export",
            Self::ExportPdf => "PDF export",
            Self::Report => "Report",
            Self::Backup => "Database backup",
            Self::Maintenance => "Maintenance",
            Self::CoverVariants => "Cover images",
            Self::Other => "Task",
        }
    }

    /// Whether a completed task of this kind has a file to download ([`result_url`]).
    pub fn writes_file(self) -> bool {
        matches!(
            self,
            Self::ExportJson | Self::ExportPdf | Self::Report | Self::Backup
        )
    }
}

/// Where the file a completed task wrote is downloaded from.
pub fn result_url(task_id: &str) -> String {
    format!("/api/tasks/{task_id}/result")
}

/// A task: `{"id","kind","status","priority","progress","message","attempts","error",
/// "created_at","started_at","finished_at","story_id","download"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct TaskView {
    /// Opaque id.
    pub id: String,
    /// What it does.
    pub kind: TaskKind,
    /// Where it stands.
    pub status: TaskStatus,
    /// How soon it runs.
    pub priority: Priority,
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
    /// Where to download what it produced, once completed ([`result_url`]).
    pub download: Option<String>,
}

impl TaskView {
    /// Whether the task will not change any more.
    pub fn is_final(&self) -> bool {
        self.status.is_final()
    }

    /// A short human name for the kind.
    pub fn label(&self) -> &'static str {
        self.kind.label()
    }
}

/// `GET /api/tasks`: newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct TaskList {
    /// The tasks.
    pub items: Vec<TaskView>,
    /// Pass as `before` for older tasks; `null` at the end.
    pub next_before: Option<String>,
}

/// Body of `POST /api/stories/{id}/exports`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ExportRequest {
    /// `json` or `pdf`.
    #[cfg_attr(feature = "server", schema(pattern = "^(json|pdf)$"))]
    pub format: String,
}

/// Body of `POST /api/admin/session`: the admin token, to unlock this browser's session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AdminUnlock {
    /// `AION_ADMIN_TOKEN`.
    pub token: String,
}

/// Body of `POST /api/reports`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ReportRequest {
    /// One story; the whole library when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub story_id: Option<String>,
}

/// A notification: what a finished task tells the user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct NotificationList {
    /// The latest notifications.
    pub items: Vec<Notification>,
    /// Unread notifications in total.
    pub unread: u64,
}

/// Body of `POST /api/notifications/read`: some ids, or all when `ids` is absent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MarkRead {
    /// Notification ids; all when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ids: Option<Vec<String>>,
}

/// One message of the live stream `GET /api/events` (server-sent events).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LiveEvent {
    /// A task changed (progress, start, end).
    Task {
        /// The task's id.
        id: String,
        /// Its kind.
        kind: TaskKind,
        /// Its status after the change.
        status: TaskStatus,
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
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ExportedCover {
    /// `image/jpeg`, `image/png` or `image/webp`.
    pub content_type: String,
    /// The file, base64 (standard alphabet, padded).
    pub data: String,
}

/// A node of an export; `ref`/`parent_ref` are the ids it had where it was exported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ExportedNode {
    /// Its id in the exported story: `ref`, as API.md documents it (exports written before
    /// this was fixed say `ref_`, and are read too).
    #[serde(rename = "ref", alias = "ref_")]
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
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_state_keeps_its_wire_names() {
        for status in TaskStatus::ALL {
            let json = serde_json::to_value(status).expect("serialises");
            assert_eq!(json, status.as_str());
            assert_eq!(TaskStatus::parse(status.as_str()), Some(status));
        }
        for kind in TaskKind::ALL {
            let json = serde_json::to_value(kind).expect("serialises");
            assert_eq!(json, kind.as_str());
            assert_eq!(TaskKind::parse(kind.as_str()), kind);
            assert_ne!(kind.label(), "Task", "{kind:?} has a label");
        }
        let unknown: TaskKind = serde_json::from_str("\"story.export_epub\"").expect("reads");
        assert_eq!(unknown, TaskKind::Other);
        assert_eq!(
            serde_json::to_value(Priority::Urgent).expect("serialises"),
            "urgent"
        );
    }
}
