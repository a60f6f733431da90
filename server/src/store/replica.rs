//! The store as an embedded replica of a libsql server (`StoreConfig::primary`): opening it,
//! and catching up to a position another instance wrote at before reading.
//!
//! Why catching up: an instance learns of another's write through the cache invalidation
//! (Redis), which can arrive before its replica has pulled the write from the primary. Had
//! it reloaded the row then, it would have cached the old one for a whole cache lifetime.
//! So the writer sends its replication position (libsql's frame number after its last
//! write, [`Replica::written`]) with the invalidation; the receiver records it
//! ([`Replica::want`]), and the next read first syncs the replica up to it
//! ([`Replica::catch_up`]): one round trip to the primary, not a sync interval.
//!
//! If the primary cannot be reached, the read goes on from what the replica has (reads must
//! outlive the primary), and the attempt is not repeated for [`RETRY_AFTER`].
//!
//! Between catch-ups the replica pulls what other hosts wrote every sync interval
//! ([`spawn_syncer`]; libsql's own interval would do the same, but silently): each sync
//! records whether the primary answered and when the replica last had everything, which
//! `/metrics` and the dashboard show (`aion_db_primary_reachable`, the sync's age).

use std::{
    sync::{
        Weak,
        atomic::{AtomicBool, AtomicU64, Ordering::Relaxed},
    },
    time::{Duration, Instant},
};

use super::config::Primary;

/// Longest wait for a primary's first sync when a replica opens.
pub const PRIMARY_TIMEOUT: Duration = Duration::from_secs(10);

/// Longest a read waits for its replica to catch up before it reads what is there.
pub const CATCH_UP_TIMEOUT: Duration = Duration::from_secs(1);

/// How long after a failed catch-up reads go straight to the replica.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// Longest a periodic sync may take before the primary counts as unreachable (a sync after
/// a long absence may pull many frames, so longer than a catch-up).
const SYNC_TIMEOUT: Duration = Duration::from_secs(5);

/// An embedded replica of `primary` at `path`, synced once before it is used (so a server
/// that cannot be reached fails the start, not the first request), and the position that
/// sync reached.
pub async fn open(
    path: &std::path::Path,
    primary: &Primary,
) -> Result<(libsql::Database, u64), libsql::Error> {
    let builder = libsql::Builder::new_remote_replica(
        path,
        primary.url().to_owned(),
        primary.auth_token().to_owned(),
    )
    .read_your_writes(true);
    let db = builder.build().await?;
    match tokio::time::timeout(PRIMARY_TIMEOUT, db.sync()).await {
        Ok(synced) => synced.map(|r| (db, r.frame_no().unwrap_or(0))),
        Err(_) => Err(libsql::Error::Sync(
            format!(
                "no answer from {} within {PRIMARY_TIMEOUT:?}",
                primary.url()
            )
            .into(),
        )),
    }
}

/// Where this replica stands against the positions other instances wrote at.
#[derive(Default)]
pub struct Replica {
    /// The highest position another instance announced.
    wanted: AtomicU64,
    /// The highest position this replica is known to have.
    synced: AtomicU64,
    /// One catch-up at a time; the others wait for it and then find nothing to do.
    syncing: tokio::sync::Mutex<()>,
    /// Until when reads skip catching up (after a failure).
    paused_until: std::sync::Mutex<Option<Instant>>,
    /// Catch-ups done, and failed.
    pub(super) caught_up: AtomicU64,
    pub(super) failed: AtomicU64,
    /// Whether the primary answered the last sync or catch-up.
    reachable: AtomicBool,
    /// When the replica last synced with the primary (Unix milliseconds; 0: never).
    last_sync_ms: AtomicU64,
    /// Periodic syncs that failed.
    pub(super) sync_failures: AtomicU64,
}

impl Replica {
    /// The position of this instance's own last write (0 before any).
    pub fn written(db: &libsql::Database) -> u64 {
        db.max_write_replication_index().unwrap_or(0)
    }

    /// Another instance wrote at `position`: reads from now on wait until this replica
    /// has it.
    pub fn want(&self, position: u64) {
        self.wanted.fetch_max(position, Relaxed);
    }

    /// The highest position announced and the highest known here.
    pub fn positions(&self) -> (u64, u64) {
        (self.wanted.load(Relaxed), self.synced.load(Relaxed))
    }

    /// Records an exchange with the primary: answered at `position`, or not at all.
    pub(super) fn answered(&self, position: Option<u64>) {
        let was = self.reachable.swap(position.is_some(), Relaxed);
        match position {
            Some(at) => {
                self.synced.fetch_max(at, Relaxed);
                self.last_sync_ms.store(unix_ms(), Relaxed);
                if !was {
                    tracing::info!(position = at, "the primary database answers");
                }
            }
            None if was => tracing::warn!(
                "the primary database cannot be reached: reads go on from this replica, writes are refused"
            ),
            None => {}
        }
    }

    /// Whether the primary answered the last exchange, and how long ago the replica last
    /// synced (`None`: never).
    pub fn reachability(&self) -> (bool, Option<Duration>) {
        let last = self.last_sync_ms.load(Relaxed);
        let age = (last > 0).then(|| Duration::from_millis(unix_ms().saturating_sub(last)));
        (self.reachable.load(Relaxed), age)
    }

    /// Pulls what the primary has (the first sync at open, then every sync interval).
    pub async fn sync(&self, db: &libsql::Database) {
        match tokio::time::timeout(SYNC_TIMEOUT, db.sync()).await {
            Ok(Ok(replicated)) => self.answered(Some(replicated.frame_no().unwrap_or(0))),
            _ => {
                self.sync_failures.fetch_add(1, Relaxed);
                self.answered(None);
            }
        }
    }

    fn paused(&self) -> bool {
        let until = *self.paused_until.lock().unwrap_or_else(|p| p.into_inner());
        until.is_some_and(|until| Instant::now() < until)
    }

    /// Syncs `db` up to the wanted position if it is behind it (see the module comment).
    pub async fn catch_up(&self, db: &libsql::Database) {
        let wanted = self.wanted.load(Relaxed);
        if wanted <= self.synced.load(Relaxed) || self.paused() {
            return;
        }
        let _one = self.syncing.lock().await;
        let wanted = self.wanted.load(Relaxed);
        if wanted <= self.synced.load(Relaxed) {
            return;
        }
        match tokio::time::timeout(CATCH_UP_TIMEOUT, db.sync_until(wanted)).await {
            Ok(Ok(replicated)) => {
                self.answered(Some(replicated.frame_no().unwrap_or(0).max(wanted)));
                self.caught_up.fetch_add(1, Relaxed);
            }
            failed => {
                self.failed.fetch_add(1, Relaxed);
                self.answered(None);
                let why = match failed {
                    Ok(Err(e)) => e.to_string(),
                    _ => format!("no answer within {CATCH_UP_TIMEOUT:?}"),
                };
                tracing::warn!(wanted, "the replica could not catch up: {why}");
                *self.paused_until.lock().unwrap_or_else(|p| p.into_inner()) =
                    Some(Instant::now() + RETRY_AFTER);
            }
        }
    }
}

/// Syncs the store's replica every `every` for as long as the store is open.
pub(super) fn spawn_syncer(store: Weak<super::Inner>, every: Duration) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let Some(inner) = store.upgrade() else { return };
            inner.replica.sync(&inner.db).await;
        }
    });
}

fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}
