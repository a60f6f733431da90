//! The task row and the values around it: status, priority, options, events, stats, errors.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{metrics::HistogramSnapshot, store::StoreError};

/// Where a task is in its life. Completed, failed and cancelled are final.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Waiting for `run_at` and a free worker.
    Pending,
    /// Held by a worker under a lease.
    Running,
    /// Finished with a result.
    Completed,
    /// Finished with an error after its last attempt.
    Failed,
    /// Stopped on request; never completes afterwards.
    Cancelled,
}

impl Status {
    /// Every status, in life order.
    pub const ALL: [Status; 5] = [
        Status::Pending,
        Status::Running,
        Status::Completed,
        Status::Failed,
        Status::Cancelled,
    ];

    /// The name stored in the row.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Running => "running",
            Status::Completed => "completed",
            Status::Failed => "failed",
            Status::Cancelled => "cancelled",
        }
    }

    /// Parses a stored or user-given name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// Whether the task will not change any more.
    pub fn is_final(self) -> bool {
        matches!(self, Status::Completed | Status::Failed | Status::Cancelled)
    }
}

/// Claim order: lower runs first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    /// 0
    Urgent = 0,
    /// 1
    High = 1,
    /// 2, the default.
    #[default]
    Normal = 2,
    /// 3
    Low = 3,
}

impl Priority {
    /// From the stored number; out-of-range values read as `Low`.
    pub fn from_i64(n: i64) -> Self {
        match n {
            0 => Priority::Urgent,
            1 => Priority::High,
            2 => Priority::Normal,
            _ => Priority::Low,
        }
    }
}

/// How a task is enqueued.
#[derive(Debug, Clone, Default)]
pub struct EnqueueOptions {
    /// Claim order.
    pub priority: Priority,
    /// Not before this many milliseconds from now.
    pub delay_ms: i64,
    /// Retries after the first attempt; the queue's default when `None`.
    pub max_retries: Option<u32>,
    /// Who may see the task: an opaque string the caller chooses (the app stores a hash of
    /// the client's session). Kept with the task and its events; the queue filters by it,
    /// and bounds how many of an owner's tasks wait ([`super::TaskConfig::max_pending_per_owner`]).
    pub owner: Option<String>,
    /// May take the places kept back from everyone else
    /// ([`super::TaskConfig::reserved_pending`]) and is not counted against its owner's
    /// share: for an operator's work, which must not be crowded out by clients'.
    pub reserved: bool,
    /// Not counted against its owner's share: work that follows from a write already
    /// allowed (a cover's variants), which a full share must not leave half done.
    pub uncounted: bool,
    /// Added only if no task of its kind was added in the last this many milliseconds (0:
    /// always), checked in the same statement on the one database every instance shares:
    /// for a schedule each instance keeps, so that one task runs per interval, not one per
    /// instance.
    pub once_within_ms: i64,
}

impl EnqueueOptions {
    /// Options with this priority.
    pub fn priority(priority: Priority) -> Self {
        Self {
            priority,
            ..Self::default()
        }
    }

    /// The same options for `owner`.
    pub fn owned_by(mut self, owner: impl Into<String>) -> Self {
        self.owner = Some(owner.into());
        self
    }

    /// The same options, not counted against the owner's share (see [`Self::uncounted`]).
    pub fn uncounted(mut self) -> Self {
        self.uncounted = true;
        self
    }

    /// The same options, added only if no task of the kind was added in the last `within`
    /// (see [`Self::once_within_ms`]).
    pub fn once_within(mut self, within: std::time::Duration) -> Self {
        self.once_within_ms = i64::try_from(within.as_millis()).unwrap_or(i64::MAX);
        self
    }

    /// The same options, allowed the reserved places (see [`Self::reserved`]).
    pub fn reserved(mut self) -> Self {
        self.reserved = true;
        self
    }
}

/// One task as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Task {
    /// Row id: internal, sequential, never shown to clients.
    pub id: i64,
    /// The public id: a UUIDv7 made at enqueue, 74 of its bits random, so it can be shown
    /// without revealing how many tasks exist or letting anyone guess another's.
    pub uid: String,
    /// Who may see it (see [`EnqueueOptions::owner`]).
    pub owner: Option<String>,
    /// Handler kind.
    pub kind: String,
    /// Handler input.
    pub payload: Value,
    /// Where it is.
    pub status: Status,
    /// Claim order.
    pub priority: Priority,
    /// Runs so far (including one in progress).
    pub attempts: u32,
    /// Retries allowed after the first attempt.
    pub max_retries: u32,
    /// Not claimed before (ms since epoch).
    pub run_at: i64,
    /// Enqueued (ms since epoch).
    pub created_at: i64,
    /// Last attempt started (ms since epoch).
    pub started_at: Option<i64>,
    /// Reached a final status (ms since epoch).
    pub finished_at: Option<i64>,
    /// 0-100, as last reported.
    pub progress: u8,
    /// What the handler last said it is doing.
    pub message: String,
    /// The handler's output, once completed.
    pub result: Option<Value>,
    /// The last attempt's error.
    pub error: Option<String>,
    /// A cancel was asked for while it ran.
    pub cancel_requested: bool,
}

/// A change pushed live to subscribers (progress, start, end).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskEvent {
    /// Task id (row id).
    pub id: i64,
    /// The public id.
    pub uid: String,
    /// Who may see it.
    pub owner: Option<String>,
    /// Handler kind.
    pub kind: String,
    /// Status after the change.
    pub status: Status,
    /// 0-100.
    pub progress: u8,
    /// Handler's message.
    pub message: String,
    /// Error of a failed attempt.
    pub error: Option<String>,
}

/// Counts and timings for the dashboard and /metrics.
#[derive(Debug, Clone, Default, Serialize)]
pub struct QueueStats {
    /// Rows per status, in [`Status::ALL`] order.
    pub by_status: Vec<(Status, u64)>,
    /// Pending tasks (due now or later).
    pub depth: u64,
    /// The bound on pending tasks.
    pub max_pending: u64,
    /// Tasks finished (any final status) by this process in the last 60 s, per second.
    pub throughput_per_sec: f64,
    /// Completed by this process since start.
    pub completed_total: u64,
    /// Failed after the last attempt, since start.
    pub failed_total: u64,
    /// Cancelled, since start.
    pub cancelled_total: u64,
    /// Attempts that failed and were scheduled again, since start.
    pub retries_total: u64,
    /// Handler run time of finished attempts, since start.
    pub run_time: HistogramSnapshot,
    /// From due (`run_at`) to claimed, since start (millisecond resolution).
    pub pickup: HistogramSnapshot,
    /// Tasks running in this process now.
    pub running_here: u64,
    /// Configured workers.
    pub workers: u64,
}

impl QueueStats {
    /// Rows with this status.
    pub fn count(&self, status: Status) -> u64 {
        self.by_status
            .iter()
            .find(|(s, _)| *s == status)
            .map_or(0, |(_, n)| *n)
    }
}

/// Why the queue refused or could not answer.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// The pending bound is reached.
    #[error("the task queue is full ({max} tasks waiting); try again when some have finished")]
    Full {
        /// The bound.
        max: u64,
    },
    /// The owner has its share of pending tasks already.
    #[error(
        "you have {max} tasks waiting already, the most one client may; wait for some to finish or cancel one"
    )]
    OwnerFull {
        /// The share.
        max: u64,
    },
    /// No handler is registered for this kind.
    #[error("no handler for task kind `{0}`")]
    UnknownKind(String),
    /// The payload could not be stored as JSON.
    #[error("task payload: {0}")]
    Payload(String),
    /// No task has this id.
    #[error("task {0} not found")]
    NotFound(i64),
    /// The queue is shutting down.
    #[error("the task queue is shutting down")]
    ShuttingDown,
    /// A task of this kind was added within the interval asked for
    /// ([`EnqueueOptions::once_within_ms`]): nothing was added.
    #[error("a {kind} task was already added in the last {within_ms} ms")]
    Recent {
        /// The kind.
        kind: String,
        /// The interval.
        within_ms: i64,
    },
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}
