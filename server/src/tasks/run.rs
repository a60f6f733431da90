//! The run of one claimed task: the handler under its lease.
//!
//! The handler's future is raced against a cancel (it gets a grace to stop on its own, then
//! is dropped), against shutdown's abort (the task is released, the attempt not counted),
//! and against the heartbeat, which renews the lease, writes reported progress and picks up
//! cancels asked for by another process; if the lease is lost the run is abandoned
//! unrecorded. The outcome goes back to the dispatcher to be recorded.

use std::{
    any::Any,
    panic::AssertUnwindSafe,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use futures_util::FutureExt;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::{
    Inner, Status, TaskError,
    dispatch::{Claimed, Finished, Outcome},
    handler::{Progress, TaskContext},
    lock,
};
use crate::store::params;

impl Inner {
    /// Runs one claimed task to its end and reports it to the dispatcher.
    pub(crate) async fn execute(
        self: Arc<Self>,
        task: Claimed,
        done: mpsc::UnboundedSender<Finished>,
    ) {
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
                self.emit(task.ident(), Status::Running, 0, message, None);
                let ctx = TaskContext {
                    id: task.id,
                    uid: task.uid.clone(),
                    owner: task.owner.clone(),
                    kind,
                    attempt: task.attempts,
                    cancel: cancel.clone(),
                    progress: progress.clone(),
                    events: self.events.clone(),
                };
                let started = Instant::now();
                // A panicking handler fails its task (the panic's message goes to the log)
                // instead of leaving it running until its lease runs out, again and again.
                let mut run = AssertUnwindSafe(handler.run(&task.payload, ctx)).catch_unwind();
                let outcome = tokio::select! {
                    result = &mut run => match result {
                        Ok(Ok(value)) => Outcome::Done(value),
                        Ok(Err(e)) => Outcome::Failed(e),
                        Err(panic) => Outcome::Failed(
                            TaskError::permanent("the task stopped on an internal error; the server log has the details")
                                .detail(panic_message(panic.as_ref())),
                        ),
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
}

/// The text of a panic, as far as it has one.
fn panic_message(panic: &(dyn Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .map_or_else(|| "panic".to_owned(), |m| format!("panic: {m}"))
}
