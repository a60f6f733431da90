//! A durable task queue: tasks are rows in the store, so they survive restarts.
//!
//! A dispatcher claims due tasks in (priority, run_at, created_at) order for free workers
//! with one `UPDATE … RETURNING` through the store's single writer; a claim carries a lease
//! that a heartbeat renews while the handler runs, and a task whose lease runs out (its
//! process died) is claimed again. Idle, the dispatcher waits on a [`Notify`] that every
//! enqueue signals, or on the clock until the next scheduled task: nothing polls. Retries are rows with a later `run_at`, never a
//! sleeping worker. Knows nothing of what the tasks do: the app registers typed handlers.
//!
//! Counts per status live in `task_counts`, kept by triggers, so the depth bound and the
//! stats cost O(1) however many finished tasks the retention keeps.
//!
//! The app adds [`SCHEMA`], [`SCHEMA_PUBLIC_IDS`] and [`SCHEMA_OWNER_SHARE`] to its
//! migrations, in that order.
//!
//! A task has two ids: the row id, sequential and internal, and a public UUIDv7 (`uid`) for
//! clients. Each task may carry an opaque owner; listing and lookups by public id filter by
//! it, so one client cannot see or fetch another's work by guessing or counting.

mod clock;
mod dispatch;
mod enqueue;
mod handler;
mod housekeeping;
mod model;
mod run;
mod schema;

#[cfg(test)]
mod tests;

use std::{
    collections::{HashMap, VecDeque},
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use serde_json::Value;
use tokio::{
    sync::{Notify, broadcast},
    task::JoinHandle,
};
use tokio_util::sync::CancellationToken;

pub use clock::{Clock, ManualClock, Sleep, SystemClock};
pub use handler::{Cancelled, Handler, TaskContext, TaskError, blocking_running};
pub use model::{EnqueueOptions, Priority, QueueError, QueueStats, Status, Task, TaskEvent};
pub use schema::{SCHEMA, SCHEMA_OWNER_SHARE, SCHEMA_PUBLIC_IDS};

use crate::{
    metrics::Histogram,
    store::{Store, params},
};
use handler::Registry;
use schema::{COLUMNS, map_task};

/// How the queue runs. Defaults as documented on each field.
#[derive(Debug, Clone)]
pub struct TaskConfig {
    /// Concurrent workers (4).
    pub workers: usize,
    /// How long a claim holds without a heartbeat (30 s).
    pub lease: Duration,
    /// Pending tasks beyond which enqueue is refused (1,000). The last
    /// [`Self::reserved_pending`] of them are kept for tasks enqueued with
    /// [`EnqueueOptions::reserved`] (an operator's backups and maintenance).
    pub max_pending: u64,
    /// Places of `max_pending` only reserved tasks may take (50).
    pub reserved_pending: u64,
    /// Pending tasks one owner may have at once; 0 = no bound (20). Reserved tasks and tasks
    /// without an owner are not counted against it.
    pub max_pending_per_owner: u64,
    /// Retries after the first attempt (3).
    pub max_retries: u32,
    /// First retry delay; doubles per attempt, ±20 % jitter (2 s).
    pub retry_base: Duration,
    /// Finished tasks older than this are deleted by cleanup (1 h).
    pub retention: Duration,
    /// How often cleanup runs (5 min).
    pub cleanup_every: Duration,
    /// How long a cancelled handler may take to return on its own before it is dropped (5 s).
    pub cancel_grace: Duration,
}

impl Default for TaskConfig {
    fn default() -> Self {
        Self {
            workers: 4,
            lease: Duration::from_secs(30),
            max_pending: 1_000,
            reserved_pending: 50,
            max_pending_per_owner: 20,
            max_retries: 3,
            retry_base: Duration::from_secs(2),
            retention: Duration::from_secs(3_600),
            cleanup_every: Duration::from_secs(300),
            cancel_grace: Duration::from_secs(5),
        }
    }
}

/// Assembles a queue: configuration, clock and handlers.
pub struct Builder {
    store: Store,
    config: TaskConfig,
    clock: Arc<dyn Clock>,
    registry: Registry,
}

impl Builder {
    /// Replaces the configuration.
    pub fn config(mut self, config: TaskConfig) -> Self {
        self.config = config;
        self
    }

    /// Replaces the clock (tests use a [`ManualClock`]).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Registers the handler for `H::KIND`.
    pub fn register<H: Handler>(mut self, handler: H) -> Self {
        self.registry.insert(handler);
        self
    }

    /// The queue, not yet running: tasks can be enqueued, none is claimed before
    /// [`TaskQueue::start`].
    pub fn build(self) -> TaskQueue {
        let owner = format!(
            "{}-{}",
            std::process::id(),
            self.clock.now_ms() * 1000 + fastrand::i64(0..1000)
        );
        TaskQueue {
            inner: Arc::new(Inner {
                store: self.store,
                config: self.config,
                clock: self.clock,
                registry: self.registry,
                owner,
                wake: Notify::new(),
                events: broadcast::channel(1024).0,
                running: Mutex::new(HashMap::new()),
                stopping: CancellationToken::new(),
                abort: CancellationToken::new(),
                workers: Mutex::new(Vec::new()),
                counters: Counters::default(),
            }),
        }
    }
}

/// The queue. Cheap to clone.
#[derive(Clone)]
pub struct TaskQueue {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    store: Store,
    config: TaskConfig,
    clock: Arc<dyn Clock>,
    registry: Registry,
    /// Identifies this process's leases.
    owner: String,
    wake: Notify,
    events: broadcast::Sender<TaskEvent>,
    /// Cancel tokens of the tasks running here.
    running: Mutex<HashMap<i64, CancellationToken>>,
    /// Set at shutdown: claim nothing more.
    stopping: CancellationToken,
    /// Set when the shutdown grace ran out: drop running handlers and release their leases.
    abort: CancellationToken,
    workers: Mutex<Vec<JoinHandle<()>>>,
    counters: Counters,
}

#[derive(Default)]
struct Counters {
    completed: AtomicU64,
    failed: AtomicU64,
    cancelled: AtomicU64,
    retries: AtomicU64,
    run_time: Histogram,
    pickup: Histogram,
    /// Finished per second over the last minute: (unix second, count).
    finished: Mutex<VecDeque<(i64, u64)>>,
}

impl Counters {
    fn finished(&self, now_ms: i64) {
        let sec = now_ms / 1000;
        let mut w = self.finished.lock().unwrap_or_else(|p| p.into_inner());
        match w.back_mut() {
            Some((s, n)) if *s == sec => *n += 1,
            _ => w.push_back((sec, 1)),
        }
        while w.front().is_some_and(|(s, _)| *s <= sec - 60) {
            w.pop_front();
        }
    }

    fn per_second(&self, now_ms: i64) -> f64 {
        let sec = now_ms / 1000;
        let w = self.finished.lock().unwrap_or_else(|p| p.into_inner());
        let n: u64 = w
            .iter()
            .filter(|(s, _)| *s > sec - 60)
            .map(|(_, n)| n)
            .sum();
        n as f64 / 60.0
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl TaskQueue {
    /// A builder over `store`, whose schema includes [`SCHEMA`] and [`SCHEMA_PUBLIC_IDS`].
    ///
    /// ```
    /// # tokio_test_block_on(async {
    /// use serde_json::{Value, json};
    /// use server::store::{Migration, Store, StoreConfig};
    /// use server::tasks::{EnqueueOptions, Handler, Status, TaskContext, TaskError, TaskQueue};
    ///
    /// /// Says hello to someone.
    /// struct Greet;
    ///
    /// impl Handler for Greet {
    ///     const KIND: &'static str = "greet";
    ///     type Payload = String;
    ///     async fn run(&self, name: String, ctx: TaskContext) -> Result<Value, TaskError> {
    ///         ctx.progress(50, "thinking of a greeting");
    ///         Ok(json!(format!("hello, {name}")))
    ///     }
    /// }
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let store = Store::open(StoreConfig::new(dir.path().join("q.db"))).await.unwrap();
    /// let schema = Migration { version: 1, name: "tasks", sql: server::tasks::SCHEMA };
    /// let ids = Migration { version: 2, name: "task ids", sql: server::tasks::SCHEMA_PUBLIC_IDS };
    /// store.migrate(&[schema, ids]).await.unwrap();
    ///
    /// let queue = TaskQueue::builder(store).register(Greet).build();
    /// queue.start();
    /// let id = queue.enqueue::<Greet>(&"Ada".into(), EnqueueOptions::default()).await.unwrap();
    /// let mut events = queue.subscribe();
    /// while queue.get(id).await.unwrap().unwrap().status != Status::Completed {
    ///     let _ = events.recv().await;
    /// }
    /// let task = queue.get(id).await.unwrap().unwrap();
    /// assert_eq!(task.result, Some(json!("hello, Ada")));
    /// queue.shutdown(std::time::Duration::from_secs(1)).await;
    /// # });
    /// # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
    /// #     tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
    /// # }
    /// ```
    pub fn builder(store: Store) -> Builder {
        Builder {
            store,
            config: TaskConfig::default(),
            clock: Arc::new(SystemClock),
            registry: Registry::default(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &TaskConfig {
        &self.inner.config
    }

    /// The registered kinds.
    pub fn kinds(&self) -> Vec<&'static str> {
        self.inner.registry.kinds()
    }

    /// Starts the workers and the housekeeper (lease recovery and cleanup).
    pub fn start(&self) {
        let mut workers = lock(&self.inner.workers);
        if !workers.is_empty() {
            return;
        }
        workers.push(tokio::spawn(dispatch::run(self.inner.clone())));
        workers.push(tokio::spawn(housekeeping::run(self.inner.clone())));
    }

    /// Enqueues a task for handler `H`; its id.
    pub async fn enqueue<H: Handler>(
        &self,
        payload: &H::Payload,
        options: EnqueueOptions,
    ) -> Result<i64, QueueError> {
        let json =
            serde_json::to_string(payload).map_err(|e| QueueError::Payload(e.to_string()))?;
        self.enqueue_raw(H::KIND, json, options).await
    }

    /// Enqueues a task by kind with a JSON payload (checked by the handler when it runs).
    pub async fn enqueue_json(
        &self,
        kind: &str,
        payload: &Value,
        options: EnqueueOptions,
    ) -> Result<i64, QueueError> {
        self.enqueue_raw(kind, payload.to_string(), options).await
    }

    /// One task.
    pub async fn get(&self, id: i64) -> Result<Option<Task>, QueueError> {
        let conn = self.inner.store.read().await?;
        Ok(conn
            .query_opt(
                "task.get",
                &format!("SELECT {COLUMNS} FROM tasks WHERE id = ?1"),
                [id],
                map_task,
            )
            .await?)
    }

    /// One task by its public id.
    pub async fn get_by_uid(&self, uid: &str) -> Result<Option<Task>, QueueError> {
        let conn = self.inner.store.read().await?;
        Ok(conn
            .query_opt(
                "task.get_by_uid",
                &format!("SELECT {COLUMNS} FROM tasks WHERE uid = ?1"),
                [uid],
                map_task,
            )
            .await?)
    }

    /// Tasks, newest first: of one owner (or all with [`Visible::All`]), optionally of one
    /// status, before a row id (paging).
    pub async fn list(
        &self,
        visible: Visible<'_>,
        status: Option<Status>,
        limit: u32,
        before: Option<i64>,
    ) -> Result<Vec<Task>, QueueError> {
        let conn = self.inner.store.read().await?;
        let (all, owner) = match visible {
            Visible::All => (1, None),
            Visible::Owner(o) => (0, Some(o)),
        };
        Ok(conn
            .query(
                "task.list",
                &format!(
                    "SELECT {COLUMNS} FROM tasks
                     WHERE (?1 IS NULL OR status = ?1) AND id < ?2 AND (?4 OR owner = ?5)
                     ORDER BY id DESC LIMIT ?3"
                ),
                params![
                    status.map(Status::as_str),
                    before.unwrap_or(i64::MAX),
                    i64::from(limit),
                    all,
                    owner
                ],
                map_task,
            )
            .await?)
    }

    /// Cancels a task: a pending one at once, a running one as soon as its handler notices
    /// (or is dropped after the grace). Finished tasks are left as they are. The task after.
    pub async fn cancel(&self, id: i64) -> Result<Task, QueueError> {
        let q = &self.inner;
        let now = q.clock.now_ms();
        let writer = q.store.write().await?;
        let pending = writer
            .execute(
                "task.cancel_pending",
                "UPDATE tasks SET status = 'cancelled', finished_at = ?2, message = 'cancelled'
                 WHERE id = ?1 AND status = 'pending'",
                params![id, now],
            )
            .await?;
        let running = if pending == 0 {
            writer
                .execute(
                    "task.cancel_running",
                    "UPDATE tasks SET cancel_requested = 1 WHERE id = ?1 AND status = 'running'",
                    [id],
                )
                .await?
        } else {
            0
        };
        drop(writer);
        if pending > 0 {
            q.counters.cancelled.fetch_add(1, Ordering::Relaxed);
            q.counters.finished(now);
        }
        if running > 0
            && let Some(token) = lock(&q.running).get(&id)
        {
            token.cancel();
        }
        let task = self.get(id).await?.ok_or(QueueError::NotFound(id))?;
        if pending > 0 {
            q.emit(
                Ident::of(&task),
                Status::Cancelled,
                task.progress,
                "cancelled".into(),
                None,
            );
        }
        Ok(task)
    }

    /// Counts per status, depth and timings.
    pub async fn stats(&self) -> Result<QueueStats, QueueError> {
        let q = &self.inner;
        let conn = q.store.read().await?;
        let rows = conn
            .query(
                "task.count_by_status",
                "SELECT status, n FROM task_counts",
                (),
                |r| Ok((r.get::<String>(0)?, r.get::<i64>(1)? as u64)),
            )
            .await?;
        drop(conn);
        let by_status: Vec<(Status, u64)> = Status::ALL
            .into_iter()
            .map(|s| {
                let n = rows
                    .iter()
                    .find(|(name, _)| name == s.as_str())
                    .map_or(0, |(_, n)| *n);
                (s, n)
            })
            .collect();
        let c = &q.counters;
        Ok(QueueStats {
            depth: by_status[0].1,
            by_status,
            max_pending: q.config.max_pending,
            throughput_per_sec: c.per_second(q.clock.now_ms()),
            completed_total: c.completed.load(Ordering::Relaxed),
            failed_total: c.failed.load(Ordering::Relaxed),
            cancelled_total: c.cancelled.load(Ordering::Relaxed),
            retries_total: c.retries.load(Ordering::Relaxed),
            run_time: c.run_time.snapshot(),
            pickup: c.pickup.snapshot(),
            running_here: lock(&q.running).len() as u64,
            workers: q.config.workers as u64,
        })
    }

    /// Deletes finished tasks older than the retention; the deleted tasks (so the caller can
    /// remove files their results point to).
    pub async fn cleanup(&self) -> Result<Vec<Task>, QueueError> {
        self.inner.cleanup().await
    }

    /// Returns expired leases to pending (or ends them if no attempt is left); how many.
    pub async fn reclaim_expired(&self) -> Result<u64, QueueError> {
        self.inner.reclaim_expired().await
    }

    /// Live changes of every task.
    pub fn subscribe(&self) -> broadcast::Receiver<TaskEvent> {
        self.inner.events.subscribe()
    }

    /// Stops claiming, lets running tasks finish within `grace`, then drops the rest and
    /// releases their leases so the next start runs them again.
    pub async fn shutdown(&self, grace: Duration) {
        let q = &self.inner;
        q.stopping.cancel();
        let handles: Vec<_> = std::mem::take(&mut *lock(&q.workers));
        let mut joined = futures_util::future::join_all(handles);
        if tokio::time::timeout(grace, &mut joined).await.is_err() {
            q.abort.cancel();
            let _ = tokio::time::timeout(Duration::from_secs(5), joined).await;
        }
    }
}

/// Which tasks a listing shows.
#[derive(Debug, Clone, Copy)]
pub enum Visible<'a> {
    /// Every task (operators).
    All,
    /// The tasks of one owner.
    Owner(&'a str),
}

/// What names a task in its events.
#[derive(Clone, Copy)]
pub(crate) struct Ident<'a> {
    pub id: i64,
    pub uid: &'a str,
    pub owner: Option<&'a str>,
    pub kind: &'a str,
}

impl<'a> Ident<'a> {
    fn of(task: &'a Task) -> Self {
        Self {
            id: task.id,
            uid: &task.uid,
            owner: task.owner.as_deref(),
            kind: &task.kind,
        }
    }
}

impl Inner {
    fn emit(
        &self,
        who: Ident<'_>,
        status: Status,
        progress: u8,
        message: String,
        error: Option<String>,
    ) {
        let _ = self.events.send(TaskEvent {
            id: who.id,
            uid: who.uid.to_owned(),
            owner: who.owner.map(str::to_owned),
            kind: who.kind.to_owned(),
            status,
            progress,
            message,
            error,
        });
    }
}
