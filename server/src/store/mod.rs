//! The libsql store: one database file in WAL mode, one writer connection and a pool of
//! readers, versioned migrations, timed queries and maintenance.
//!
//! One writer, many readers: SQLite allows a single writer, so writes are serialised here
//! (with `BEGIN IMMEDIATE`) instead of retrying SQLITE_BUSY; readers never wait for it.
//! The store knows nothing about what it stores: the application supplies its migrations and
//! its SQL, labelled with a query kind for the timings.

mod checkpoints;
mod config;
mod conn;
mod deadline;
mod dump;
mod error;
mod local_sqld;
mod maintenance;
mod migrate;
mod pool;
mod replica;
mod timing;

use std::{sync::Arc, time::Duration};

pub use config::{Primary, StoreConfig};
pub use conn::{Conn, Prepared};
pub use deadline::{RequestDeadline, set_deadline_source, within};
pub use error::StoreError;
pub use libsql::{Error as SqlError, Row, Value, ValueType, params, params::IntoParams};
pub use local_sqld::LocalSqld;
pub use maintenance::{
    BackupReport, CheckpointReport, DbStats, IndexInfo, TableRows, VacuumReport,
};
pub use migrate::Migration;
pub use pool::{Reader, WriteTx, Writer};
pub use timing::{QueryKindSnapshot, SlowQuery};

use pool::ReaderPool;

pub use replica::{CATCH_UP_TIMEOUT, PRIMARY_TIMEOUT};

use crate::metrics::HistogramSnapshot;
use timing::QueryTimings;

/// Where an embedded replica stands ([`Store::replica_positions`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplicaPositions {
    /// This instance's last write.
    pub written: u64,
    /// The highest position other instances announced.
    pub wanted: u64,
    /// The highest position this replica is known to have reached by catching up.
    pub synced: u64,
    /// Catch-ups done.
    pub caught_up: u64,
    /// Catch-ups that failed (the read went on from what the replica had).
    pub failed: u64,
    /// Whether the primary answered the last sync or catch-up.
    pub primary_reachable: bool,
    /// How long ago the replica last synced with the primary (`None`: never since start).
    pub last_sync_age: Option<Duration>,
    /// Periodic syncs that failed.
    pub sync_failures: u64,
}

/// A handle to the database; cheap to clone.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// use server::store::{Store, StoreConfig, params};
/// let dir = tempfile::tempdir().unwrap();
/// let store = Store::open(StoreConfig::new(dir.path().join("app.db"))).await.unwrap();
///
/// let mut writer = store.write().await.unwrap();
/// let tx = writer.begin().await.unwrap();
/// tx.execute("demo.create", "CREATE TABLE t (x INTEGER)", ()).await.unwrap();
/// tx.execute("demo.insert", "INSERT INTO t VALUES (?1)", params![42]).await.unwrap();
/// tx.commit().await.unwrap();
/// drop(writer);
///
/// let reader = store.read().await.unwrap();
/// assert_eq!(reader.query_i64("demo.sum", "SELECT sum(x) FROM t", ()).await.unwrap(), 42);
/// # });
/// ```
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    db: libsql::Database,
    writer: tokio::sync::Mutex<Conn>,
    readers: ReaderPool,
    timings: Arc<QueryTimings>,
    config: StoreConfig,
    commits: tokio::sync::watch::Sender<u64>,
    checkpoints: checkpoints::CheckpointWatch,
    replica: replica::Replica,
}

impl Store {
    /// Opens (or creates) the database, applies the PRAGMAs to every connection and starts
    /// the periodic `PRAGMA optimize` if configured.
    pub async fn open(config: StoreConfig) -> Result<Self, StoreError> {
        let open_err = |reason: String| StoreError::Open {
            path: config.path.clone(),
            reason,
        };
        if let Some(dir) = config.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| open_err(format!("cannot create {}: {e}", dir.display())))?;
        }
        let (db, opened_at) = match &config.primary {
            None => libsql::Builder::new_local(&config.path)
                .build()
                .await
                .map(|db| (db, None)),
            Some(primary) => replica::open(&config.path, primary)
                .await
                .map(|(db, at)| (db, Some(at))),
        }
        .map_err(|e| open_err(e.to_string()))?;
        let timings = Arc::new(QueryTimings::new(
            config.slow_query_threshold,
            config.slow_query_capacity,
        ));
        let connect = || -> Result<Conn, StoreError> {
            Ok(Conn {
                conn: db.connect().map_err(|e| open_err(e.to_string()))?,
                timings: timings.clone(),
                remote: config.primary.is_some(),
            })
        };

        // A replica's settings are its server's: PRAGMAs there would be sent to it.
        let local = config.primary.is_none();
        let writer = connect()?;
        // page_size only takes effect on a new, empty file; journal_mode=WAL is persistent.
        if local {
            writer
                .execute_batch(
                    "store.open",
                    &format!(
                        "PRAGMA page_size = {}; PRAGMA journal_mode = WAL; {} PRAGMA optimize = 0x10002;",
                        config.page_size,
                        config.connection_pragmas()
                    ),
                )
                .await
                .map_err(|e| open_err(e.to_string()))?;
        }
        let mut readers = Vec::with_capacity(config.readers);
        for _ in 0..config.readers {
            let reader = connect()?;
            if local {
                reader
                    .execute_batch(
                        "store.open",
                        &format!("{} PRAGMA query_only = ON;", config.connection_pragmas()),
                    )
                    .await
                    .map_err(|e| open_err(e.to_string()))?;
            }
            readers.push(reader);
        }
        let store = Self {
            inner: Arc::new(Inner {
                db,
                writer: tokio::sync::Mutex::new(writer),
                readers: ReaderPool::new(readers),
                timings,
                config,
                commits: tokio::sync::watch::Sender::new(0),
                checkpoints: Default::default(),
                replica: Default::default(),
            }),
        };
        store.spawn_optimizer();
        if let Some(primary) = &store.inner.config.primary {
            // The open's own sync says where the replica stands.
            store.inner.replica.answered(opened_at);
            if let Some(every) = primary.sync_interval {
                replica::spawn_syncer(Arc::downgrade(&store.inner), every);
            }
        }
        Ok(store)
    }

    /// Why the writer was not free by the request's deadline: on a replica, the writer is
    /// most likely waiting on the primary; else another write held it too long (busy).
    fn writer_unavailable(&self) -> StoreError {
        let source = if self.is_replica() {
            libsql::Error::WriteDelegation("the writer is waiting for the primary".into())
        } else {
            libsql::Error::SqliteFailure(5, "database is locked: the writer was busy".into())
        };
        StoreError::query("store.write", source)
    }

    /// Whether this store is an embedded replica of a libsql server.
    pub fn is_replica(&self) -> bool {
        self.inner.config.primary.is_some()
    }

    /// A reader connection; waits if all are in use. On a replica that another instance's
    /// announced write is ahead of, the replica first catches up to it (see [`replica`]).
    pub async fn read(&self) -> Result<Reader<'_>, StoreError> {
        if self.is_replica() {
            self.inner.replica.catch_up(&self.inner.db).await;
        }
        self.inner.readers.get().await
    }

    /// On a replica, the replication position of this instance's last write (what another
    /// instance must have before it reads again); `None` on a local database.
    pub fn written_position(&self) -> Option<u64> {
        self.is_replica()
            .then(|| replica::Replica::written(&self.inner.db))
    }

    /// Another instance wrote at `position`: this replica's next reads wait until it has
    /// it (at most [`CATCH_UP_TIMEOUT`]). Nothing on a local database.
    pub fn want_position(&self, position: u64) {
        if self.is_replica() {
            self.inner.replica.want(position);
        }
    }

    /// On a replica: the highest position announced by other instances, the highest this
    /// replica is known to have, and the catch-ups done and failed.
    pub fn replica_positions(&self) -> Option<ReplicaPositions> {
        use std::sync::atomic::Ordering::Relaxed;
        self.is_replica().then(|| {
            let r = &self.inner.replica;
            let (wanted, synced) = r.positions();
            let (primary_reachable, last_sync_age) = r.reachability();
            ReplicaPositions {
                written: replica::Replica::written(&self.inner.db),
                wanted,
                synced,
                caught_up: r.caught_up.load(Relaxed),
                failed: r.failed.load(Relaxed),
                primary_reachable,
                last_sync_age,
                sync_failures: r.sync_failures.load(Relaxed),
            }
        })
    }

    /// The writer connection; waits for the current writer to finish, within the request's
    /// deadline if there is one (a 503 then, never a request held past its timeout).
    pub async fn write(&self) -> Result<Writer<'_>, StoreError> {
        let lock = self.inner.writer.lock();
        let guard = match deadline::current() {
            None => lock.await,
            Some(at) => tokio::time::timeout_at(at.into(), lock)
                .await
                .map_err(|_| self.writer_unavailable())?,
        };
        pool::clean_writer(&guard).await?;
        Ok(Writer {
            guard,
            commits: &self.inner.commits,
        })
    }

    /// A counter that grows each time the writer is released, for background work that
    /// follows changes (such as an indexer) without polling.
    pub fn commits(&self) -> tokio::sync::watch::Receiver<u64> {
        self.inner.commits.subscribe()
    }

    /// The configuration the store was opened with.
    pub fn config(&self) -> &StoreConfig {
        &self.inner.config
    }

    /// Latency percentiles, error and row counts per query kind.
    pub fn query_timings(&self) -> Vec<QueryKindSnapshot> {
        self.inner.timings.snapshot()
    }

    /// Latency of every query since the previous call (one reader of it: a sampler).
    pub fn drain_recent_timings(&self) -> HistogramSnapshot {
        self.inner.timings.drain_recent()
    }

    /// The slowest recent queries, newest first.
    pub fn slow_queries(&self) -> Vec<SlowQuery> {
        self.inner.timings.slow_queries()
    }

    /// Reader connections in use and in total.
    pub fn readers_in_use(&self) -> (usize, usize) {
        (self.inner.readers.busy(), self.inner.readers.size())
    }

    /// A connection outside the pool, for work that must not hold a pooled one (backups).
    fn dedicated(&self) -> Result<Conn, StoreError> {
        Ok(Conn {
            conn: self.inner.db.connect().map_err(|e| StoreError::Open {
                path: self.inner.config.path.clone(),
                reason: e.to_string(),
            })?,
            timings: self.inner.timings.clone(),
            remote: self.is_replica(),
        })
    }

    fn spawn_optimizer(&self) {
        let interval = self.inner.config.optimize_interval;
        if interval.is_zero() {
            return;
        }
        let weak = Arc::downgrade(&self.inner);
        tokio::spawn(async move {
            let mut tick =
                tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let Some(inner) = weak.upgrade() else { return };
                let store = Store { inner };
                if let Err(e) = store.optimize().await {
                    tracing::warn!("periodic PRAGMA optimize failed: {e}");
                }
            }
        });
    }
}

/// Milliseconds of a duration, for reports.
fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

#[cfg(test)]
mod tests;
