//! What can go wrong in the store, with enough context to act on.

use std::path::PathBuf;

/// Errors of the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The file or its directory could not be opened or created.
    #[error("cannot open database {path}: {reason}")]
    Open {
        /// The database file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A statement failed; `kind` names the query (never its bound values).
    #[error("query {kind} failed: {source}")]
    Query {
        /// The query's label.
        kind: &'static str,
        /// libsql's error.
        #[source]
        source: libsql::Error,
    },
    /// A migration failed; nothing of it was applied.
    #[error("migration {version} ({name}) failed: {reason}")]
    Migration {
        /// Its version.
        version: u32,
        /// Its name.
        name: &'static str,
        /// Why.
        reason: String,
    },
    /// A backup was written but did not pass its checks.
    #[error("backup {path} failed verification: {reason}")]
    Backup {
        /// The backup file.
        path: PathBuf,
        /// What the check found.
        reason: String,
    },
}

impl StoreError {
    /// Wraps a libsql error with the query's label.
    pub fn query(kind: &'static str, source: libsql::Error) -> Self {
        Self::Query { kind, source }
    }

    /// True for SQLITE_BUSY / SQLITE_LOCKED: another connection held a lock too long.
    pub fn is_busy(&self) -> bool {
        match self {
            Self::Query {
                source: libsql::Error::SqliteFailure(code, _),
                ..
            } => matches!(code & 0xff, 5 | 6),
            Self::Query { source, .. } => {
                let text = source.to_string();
                text.contains("database is locked") || text.contains("SQLITE_BUSY")
            }
            _ => false,
        }
    }

    /// True when the database cannot be written now but may be later: the disk is full
    /// (SQLITE_FULL), the file or its file system is read-only (SQLITE_READONLY, and the
    /// I/O errors a read-only remount gives), or a file cannot be opened (SQLITE_CANTOPEN).
    /// Writes fail until the cause is fixed; reads from the cache and the WAL go on.
    pub fn is_unwritable(&self) -> bool {
        match self {
            Self::Query {
                source: libsql::Error::SqliteFailure(code, _),
                ..
            } => matches!(code & 0xff, 8 | 10 | 13 | 14),
            Self::Query { source, .. } => {
                let text = source.to_string();
                text.contains("database or disk is full")
                    || text.contains("readonly database")
                    || text.contains("disk I/O error")
            }
            _ => false,
        }
    }

    /// True when the statement was interrupted because its request's deadline passed
    /// (SQLITE_INTERRUPT; see [`super::within`]).
    pub fn is_interrupted(&self) -> bool {
        match self {
            Self::Query {
                source: libsql::Error::SqliteFailure(code, _),
                ..
            } => code & 0xff == 9,
            Self::Query { source, .. } => source.to_string().contains("interrupted"),
            _ => false,
        }
    }

    /// True when this instance is an embedded replica and its primary (the libsql server)
    /// could not be reached: a write it delegates, or the sync after it, failed on the
    /// network. Reads from the local replica go on; writes wait for the primary.
    pub fn is_primary_unreachable(&self) -> bool {
        matches!(
            self,
            Self::Query {
                source: libsql::Error::WriteDelegation(_)
                    | libsql::Error::Replication(_)
                    | libsql::Error::Sync(_),
                ..
            }
        )
    }

    /// True when a UNIQUE, FOREIGN KEY or CHECK constraint refused the write.
    pub fn is_constraint(&self) -> bool {
        match self {
            Self::Query {
                source: libsql::Error::SqliteFailure(code, _),
                ..
            } => code & 0xff == 19,
            _ => false,
        }
    }
}
