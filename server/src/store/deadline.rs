//! Keeping SQLite's work off the async threads, and bounding how long it may run.
//!
//! libsql's local backend runs SQLite synchronously inside its async methods: a statement
//! occupies the runtime worker that polls it for as long as it runs. With two workers (two
//! cores), two slow statements (a report's recursive query, a VACUUM, a LIKE over a long
//! queue) stopped every other request, health checks and event keep-alives included. So
//! every statement runs through [`off_runtime`]: on the multi-threaded runtime,
//! `block_in_place` hands the worker's other tasks to another thread while SQLite runs (a
//! current-thread runtime, in tests, runs it in place). BENCHMARKS.md ("Store") has its
//! cost on a point read, side by side with a bare connection.
//!
//! A statement inside [`within`] (the HTTP edge wraps every request in its timeout) is
//! interrupted when the deadline passes (`sqlite3_interrupt`, which another thread may
//! call) and fails with an error for which [`super::StoreError::is_interrupted`] is true:
//! the request timeout could not fire on its own, because the statement runs within a
//! single poll of the request's future. One watchdog thread serves every store; it sleeps
//! until the earliest armed deadline. Work outside `within` (tasks, maintenance) is not
//! bounded here. On an embedded replica's remote statements `interrupt` does nothing.

use std::{
    future::Future,
    sync::{Condvar, LazyLock, Mutex},
    time::Instant,
};

tokio::task_local! {
    static DEADLINE: Instant;
}

/// Runs `f` with statements bounded by `deadline`.
pub async fn within<F: Future>(deadline: Instant, f: F) -> F::Output {
    DEADLINE.scope(deadline, f).await
}

/// Runs libsql's future `f` without holding a runtime worker while SQLite works, and
/// interrupts its statement on `conn` at the deadline of the surrounding [`within`].
pub(crate) async fn off_runtime<F: Future>(conn: &libsql::Connection, f: F) -> F::Output {
    use tokio::runtime::{Handle, RuntimeFlavor};
    let _armed = DEADLINE
        .try_with(|d| *d)
        .ok()
        .map(|d| WATCHDOG.arm(conn, d));
    match Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == RuntimeFlavor::MultiThread && !*INLINE => {
            tokio::task::block_in_place(|| handle.block_on(f))
        }
        _ => f.await,
    }
}

/// `AION_STORE_INLINE=1`: statements run on the worker that polls them, as before this
/// module; only for side-by-side benchmarks (BENCHMARKS.md, "Store"). Read once.
static INLINE: LazyLock<bool> =
    LazyLock::new(|| std::env::var_os("AION_STORE_INLINE").is_some_and(|v| v == "1"));

/// The statements with a deadline, watched by one thread.
struct Watchdog {
    armed: Mutex<Armed>,
    wake: Condvar,
}

#[derive(Default)]
struct Armed {
    next: u64,
    /// (id, deadline, connection): as many as statements run at once, a handful.
    entries: Vec<(u64, Instant, libsql::Connection)>,
}

static WATCHDOG: LazyLock<&'static Watchdog> = LazyLock::new(|| {
    let dog: &'static Watchdog = Box::leak(Box::new(Watchdog {
        armed: Mutex::default(),
        wake: Condvar::new(),
    }));
    let spawned = std::thread::Builder::new()
        .name("aion-sql-deadline".into())
        .spawn(move || dog.run());
    if let Err(e) = spawned {
        tracing::error!("statement deadlines are off: cannot start their thread: {e}");
    }
    dog
});

/// A statement's deadline, disarmed when dropped.
struct Disarm(u64);

impl Drop for Disarm {
    fn drop(&mut self) {
        let mut armed = WATCHDOG.armed.lock().unwrap_or_else(|p| p.into_inner());
        armed.entries.retain(|(id, _, _)| *id != self.0);
    }
}

impl Watchdog {
    fn arm(&self, conn: &libsql::Connection, deadline: Instant) -> Disarm {
        let mut armed = self.armed.lock().unwrap_or_else(|p| p.into_inner());
        armed.next += 1;
        let id = armed.next;
        let earliest = armed.entries.iter().all(|(_, d, _)| deadline < *d);
        armed.entries.push((id, deadline, conn.clone()));
        drop(armed);
        if earliest {
            self.wake.notify_one();
        }
        Disarm(id)
    }

    fn run(&self) {
        let mut armed = self.armed.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            let now = Instant::now();
            armed.entries.retain(|(_, deadline, conn)| {
                if *deadline > now {
                    return true;
                }
                // Only an interrupt of a running statement has an effect; the entry goes
                // either way, so a connection is interrupted once per deadline.
                let _ = conn.interrupt();
                tracing::warn!("a statement ran past its request's deadline; interrupted");
                false
            });
            let next = armed.entries.iter().map(|(_, d, _)| *d).min();
            armed = match next {
                None => self.wake.wait(armed).unwrap_or_else(|p| p.into_inner()),
                Some(at) => {
                    let wait = at.saturating_duration_since(Instant::now());
                    self.wake
                        .wait_timeout(armed, wait)
                        .unwrap_or_else(|p| p.into_inner())
                        .0
                }
            };
        }
    }
}
