//! Periodic background work on one small scheduler: each loop has a name and an interval,
//! and its run count, last run (when, how long) and last error are kept, so an operator can
//! see in the metrics snapshot that a loop runs and why it failed, instead of finding ten
//! hand-written `tokio::spawn` loops that fail into the log only.
//!
//! Written here rather than taken from a crate: the scheduler crates (tokio-cron-scheduler,
//! clokwerk) schedule by cron expression or wall clock and keep no per-job outcome; what is
//! needed is a tokio interval per loop (missed ticks delayed, not bunched) plus its record,
//! about a hundred lines.

use std::{
    future::Future,
    sync::{Arc, Mutex},
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use serde::Serialize;
use tokio::task::JoinHandle;

/// What one loop did, for the snapshot.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LoopStatus {
    /// The loop's name (`reads.flush`, `files.sweep`, ...).
    pub name: String,
    /// Milliseconds between runs (0: runs once).
    pub every_ms: u64,
    /// Completed runs since start.
    pub runs: u64,
    /// Runs that ended in an error.
    pub failures: u64,
    /// When the last run ended (Unix milliseconds; 0: not yet).
    pub last_run_unix_ms: u64,
    /// How long the last run took.
    pub last_took_ms: f64,
    /// The last run's error, if it failed (cleared by a run that succeeds).
    pub last_error: Option<String>,
}

/// Named loops; dropping the scheduler does not stop them, [`Scheduler::stop`] does.
#[derive(Default)]
pub struct Scheduler {
    loops: Mutex<Vec<Arc<Mutex<LoopStatus>>>>,
    handles: Mutex<Vec<JoinHandle<()>>>,
}

impl Scheduler {
    /// Runs `work` every `every` (the first run one interval after now, unless `at_once`),
    /// until [`Self::stop`]. A run that takes longer than the interval delays the next one.
    pub fn every<F, Fut>(&self, name: &str, every: Duration, at_once: bool, mut work: F)
    where
        F: FnMut() -> Fut + Send + 'static,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        let status = self.register(name, every);
        let first = if at_once {
            tokio::time::Instant::now()
        } else {
            tokio::time::Instant::now() + every
        };
        self.track(tokio::spawn(async move {
            let mut tick = tokio::time::interval_at(first, every.max(Duration::from_millis(1)));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                record(&status, &mut work).await;
            }
        }));
    }

    /// Runs `work` once, now, in the background, recorded like a loop.
    pub fn once<Fut>(&self, name: &str, work: Fut)
    where
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        let status = self.register(name, Duration::ZERO);
        let mut work = Some(work);
        self.track(tokio::spawn(async move {
            record(&status, || async {
                match work.take() {
                    Some(w) => w.await,
                    None => Ok(()),
                }
            })
            .await;
        }));
    }

    /// Keeps a background task of another kind (a listener) to be stopped with the loops.
    pub fn track(&self, handle: JoinHandle<()>) {
        lock(&self.handles).push(handle);
    }

    /// Every loop's record, in the order they were added.
    pub fn status(&self) -> Vec<LoopStatus> {
        lock(&self.loops).iter().map(|s| lock(s).clone()).collect()
    }

    /// Stops every loop and tracked task (a run in progress is dropped at its next await).
    pub fn stop(&self) {
        for handle in lock(&self.handles).drain(..) {
            handle.abort();
        }
    }

    fn register(&self, name: &str, every: Duration) -> Arc<Mutex<LoopStatus>> {
        let status = Arc::new(Mutex::new(LoopStatus {
            name: name.to_owned(),
            every_ms: every.as_millis() as u64,
            ..LoopStatus::default()
        }));
        lock(&self.loops).push(status.clone());
        status
    }
}

async fn record<F, Fut>(status: &Mutex<LoopStatus>, work: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<(), String>>,
{
    let started = Instant::now();
    let result = work().await;
    let took = started.elapsed();
    let mut s = lock(status);
    s.runs += 1;
    s.last_took_ms = took.as_secs_f64() * 1000.0;
    s.last_run_unix_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    match result {
        Ok(()) => s.last_error = None,
        Err(e) => {
            tracing::warn!(task = %s.name, "background work failed: {e}");
            s.failures += 1;
            s.last_error = Some(e);
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn loops_run_on_their_interval_and_keep_their_last_error() {
        let scheduler = Scheduler::default();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let mut n = 0;
        scheduler.every("counting", Duration::from_secs(5), false, move || {
            n += 1;
            let tx = tx.clone();
            async move {
                let _ = tx.send(n);
                if n == 2 {
                    Err(format!("run {n} failed"))
                } else {
                    Ok(())
                }
            }
        });
        let started = tokio::time::Instant::now();
        assert_eq!(rx.recv().await, Some(1));
        assert_eq!(
            started.elapsed(),
            Duration::from_secs(5),
            "not before its interval"
        );
        assert_eq!(rx.recv().await, Some(2));
        // The run's record is written after its future returns: wait for it.
        while scheduler.status()[0].failures == 0 {
            tokio::task::yield_now().await;
        }
        let s = &scheduler.status()[0];
        assert_eq!((s.name.as_str(), s.every_ms, s.runs), ("counting", 5000, 2));
        assert_eq!(s.last_error.as_deref(), Some("run 2 failed"));
        assert_eq!(rx.recv().await, Some(3));
        while scheduler.status()[0].runs < 3 {
            tokio::task::yield_now().await;
        }
        assert_eq!(
            scheduler.status()[0].last_error,
            None,
            "a good run clears it"
        );
        scheduler.stop();
        assert_eq!(
            rx.recv().await,
            None,
            "stopped: the loop and its sender are gone"
        );
    }

    #[tokio::test]
    async fn a_one_off_is_recorded_once() {
        let scheduler = Scheduler::default();
        let (tx, rx) = tokio::sync::oneshot::channel();
        scheduler.once("warm", async move {
            let _ = tx.send(());
            Ok(())
        });
        rx.await.expect("the work ran");
        while scheduler.status()[0].runs == 0 {
            tokio::task::yield_now().await;
        }
        let s = &scheduler.status()[0];
        assert_eq!((s.runs, s.every_ms, s.failures), (1, 0, 0));
    }
}
