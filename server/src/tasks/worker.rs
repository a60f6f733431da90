//! The dispatcher, the run of one task under its lease, and the housekeeper.
//!
//! One dispatcher loop claims due tasks for free workers and records how runs ended, in one
//! write transaction per round (group commit: under load one commit serves several tasks).
//! Each claimed task runs as its own tokio task; while its handler runs, a heartbeat renews
//! the lease, writes reported progress and picks up cancels asked for by another process.

use std::{
    sync::{Arc, Mutex, atomic::Ordering},
    time::{Duration, Instant},
};

use serde_json::Value;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::{
    Inner, QueueError, Status, TaskError,
    clock::Sleep,
    handler::{Progress, TaskContext},
    lock,
};
use crate::store::params;

/// A task this process just claimed.
pub(crate) struct Claimed {
    id: i64,
    kind: String,
    payload: String,
    attempts: u32,
    max_retries: u32,
    due: i64,
    order: (i64, i64, i64),
}

/// How a run ended.
enum Outcome {
    Done(Value),
    Failed(TaskError),
    Cancelled,
    /// Shutdown dropped it: back to pending, the attempt not counted.
    Released,
    /// Another process reclaimed it: whatever happened here is not recorded.
    LeaseLost,
}

/// A run that ended, on its way to being recorded.
pub(crate) struct Finished {
    task: Claimed,
    outcome: Outcome,
    /// The handler's last progress message.
    message: String,
}

/// The row values a finished run is recorded with.
struct Plan {
    status: Status,
    run_at: i64,
    message: String,
    result: Option<String>,
    error: Option<String>,
    released: bool,
}

/// A recorded run: the row's status, progress and message after the write (`None` when
/// another process had taken the task over).
struct Recorded {
    finished: Finished,
    plan: Plan,
    row: Option<(String, i64, String)>,
}

const CLAIM_SQL: &str = "UPDATE tasks SET status = 'running', attempts = attempts + 1,
        lease_owner = ?1, lease_until = ?2, started_at = ?3, progress = 0, message = ''
     WHERE id IN (SELECT id FROM tasks WHERE status = 'pending' AND run_at <= ?3
                  ORDER BY priority, run_at, created_at LIMIT ?4)
     RETURNING id, kind, payload, attempts, max_retries, run_at, priority, created_at";

const FINISH_SQL: &str = "UPDATE tasks SET
        status = CASE WHEN cancel_requested THEN 'cancelled' ELSE ?3 END,
        finished_at = CASE WHEN cancel_requested OR ?3 <> 'pending' THEN ?4 END,
        run_at = ?5,
        progress = CASE WHEN ?3 = 'completed' AND NOT cancel_requested THEN 100 ELSE progress END,
        message = CASE WHEN cancel_requested THEN 'cancelled' ELSE ?6 END,
        result = CASE WHEN cancel_requested THEN NULL ELSE ?7 END,
        error = ?8,
        attempts = attempts - ?9,
        lease_owner = NULL, lease_until = NULL
     WHERE id = ?1 AND status = 'running' AND lease_owner = ?2
     RETURNING status, progress, message";

/// The dispatcher loop. With nothing to record and no free worker, or nothing due, it waits
/// for an enqueue, a finished run, the next scheduled `run_at`, or shutdown; after shutdown
/// it keeps recording runs that end and returns when none is left.
pub(crate) async fn dispatch(q: Arc<Inner>) {
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<Finished>();
    let workers = q.config.workers.max(1);
    let mut running = 0usize;
    let mut backlog: Vec<Finished> = Vec::new();
    // The last claim found fewer due tasks than free workers: ask again only after news.
    let mut drained = false;
    loop {
        while let Ok(f) = done_rx.try_recv() {
            running -= 1;
            backlog.push(f);
        }
        let stopping = q.stopping.is_cancelled();
        if stopping && running == 0 && backlog.is_empty() {
            return;
        }
        let want = if stopping || drained {
            0
        } else {
            workers - running
        };
        if !backlog.is_empty() || want > 0 {
            // Let runs that are about to finish and enqueues in flight land first, so one
            // transaction serves more of them.
            tokio::task::yield_now().await;
            tokio::task::yield_now().await;
            while let Ok(f) = done_rx.try_recv() {
                running -= 1;
                backlog.push(f);
            }
            let want = if stopping || drained {
                0
            } else {
                workers - running
            };
            match q.round(std::mem::take(&mut backlog), want).await {
                Ok((claimed, recorded)) => {
                    drained = claimed.len() < want;
                    running += claimed.len();
                    for task in claimed {
                        tokio::spawn(q.clone().execute(task, done_tx.clone()));
                    }
                    q.after(recorded);
                }
                Err((e, finished)) => {
                    backlog = finished;
                    tracing::warn!("task dispatch round failed, retrying in 1 s: {e}");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
            continue;
        }
        let sleep: Sleep = if drained && !stopping {
            match q.next_due().await {
                Ok(Some(at)) => q.clock.sleep_until(at),
                Ok(None) => Box::pin(std::future::pending()),
                Err(e) => {
                    tracing::warn!("reading the next due task failed: {e}");
                    Box::pin(tokio::time::sleep(Duration::from_secs(1)))
                }
            }
        } else {
            Box::pin(std::future::pending())
        };
        tokio::select! {
            Some(f) = done_rx.recv() => {
                running -= 1;
                backlog.push(f);
            }
            () = q.wake.notified(), if drained && !stopping => drained = false,
            () = sleep => drained = false,
            () = q.stopping.cancelled(), if !stopping => {}
        }
    }
}

/// Reclaims expired leases every quarter lease, nudges the dispatcher, and deletes old
/// finished tasks.
pub(crate) async fn housekeeper(q: Arc<Inner>) {
    let every = (q.config.lease.as_millis() as i64 / 4).max(100);
    let mut next_cleanup = q.clock.now_ms();
    loop {
        if let Err(e) = q.reclaim_expired().await {
            tracing::warn!("reclaiming expired task leases failed: {e}");
        }
        // Tasks enqueued by another process sharing the database signal nobody here: look.
        q.wake.notify_one();
        let now = q.clock.now_ms();
        if now >= next_cleanup {
            match q.cleanup().await {
                Ok(removed) if !removed.is_empty() => {
                    tracing::info!(tasks = removed.len(), "finished tasks cleaned up")
                }
                Ok(_) => {}
                Err(e) => tracing::warn!("task cleanup failed: {e}"),
            }
            next_cleanup = now + q.config.cleanup_every.as_millis() as i64;
        }
        tokio::select! {
            () = q.clock.sleep_until(now + every) => {}
            () = q.stopping.cancelled() => return,
        }
    }
}

impl Inner {
    fn lease_ms(&self) -> i64 {
        self.config.lease.as_millis() as i64
    }

    /// One write transaction: records `finished` and claims up to `want` due tasks (in claim
    /// order). On failure the runs come back so the next round records them.
    async fn round(
        &self,
        finished: Vec<Finished>,
        want: usize,
    ) -> Result<(Vec<Claimed>, Vec<Recorded>), (QueueError, Vec<Finished>)> {
        let now = self.clock.now_ms();
        let plans: Vec<Plan> = finished.iter().map(|f| self.plan(f, now)).collect();
        let written = async {
            let mut writer = self.store.write().await?;
            let tx = writer.begin().await?;
            let mut rows = Vec::with_capacity(finished.len());
            if !finished.is_empty() {
                let mut finish = tx.prepare("task.finish", FINISH_SQL).await?;
                for (f, p) in finished.iter().zip(&plans) {
                    let row = finish
                        .query(
                            params![
                                f.task.id,
                                self.owner.as_str(),
                                p.status.as_str(),
                                now,
                                p.run_at,
                                p.message.as_str(),
                                p.result.clone(),
                                p.error.clone(),
                                i64::from(p.released)
                            ],
                            |r| Ok((r.get::<String>(0)?, r.get::<i64>(1)?, r.get::<String>(2)?)),
                        )
                        .await?;
                    rows.push(row.into_iter().next());
                }
            }
            let mut claimed = if want > 0 {
                tx.query(
                    "task.claim",
                    CLAIM_SQL,
                    params![self.owner.as_str(), now + self.lease_ms(), now, want as i64],
                    |r| {
                        Ok(Claimed {
                            id: r.get(0)?,
                            kind: r.get(1)?,
                            payload: r.get(2)?,
                            attempts: r.get::<i64>(3)? as u32,
                            max_retries: r.get::<i64>(4)? as u32,
                            due: r.get(5)?,
                            order: (r.get(6)?, r.get(5)?, r.get(7)?),
                        })
                    },
                )
                .await?
            } else {
                Vec::new()
            };
            tx.commit().await?;
            claimed.sort_by_key(|c| (c.order, c.id));
            Ok::<_, QueueError>((claimed, rows))
        }
        .await;
        match written {
            Ok((claimed, rows)) => {
                let recorded = finished
                    .into_iter()
                    .zip(plans)
                    .zip(rows)
                    .map(|((finished, plan), row)| Recorded {
                        finished,
                        plan,
                        row,
                    })
                    .collect();
                Ok((claimed, recorded))
            }
            Err(e) => Err((e, finished)),
        }
    }

    /// When the earliest pending task becomes due.
    async fn next_due(&self) -> Result<Option<i64>, QueueError> {
        let conn = self.store.read().await?;
        Ok(conn
            .query_opt(
                "task.next_due",
                "SELECT min(run_at) FROM tasks WHERE status = 'pending'",
                (),
                |r| r.get::<Option<i64>>(0),
            )
            .await?
            .flatten())
    }

    /// Runs one claimed task to its end and reports it to the dispatcher.
    async fn execute(self: Arc<Self>, task: Claimed, done: mpsc::UnboundedSender<Finished>) {
        let now = self.clock.now_ms();
        self.counters
            .pickup
            .record(Duration::from_millis((now - task.due).max(0) as u64));
        let progress = Arc::new(Mutex::new(Progress {
            percent: 0,
            message: String::new(),
            dirty: false,
            last_event: None,
            last_sent: None,
        }));
        let outcome = match self.registry.get(&task.kind) {
            None => Outcome::Failed(TaskError::permanent(format!(
                "no handler for task kind `{}` in this build",
                task.kind
            ))),
            Some((kind, handler)) => {
                let cancel = CancellationToken::new();
                lock(&self.running).insert(task.id, cancel.clone());
                let message = format!("attempt {}", task.attempts);
                self.emit(task.id, kind, Status::Running, 0, message, None);
                let ctx = TaskContext {
                    id: task.id,
                    kind,
                    attempt: task.attempts,
                    cancel: cancel.clone(),
                    progress: progress.clone(),
                    events: self.events.clone(),
                };
                let started = Instant::now();
                let mut run = handler.run(&task.payload, ctx);
                let outcome = tokio::select! {
                    result = &mut run => match result {
                        Ok(value) => Outcome::Done(value),
                        Err(e) => Outcome::Failed(e),
                    },
                    () = cancel.cancelled() => {
                        // The handler may notice and stop on its own (removing partial files)
                        // within the grace, kept under the lease; after that it is dropped.
                        let grace = self.config.cancel_grace.min(self.config.lease / 2);
                        let _ = tokio::time::timeout(grace, &mut run).await;
                        Outcome::Cancelled
                    }
                    () = self.abort.cancelled() => Outcome::Released,
                    () = self.heartbeat(task.id, &progress, &cancel) => Outcome::LeaseLost,
                };
                drop(run);
                lock(&self.running).remove(&task.id);
                self.counters.run_time.record(started.elapsed());
                outcome
            }
        };
        let message = lock(&progress).message.clone();
        // The dispatcher outlives every run it started; if it is gone the lease recovers the task.
        let _ = done.send(Finished {
            task,
            outcome,
            message,
        });
    }

    /// Renews the lease and writes progress until the lease is lost (then returns).
    async fn heartbeat(&self, id: i64, progress: &Mutex<Progress>, cancel: &CancellationToken) {
        let every = (self.lease_ms() / 3).clamp(50, 1_000);
        loop {
            self.clock.sleep_until(self.clock.now_ms() + every).await;
            let (percent, message) = {
                let mut p = lock(progress);
                p.dirty = false;
                (i64::from(p.percent), p.message.clone())
            };
            let now = self.clock.now_ms();
            let renewed = async {
                let writer = self.store.write().await?;
                writer
                    .query_opt(
                        "task.heartbeat",
                        "UPDATE tasks SET lease_until = ?3, progress = ?4, message = ?5
                         WHERE id = ?1 AND status = 'running' AND lease_owner = ?2
                         RETURNING cancel_requested",
                        params![
                            id,
                            self.owner.as_str(),
                            now + self.lease_ms(),
                            percent,
                            message
                        ],
                        |r| r.get::<i64>(0),
                    )
                    .await
            }
            .await;
            match renewed {
                Ok(Some(requested)) => {
                    if requested != 0 {
                        cancel.cancel();
                    }
                }
                Ok(None) => {
                    tracing::warn!(task = id, "lease lost: another worker took the task over");
                    return;
                }
                // A failed renewal is retried at the next beat; the lease has slack for it.
                Err(e) => tracing::warn!(task = id, "renewing the task lease failed: {e}"),
            }
        }
    }

    /// The row values for a finished run.
    fn plan(&self, f: &Finished, now: i64) -> Plan {
        let task = &f.task;
        let plan = |status, run_at, message: String, result, error| Plan {
            status,
            run_at,
            message,
            result,
            error,
            released: false,
        };
        match &f.outcome {
            Outcome::Done(value) => plan(
                Status::Completed,
                task.due,
                if f.message.is_empty() {
                    "done".to_owned()
                } else {
                    f.message.clone()
                },
                Some(value.to_string()),
                None,
            ),
            Outcome::Failed(e) if e.retryable && task.attempts <= task.max_retries => {
                let delay = self.retry_delay(task.attempts);
                plan(
                    Status::Pending,
                    now + delay,
                    format!(
                        "attempt {} failed; retrying in {:.1} s",
                        task.attempts,
                        delay as f64 / 1000.0
                    ),
                    None,
                    Some(e.message.clone()),
                )
            }
            Outcome::Failed(e) => plan(
                Status::Failed,
                task.due,
                format!("failed after {} attempt(s)", task.attempts),
                None,
                Some(e.message.clone()),
            ),
            Outcome::Cancelled => plan(
                Status::Cancelled,
                task.due,
                "cancelled".to_owned(),
                None,
                None,
            ),
            Outcome::Released | Outcome::LeaseLost => Plan {
                released: true,
                ..plan(
                    Status::Pending,
                    now,
                    "released at shutdown".to_owned(),
                    None,
                    None,
                )
            },
        }
    }

    /// Counters, logs and live events for recorded runs.
    fn after(&self, recorded: Vec<Recorded>) {
        let now = self.clock.now_ms();
        let c = &self.counters;
        for r in recorded {
            let task = &r.finished.task;
            let Some((status, percent, message)) = r.row else {
                if !matches!(r.finished.outcome, Outcome::LeaseLost) {
                    tracing::warn!(
                        task = task.id,
                        "task was taken over before its end was recorded"
                    );
                }
                continue;
            };
            let status = Status::parse(&status).unwrap_or(Status::Failed);
            match status {
                Status::Completed => c.completed.fetch_add(1, Ordering::Relaxed),
                Status::Failed => c.failed.fetch_add(1, Ordering::Relaxed),
                Status::Cancelled => c.cancelled.fetch_add(1, Ordering::Relaxed),
                Status::Pending if !r.plan.released => c.retries.fetch_add(1, Ordering::Relaxed),
                _ => 0,
            };
            if status.is_final() {
                c.finished(now);
            }
            let error = r.plan.error.as_deref().unwrap_or("");
            match status {
                Status::Failed => {
                    tracing::warn!(task = task.id, kind = task.kind, error, "task failed")
                }
                Status::Pending if !r.plan.released => {
                    tracing::info!(
                        task = task.id,
                        kind = task.kind,
                        error,
                        "task attempt failed; retry scheduled"
                    )
                }
                _ => tracing::debug!(
                    task = task.id,
                    kind = task.kind,
                    status = status.as_str(),
                    "task ended"
                ),
            }
            self.emit(
                task.id,
                &task.kind,
                status,
                percent.clamp(0, 100) as u8,
                message,
                r.plan.error,
            );
        }
    }

    /// Exponential backoff with ±20 % jitter: about base, 2·base, 4·base, …
    fn retry_delay(&self, attempt: u32) -> i64 {
        let base = self.config.retry_base.as_millis() as f64;
        let exp = base * f64::from(1u32 << attempt.saturating_sub(1).min(20));
        (exp * (0.8 + 0.4 * fastrand::f64())) as i64
    }
}
