//! One writer, many readers.
//!
//! SQLite allows a single writer at a time, so writes are serialised here, behind an async
//! mutex around one connection, instead of letting several connections race for the lock and
//! retry on SQLITE_BUSY. Readers (WAL mode) never block the writer or each other; each takes
//! a connection of its own from the pool, because a libsql `Connection` clone shares one
//! SQLite handle and must not be used by two tasks at once.

use std::{ops::Deref, sync::Mutex};

use tokio::sync::{MutexGuard, Semaphore, SemaphorePermit};

use super::{Conn, StoreError};

/// Idle reader connections and the permits that bound their use.
pub(crate) struct ReaderPool {
    idle: Mutex<Vec<Conn>>,
    permits: Semaphore,
    size: usize,
}

impl ReaderPool {
    pub fn new(conns: Vec<Conn>) -> Self {
        let size = conns.len();
        Self {
            idle: Mutex::new(conns),
            permits: Semaphore::new(size),
            size,
        }
    }

    pub fn size(&self) -> usize {
        self.size
    }

    /// Readers in use right now.
    pub fn busy(&self) -> usize {
        self.size - self.permits.available_permits()
    }

    pub async fn get(&self) -> Result<Reader<'_>, StoreError> {
        let permit = self.permits.acquire().await.map_err(|_| StoreError::Open {
            path: "reader pool".into(),
            reason: "the store is closed".into(),
        })?;
        let conn = self
            .idle
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .pop()
            .expect("a permit guarantees an idle connection");
        Ok(Reader {
            conn: Some(conn),
            pool: self,
            _permit: permit,
        })
    }
}

/// A reader connection, returned to the pool when dropped.
pub struct Reader<'s> {
    conn: Option<Conn>,
    pool: &'s ReaderPool,
    _permit: SemaphorePermit<'s>,
}

impl Deref for Reader<'_> {
    type Target = Conn;
    fn deref(&self) -> &Conn {
        self.conn.as_ref().expect("present until drop")
    }
}

impl Drop for Reader<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            self.pool
                .idle
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(conn);
        }
    }
}

/// Exclusive use of the writer connection. Single statements run in autocommit; use
/// [`Writer::begin`] for several statements that must succeed together.
pub struct Writer<'s> {
    pub(crate) guard: MutexGuard<'s, Conn>,
    pub(crate) commits: &'s tokio::sync::watch::Sender<u64>,
}

impl Drop for Writer<'_> {
    /// Whoever watches [`Store::commits`](super::Store::commits) learns that the writer was
    /// used: the data may have changed.
    fn drop(&mut self) {
        self.commits.send_modify(|n| *n += 1);
    }
}

impl Deref for Writer<'_> {
    type Target = Conn;
    fn deref(&self) -> &Conn {
        &self.guard
    }
}

impl Writer<'_> {
    /// `BEGIN IMMEDIATE`: takes the write lock now, so the transaction cannot fail later
    /// with SQLITE_BUSY when it first writes.
    pub async fn begin(&mut self) -> Result<WriteTx<'_>, StoreError> {
        self.guard
            .execute("tx.begin", "BEGIN IMMEDIATE", ())
            .await?;
        Ok(WriteTx {
            conn: &self.guard,
            finished: false,
        })
    }
}

/// A write transaction. Commit it explicitly; one dropped without commit is rolled back
/// before the writer is used again.
pub struct WriteTx<'w> {
    conn: &'w Conn,
    finished: bool,
}

impl Deref for WriteTx<'_> {
    type Target = Conn;
    fn deref(&self) -> &Conn {
        self.conn
    }
}

impl WriteTx<'_> {
    /// Commits. Statements prepared in the transaction must be dropped first (the borrow
    /// checker enforces it: they borrow the transaction).
    pub async fn commit(mut self) -> Result<(), StoreError> {
        self.finished = true;
        match self.conn.execute("tx.commit", "COMMIT", ()).await {
            Ok(_) => Ok(()),
            Err(e) => {
                let _ = self.conn.execute("tx.rollback", "ROLLBACK", ()).await;
                Err(e)
            }
        }
    }

    /// Rolls back.
    pub async fn rollback(mut self) -> Result<(), StoreError> {
        self.finished = true;
        self.conn
            .execute("tx.rollback", "ROLLBACK", ())
            .await
            .map(|_| ())
    }
}

impl Drop for WriteTx<'_> {
    fn drop(&mut self) {
        if !self.finished {
            tracing::debug!(
                "write transaction dropped without commit; it is rolled back before the next write"
            );
        }
    }
}

/// Rolls back a transaction a previous holder left open (dropped without commit, or a
/// request that was cancelled half-way).
pub(crate) async fn clean_writer(conn: &Conn) -> Result<(), StoreError> {
    if !conn.conn.is_autocommit() {
        conn.execute("tx.rollback_abandoned", "ROLLBACK", ())
            .await?;
    }
    Ok(())
}
