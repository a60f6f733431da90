//! Typed task handlers and the type-erased registry the workers call through.
//!
//! A handler names its kind and its payload type; the queue stores the payload as JSON and
//! hands the handler its own type back, so a malformed payload fails before any work starts.

use std::{
    collections::HashMap,
    future::Future,
    pin::Pin,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::Instant,
};

use serde::{Serialize, de::DeserializeOwned};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::TaskEvent;

/// Why a run of a task did not succeed.
///
/// The message is public: it is stored on the task and shown to whoever can see the task
/// (task views, live events, notifications), so it says what failed in words a user can act
/// on. The detail (paths, raw database or I/O errors) goes only to the log, with the task id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskError {
    /// Shown to the user and kept on the task.
    pub message: String,
    /// Whether another attempt may succeed (a bad payload never will).
    pub retryable: bool,
    /// For the operator only: logged with the task id, never stored or sent.
    pub detail: Option<String>,
}

impl TaskError {
    /// A failure worth retrying (I/O, a busy resource).
    pub fn retryable(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            retryable: true,
            detail: None,
        }
    }

    /// A failure no retry can fix (bad input, a deleted story).
    pub fn permanent(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            retryable: false,
            detail: None,
        }
    }

    /// Adds what the operator needs to know (logged, never shown).
    pub fn detail(mut self, detail: impl std::fmt::Display) -> Self {
        self.detail = Some(detail.to_string());
        self
    }
}

impl From<crate::store::StoreError> for TaskError {
    /// A database failure is worth another attempt: busy, full disk and I/O errors pass.
    /// What the database said stays in the log.
    fn from(e: crate::store::StoreError) -> Self {
        Self::retryable("the database could not be read or written; the task will be tried again")
            .detail(e)
    }
}

/// What a handler sees of its task: who it is, and ways to report progress and notice a cancel.
#[derive(Clone)]
pub struct TaskContext {
    pub(crate) id: i64,
    pub(crate) uid: String,
    pub(crate) owner: Option<String>,
    pub(crate) kind: &'static str,
    pub(crate) attempt: u32,
    pub(crate) cancel: CancellationToken,
    pub(crate) progress: Arc<Mutex<Progress>>,
    pub(crate) events: tokio::sync::broadcast::Sender<TaskEvent>,
}

/// The latest progress a handler reported, and whether it is written to the row yet.
#[derive(Debug, Clone)]
pub(crate) struct Progress {
    pub percent: u8,
    pub message: String,
    pub dirty: bool,
    pub last_event: Option<Instant>,
    pub last_sent: Option<u8>,
}

impl TaskContext {
    /// The task's id.
    pub fn id(&self) -> i64 {
        self.id
    }

    /// Which attempt this is, starting at 1.
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// Reports progress (clamped to 0-100). Pushed live to subscribers and written to the row
    /// with the next heartbeat.
    pub fn progress(&self, percent: u8, message: impl Into<String>) {
        let percent = percent.min(100);
        let message = message.into();
        let mut p = self.progress.lock().unwrap_or_else(|e| e.into_inner());
        p.percent = percent;
        p.message.clone_from(&message);
        p.dirty = true;
        // An event for every new percentage (at most 101 per run), otherwise at most every
        // 50 ms, so a tight loop cannot flood the pages.
        let due = p.last_sent != Some(percent)
            || p.last_event.is_none_or(|t| t.elapsed().as_millis() >= 50);
        if due {
            p.last_event = Some(Instant::now());
            p.last_sent = Some(percent);
            drop(p);
            let _ = self.events.send(TaskEvent {
                id: self.id,
                uid: self.uid.clone(),
                owner: self.owner.clone(),
                kind: self.kind.to_owned(),
                status: super::Status::Running,
                progress: percent,
                message,
                error: None,
            });
        }
    }

    /// Whether the task was asked to stop. Long loops check it between steps.
    pub fn is_cancelled(&self) -> bool {
        self.cancel.is_cancelled()
    }

    /// Resolves when the task is asked to stop.
    pub async fn cancelled(&self) {
        self.cancel.cancelled().await
    }

    /// Runs CPU-bound work (`what` names it in errors) on the blocking pool and waits for
    /// it. The work gets a [`Cancelled`] check to call between its steps: a cancelled
    /// task's handler is dropped after the grace, but a blocking thread cannot be, so work
    /// that never looks runs on to its end. A panic in it fails the task for good (trying
    /// the same input again panics again). Counted in [`blocking_running`] while it runs.
    pub async fn blocking<T: Send + 'static>(
        &self,
        what: &'static str,
        work: impl FnOnce(&Cancelled) -> Result<T, TaskError> + Send + 'static,
    ) -> Result<T, TaskError> {
        let check = Cancelled(self.cancel.clone());
        let running = BlockingRunning::start();
        let joined = tokio::task::spawn_blocking(move || {
            let _running = running;
            work(&check)
        })
        .await;
        match joined {
            Ok(result) => result,
            Err(e) if e.is_panic() => {
                Err(TaskError::permanent(format!("{what} failed on this input")).detail(e))
            }
            Err(e) => Err(TaskError::retryable(format!("{what} stopped unexpectedly")).detail(e)),
        }
    }
}

/// The cancel check blocking work gets ([`TaskContext::blocking`]).
pub struct Cancelled(CancellationToken);

impl Cancelled {
    /// `Err` once the task was asked to stop: `check()?` between steps.
    pub fn check(&self) -> Result<(), TaskError> {
        if self.0.is_cancelled() {
            Err(TaskError::permanent("cancelled"))
        } else {
            Ok(())
        }
    }
}

/// Blocking work of tasks running now, in this process.
static BLOCKING_RUNNING: AtomicU64 = AtomicU64::new(0);

/// How many tasks' blocking jobs ([`TaskContext::blocking`]) run now in this process.
pub fn blocking_running() -> u64 {
    BLOCKING_RUNNING.load(Ordering::Relaxed)
}

struct BlockingRunning;

impl BlockingRunning {
    fn start() -> Self {
        BLOCKING_RUNNING.fetch_add(1, Ordering::Relaxed);
        Self
    }
}

impl Drop for BlockingRunning {
    fn drop(&mut self) {
        BLOCKING_RUNNING.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A kind of background work.
pub trait Handler: Send + Sync + 'static {
    /// The kind stored with each task, e.g. `"story.export_pdf"`.
    const KIND: &'static str;
    /// The task's input, stored as JSON.
    type Payload: Serialize + DeserializeOwned + Send + 'static;
    /// Does the work; the value returned is stored as the task's result.
    fn run(
        &self,
        payload: Self::Payload,
        ctx: TaskContext,
    ) -> impl Future<Output = Result<Value, TaskError>> + Send;
}

pub(crate) type BoxRun = Pin<Box<dyn Future<Output = Result<Value, TaskError>> + Send>>;

/// A handler with its payload type erased.
pub(crate) trait ErasedHandler: Send + Sync {
    fn run(self: Arc<Self>, payload: &str, ctx: TaskContext) -> BoxRun;
}

struct Typed<H>(H);

impl<H: Handler> ErasedHandler for Typed<H> {
    fn run(self: Arc<Self>, payload: &str, ctx: TaskContext) -> BoxRun {
        let payload = serde_json::from_str::<H::Payload>(payload);
        Box::pin(async move {
            let payload = payload.map_err(|e| {
                TaskError::permanent("the task's input is not valid for this kind of task")
                    .detail(format_args!("payload of {}: {e}", H::KIND))
            })?;
            self.0.run(payload, ctx).await
        })
    }
}

/// Handlers by kind.
#[derive(Default, Clone)]
pub(crate) struct Registry {
    handlers: HashMap<&'static str, Arc<dyn ErasedHandler>>,
}

impl Registry {
    pub fn insert<H: Handler>(&mut self, handler: H) {
        self.handlers.insert(H::KIND, Arc::new(Typed(handler)));
    }

    pub fn get(&self, kind: &str) -> Option<(&'static str, Arc<dyn ErasedHandler>)> {
        self.handlers
            .get_key_value(kind)
            .map(|(k, h)| (*k, h.clone()))
    }

    pub fn kinds(&self) -> Vec<&'static str> {
        let mut kinds: Vec<_> = self.handlers.keys().copied().collect();
        kinds.sort_unstable();
        kinds
    }
}
