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
    /// A libsql server this store is an embedded replica of (default none: the file is the
    /// database). See [`Primary`].
    pub primary: Option<Primary>,
}

/// A libsql server (`sqld`, or a hosted one) that owns the database when instances run on
/// several hosts. The store is then an embedded replica of it: `path` holds a local copy
/// that reads are served from, writes go to the server, and the copy is synced after each
/// write (read-your-writes) and every `sync_interval`. SQLite settings (WAL, PRAGMAs) are
/// the server's business and are not applied to the copy.
///
/// ```
/// use server::store::Primary;
/// let p = Primary::parse("https://db.example.org", Some("secret")).unwrap();
/// assert_eq!(p.url(), "https://db.example.org");
/// assert!(!format!("{p:?}").contains("secret"), "the token is never printed");
/// assert!(Primary::parse("ftp://db", None).is_err());
/// ```
#[derive(Clone)]
pub struct Primary {
    url: String,
    auth_token: String,
    /// How often the copy pulls changes made by other hosts (default 1 s; `None`: only after
    /// this host's own writes and at start).
    pub sync_interval: Option<Duration>,
}

impl Primary {
    /// A server at `url` (`http://`, `https://` or `libsql://`, which is HTTPS), with the
    /// token it expects, if any. The error says what is wrong with the URL.
    pub fn parse(url: &str, auth_token: Option<&str>) -> Result<Self, String> {
        let url = url.trim();
        let Some((scheme, rest)) = url.split_once("://") else {
            return Err(format!(
                "{url:?} is not a URL (expected http://, https:// or libsql://)"
            ));
        };
        if !matches!(scheme, "http" | "https" | "libsql") {
            return Err(format!(
                "scheme {scheme:?} is not supported (expected http, https or libsql)"
            ));
        }
        if rest.is_empty() || rest.starts_with('/') {
            return Err(format!("{url:?} names no host"));
        }
        Ok(Self {
            url: url.to_owned(),
            auth_token: auth_token.unwrap_or_default().to_owned(),
            sync_interval: Some(Duration::from_secs(1)),
        })
    }

    /// The server's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    pub(crate) fn auth_token(&self) -> &str {
        &self.auth_token
    }
}

impl std::fmt::Debug for Primary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Primary")
            .field("url", &self.url)
            .field(
                "auth_token",
                &if self.auth_token.is_empty() {
                    "none"
                } else {
                    "set"
                },
            )
            .field("sync_interval", &self.sync_interval)
            .finish()
    }
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
            primary: None,
        }
    }

    /// Makes the store an embedded replica of a libsql server (see [`Primary`]).
    pub fn primary(mut self, primary: Primary) -> Self {
        self.primary = Some(primary);
        self
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
