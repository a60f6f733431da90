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

use std::{
    sync::atomic::{AtomicU64, Ordering::Relaxed},
    time::{Duration, Instant},
};

use super::config::Primary;

/// Longest wait for a primary's first sync when a replica opens.
pub const PRIMARY_TIMEOUT: Duration = Duration::from_secs(10);

/// Longest a read waits for its replica to catch up before it reads what is there.
pub const CATCH_UP_TIMEOUT: Duration = Duration::from_secs(1);

/// How long after a failed catch-up reads go straight to the replica.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// An embedded replica of `primary` at `path`, synced once before it is used (so a server
/// that cannot be reached fails the start, not the first request).
pub async fn open(
    path: &std::path::Path,
    primary: &Primary,
) -> Result<libsql::Database, libsql::Error> {
    let mut builder = libsql::Builder::new_remote_replica(
        path,
        primary.url().to_owned(),
        primary.auth_token().to_owned(),
    )
    .read_your_writes(true);
    if let Some(every) = primary.sync_interval {
        builder = builder.sync_interval(every);
    }
    let db = builder.build().await?;
    match tokio::time::timeout(PRIMARY_TIMEOUT, db.sync()).await {
        Ok(synced) => synced.map(|_| db),
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
                let at = replicated.frame_no().unwrap_or(0).max(wanted);
                self.synced.fetch_max(at, Relaxed);
                self.caught_up.fetch_add(1, Relaxed);
            }
            failed => {
                self.failed.fetch_add(1, Relaxed);
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
