//! Time as the task queue sees it: wall-clock milliseconds and "wake me at".
//!
//! Behind a trait so tests drive retries and leases with a [`ManualClock`] and never sleep.

use std::{
    future::Future,
    pin::Pin,
    sync::atomic::{AtomicI64, Ordering},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use tokio::sync::watch;

/// A boxed future that resolves when a point in time is reached.
pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Wall-clock time in milliseconds since the Unix epoch, and timers on the same scale.
pub trait Clock: Send + Sync + 'static {
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> i64;
    /// Resolves once [`Clock::now_ms`] is at least `at_ms`.
    fn sleep_until(&self, at_ms: i64) -> Sleep;
}

/// The real clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64)
    }

    fn sleep_until(&self, at_ms: i64) -> Sleep {
        let wait = (at_ms - self.now_ms()).max(0) as u64;
        Box::pin(tokio::time::sleep(Duration::from_millis(wait)))
    }
}

/// A clock that only moves when told to; timers fire as [`ManualClock::advance`] passes them.
#[derive(Debug)]
pub struct ManualClock {
    now: AtomicI64,
    ticks: watch::Sender<i64>,
}

impl ManualClock {
    /// A clock standing at `start_ms`.
    pub fn new(start_ms: i64) -> Self {
        Self {
            now: AtomicI64::new(start_ms),
            ticks: watch::channel(start_ms).0,
        }
    }

    /// Moves time forward, waking every timer that is now due.
    pub fn advance(&self, by: Duration) {
        let now =
            self.now.fetch_add(by.as_millis() as i64, Ordering::SeqCst) + by.as_millis() as i64;
        self.ticks.send_replace(now);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> i64 {
        self.now.load(Ordering::SeqCst)
    }

    fn sleep_until(&self, at_ms: i64) -> Sleep {
        let mut ticks = self.ticks.subscribe();
        Box::pin(async move {
            // `wait_for` checks the current value first, so an advance that happened between
            // subscribing and polling is not missed. The sender lives as long as the clock.
            let _ = ticks.wait_for(|now| *now >= at_ms).await;
        })
    }
}
