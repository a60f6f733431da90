//! How a store is opened: file location, pool size and the SQLite settings applied to every
//! connection. Defaults are the ones AION runs with; every one can be changed.

use std::{path::PathBuf, time::Duration};

/// Settings for [`Store::open`](super::Store::open).
///
/// ```
/// use std::time::Duration;
/// let config = server::store::StoreConfig::new("data/aion.db")
///     .readers(8)
///     .slow_query_threshold(Duration::from_millis(50));
/// assert_eq!(config.readers, 8);
/// ```
#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// The database file; its directory is created if missing.
    pub path: PathBuf,
    /// Reader connections in the pool (default 8).
    pub readers: usize,
    /// How long a connection waits on a lock before SQLITE_BUSY (default 5 s).
    pub busy_timeout: Duration,
    /// Page cache per connection in KiB (default 65,536 = 64 MiB).
    pub cache_size_kib: u32,
    /// Memory-mapped I/O size in bytes (default 256 MiB).
    pub mmap_size: u64,
    /// Page size for a new file (default 4096); ignored for an existing file.
    pub page_size: u32,
    /// Queries slower than this go to the slow-query log (default 100 ms).
    pub slow_query_threshold: Duration,
    /// Entries the slow-query log keeps (default 100).
    pub slow_query_capacity: usize,
    /// How often `PRAGMA optimize` runs in the background (default 1 h; zero turns it off).
    pub optimize_interval: Duration,
    /// A WAL replicator (Litestream) reads the WAL and checkpoints it itself (default false).
    /// The store's own checkpoints are then PASSIVE (a TRUNCATE checkpoint can never get past
    /// the replicator's read lock and would hold every writer for the busy timeout) and
    /// SQLite's automatic checkpoint is off. Without the replicator running nothing
    /// checkpoints, and the WAL grows until it is back.
    pub replicated: bool,
}

impl StoreConfig {
    /// Defaults for a database at `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            readers: 8,
            busy_timeout: Duration::from_secs(5),
            cache_size_kib: 64 * 1024,
            mmap_size: 256 * 1024 * 1024,
            page_size: 4096,
            slow_query_threshold: Duration::from_millis(100),
            slow_query_capacity: 100,
            optimize_interval: Duration::from_secs(3600),
            replicated: false,
        }
    }

    /// Sets the number of reader connections (at least 1).
    pub fn readers(mut self, readers: usize) -> Self {
        self.readers = readers.max(1);
        self
    }

    /// Sets the busy timeout.
    pub fn busy_timeout(mut self, timeout: Duration) -> Self {
        self.busy_timeout = timeout;
        self
    }

    /// Sets the page cache per connection, in KiB.
    pub fn cache_size_kib(mut self, kib: u32) -> Self {
        self.cache_size_kib = kib;
        self
    }

    /// Sets the memory-mapped I/O size in bytes (0 turns it off).
    pub fn mmap_size(mut self, bytes: u64) -> Self {
        self.mmap_size = bytes;
        self
    }

    /// Sets the slow-query threshold.
    pub fn slow_query_threshold(mut self, threshold: Duration) -> Self {
        self.slow_query_threshold = threshold;
        self
    }

    /// Sets how many slow queries are kept.
    pub fn slow_query_capacity(mut self, capacity: usize) -> Self {
        self.slow_query_capacity = capacity;
        self
    }

    /// Says whether a WAL replicator owns checkpoints (see [`StoreConfig::replicated`]).
    pub fn replicated(mut self, replicated: bool) -> Self {
        self.replicated = replicated;
        self
    }

    /// The checkpoint the store runs after maintenance and at shutdown.
    pub(crate) fn checkpoint_sql(&self) -> &'static str {
        if self.replicated {
            "PRAGMA wal_checkpoint(PASSIVE)"
        } else {
            "PRAGMA wal_checkpoint(TRUNCATE)"
        }
    }

    /// Sets the interval of the background `PRAGMA optimize` (zero: never).
    pub fn optimize_interval(mut self, interval: Duration) -> Self {
        self.optimize_interval = interval;
        self
    }

    /// The PRAGMAs every connection runs after opening.
    pub(crate) fn connection_pragmas(&self) -> String {
        format!(
            "PRAGMA busy_timeout = {};
             PRAGMA foreign_keys = ON;
             PRAGMA synchronous = NORMAL;
             PRAGMA cache_size = -{};
             PRAGMA temp_store = MEMORY;
             PRAGMA mmap_size = {};
             PRAGMA wal_autocheckpoint = {};",
            self.busy_timeout.as_millis(),
            self.cache_size_kib,
            self.mmap_size,
            // With a replicator, commits past 1,000 WAL pages would each try a checkpoint
            // that its read lock makes futile; it checkpoints on its own schedule.
            if self.replicated { 0 } else { 1000 },
        )
    }
}
