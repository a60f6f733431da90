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

/// The deadline of the surrounding [`within`], if any, else what the registered
/// [`set_deadline_source`] finds.
pub(crate) fn current() -> Option<Instant> {
    DEADLINE
        .try_with(|d| *d)
        .ok()
        .or_else(|| SOURCE.get().and_then(|source| source()))
}

/// A request's deadline for its statements, as the HTTP edge puts it in the request's
/// extensions: for handlers that run in a task of their own, where [`within`]'s task-local
/// does not reach (a web framework's server functions run on a pool of their own).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestDeadline(pub Instant);

static SOURCE: std::sync::OnceLock<fn() -> Option<Instant>> = std::sync::OnceLock::new();

/// Registers where statements outside [`within`] find their request's deadline (typically:
/// the [`RequestDeadline`] of the request the framework is handling on this task). Once,
/// at start; later calls are ignored.
pub fn set_deadline_source(source: fn() -> Option<Instant>) {
    let _ = SOURCE.set(source);
}

/// How long a statement an embedded replica sends to its primary may wait outside any
/// request (tasks, maintenance, the indexer): long enough for any write we make, short
/// enough that a silent primary does not hold the single writer for minutes.
pub const REMOTE_STATEMENT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Runs libsql's future `f` without holding a runtime worker while SQLite works, and
/// interrupts its statement on `conn` at the deadline of the surrounding [`within`].
///
/// A statement an embedded replica sends to its primary waits on the network, where the
/// interrupt does nothing and libsql's client has no timeout of its own (a primary that
/// stopped answering held a write for minutes): past the deadline such a wait ends with
/// an error for which [`super::StoreError::is_primary_unreachable`] is true. (A local
/// statement never waits between polls, so only the interrupt can end it.)
pub(crate) async fn off_runtime<T, F>(
    conn: &libsql::Connection,
    remote: bool,
    f: F,
) -> Result<T, libsql::Error>
where
    F: Future<Output = Result<T, libsql::Error>>,
{
    use tokio::runtime::{Handle, RuntimeFlavor};
    let deadline = current();
    let _armed = deadline.map(|d| WATCHDOG.arm(conn, d));
    // Only a replica's statements wait between polls (on its primary), so only they get a
    // timer; the local ones are ended by the interrupt. Outside any request too.
    let wait_until =
        remote.then(|| deadline.unwrap_or_else(|| Instant::now() + REMOTE_STATEMENT_TIMEOUT));
    let bounded = async {
        match wait_until {
            None => f.await,
            Some(at) => match tokio::time::timeout_at(at.into(), f).await {
                Ok(done) => done,
                Err(_) => Err(libsql::Error::WriteDelegation(
                    "no answer from the primary in time".into(),
                )),
            },
        }
    };
    match Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == RuntimeFlavor::MultiThread && !*INLINE => {
            tokio::task::block_in_place(|| handle.block_on(bounded))
        }
        _ => bounded.await,
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
