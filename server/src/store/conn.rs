//! A timed connection: the only way the rest of the code runs SQL.
//!
//! Helpers read every row before returning, so no statement stays active behind the caller's
//! back (an unread `Rows` keeps its statement open and a later COMMIT then fails with "SQL
//! statements in progress"). Each call is labelled with a static query kind and timed, and
//! runs off the async threads, bounded by its request's deadline ([`super::deadline`]).

use std::{sync::Arc, time::Instant};

use libsql::{Connection, Row, params::IntoParams};

use super::{StoreError, deadline::off_runtime, timing::QueryTimings};

/// A libsql connection plus the timings it reports to.
pub struct Conn {
    pub(crate) conn: Connection,
    pub(crate) timings: Arc<QueryTimings>,
    /// A connection of an embedded replica: some statements wait on its primary.
    pub(crate) remote: bool,
}

impl Conn {
    /// Runs a query and maps every row.
    pub async fn query<T>(
        &self,
        kind: &'static str,
        sql: &str,
        params: impl IntoParams,
        map: impl FnMut(&Row) -> Result<T, libsql::Error>,
    ) -> Result<Vec<T>, StoreError> {
        self.query_sized(kind, sql, params, 0, map).await
    }

    /// [`Conn::query`] with room for `expected` rows reserved up front, so large results
    /// are not copied while the vector grows.
    pub async fn query_sized<T>(
        &self,
        kind: &'static str,
        sql: &str,
        params: impl IntoParams,
        expected: usize,
        mut map: impl FnMut(&Row) -> Result<T, libsql::Error>,
    ) -> Result<Vec<T>, StoreError> {
        let start = Instant::now();
        let result = off_runtime(&self.conn, self.remote, async {
            let mut rows = self.conn.query(sql, params).await?;
            let mut out = Vec::with_capacity(expected);
            while let Some(row) = rows.next().await? {
                out.push(map(&row)?);
            }
            Ok::<_, libsql::Error>(out)
        })
        .await;
        let n = result.as_ref().map_or(0, |v| v.len() as u64);
        self.timings
            .record(kind, sql, start.elapsed(), n, result.is_ok());
        result.map_err(|e| StoreError::query(kind, e))
    }

    /// Runs a query expected to return at most one row.
    pub async fn query_opt<T>(
        &self,
        kind: &'static str,
        sql: &str,
        params: impl IntoParams,
        map: impl FnMut(&Row) -> Result<T, libsql::Error>,
    ) -> Result<Option<T>, StoreError> {
        Ok(self.query(kind, sql, params, map).await?.into_iter().next())
    }

    /// Runs a query returning one integer (e.g. `SELECT count(*)`).
    pub async fn query_i64(
        &self,
        kind: &'static str,
        sql: &str,
        params: impl IntoParams,
    ) -> Result<i64, StoreError> {
        self.query_opt(kind, sql, params, |r| r.get::<i64>(0))
            .await?
            .ok_or_else(|| StoreError::query(kind, libsql::Error::QueryReturnedNoRows))
    }

    /// Runs a statement that returns no rows; the number of rows it changed.
    pub async fn execute(
        &self,
        kind: &'static str,
        sql: &str,
        params: impl IntoParams,
    ) -> Result<u64, StoreError> {
        let start = Instant::now();
        let result = off_runtime(&self.conn, self.remote, self.conn.execute(sql, params)).await;
        let n = *result.as_ref().unwrap_or(&0);
        self.timings
            .record(kind, sql, start.elapsed(), n, result.is_ok());
        result.map_err(|e| StoreError::query(kind, e))
    }

    /// Runs several statements separated by `;` (schema, PRAGMAs), reading any rows they return.
    pub async fn execute_batch(&self, kind: &'static str, sql: &str) -> Result<(), StoreError> {
        let start = Instant::now();
        let result = off_runtime(&self.conn, self.remote, async {
            let mut batch = self.conn.execute_batch(sql).await?;
            while let Some(rows) = batch.next_stmt_row() {
                if let Some(mut rows) = rows {
                    while rows.next().await?.is_some() {}
                }
            }
            Ok::<_, libsql::Error>(())
        })
        .await;
        self.timings
            .record(kind, sql, start.elapsed(), 0, result.is_ok());
        result.map_err(|e| StoreError::query(kind, e))
    }

    /// Prepares a statement for many executions (batch inserts). Its executions are timed
    /// together and recorded once, under `kind`, when it is dropped.
    pub async fn prepare(&self, kind: &'static str, sql: &str) -> Result<Prepared<'_>, StoreError> {
        let stmt = off_runtime(&self.conn, self.remote, self.conn.prepare(sql))
            .await
            .map_err(|e| StoreError::query(kind, e))?;
        Ok(Prepared {
            stmt,
            kind,
            sql: sql.to_owned(),
            conn: self,
            rows: 0,
            elapsed: std::time::Duration::ZERO,
            failed: false,
        })
    }

    /// The rowid of the last insert on this connection.
    pub fn last_insert_rowid(&self) -> i64 {
        self.conn.last_insert_rowid()
    }
}

/// A prepared statement executed many times; dropped before its transaction commits.
pub struct Prepared<'c> {
    stmt: libsql::Statement,
    kind: &'static str,
    sql: String,
    conn: &'c Conn,
    rows: u64,
    elapsed: std::time::Duration,
    failed: bool,
}

impl Prepared<'_> {
    /// Executes once with `params`; the number of rows changed.
    pub async fn execute(&mut self, params: impl IntoParams) -> Result<u64, StoreError> {
        let start = Instant::now();
        let result =
            off_runtime(&self.conn.conn, self.conn.remote, self.stmt.execute(params)).await;
        // A stepped statement must be reset before it can be bound again.
        self.stmt.reset();
        self.elapsed += start.elapsed();
        match result {
            Ok(n) => {
                self.rows += n as u64;
                Ok(n as u64)
            }
            Err(e) => {
                self.failed = true;
                Err(StoreError::query(self.kind, e))
            }
        }
    }

    /// Runs the statement as a query and maps every row.
    pub async fn query<T>(
        &mut self,
        params: impl IntoParams,
        mut map: impl FnMut(&Row) -> Result<T, libsql::Error>,
    ) -> Result<Vec<T>, StoreError> {
        let start = Instant::now();
        let stmt = &mut self.stmt;
        let result = off_runtime(&self.conn.conn, self.conn.remote, async {
            let mut rows = stmt.query(params).await?;
            let mut out = Vec::new();
            while let Some(row) = rows.next().await? {
                out.push(map(&row)?);
            }
            Ok::<_, libsql::Error>(out)
        })
        .await;
        self.stmt.reset();
        self.elapsed += start.elapsed();
        match result {
            Ok(v) => {
                self.rows += v.len() as u64;
                Ok(v)
            }
            Err(e) => {
                self.failed = true;
                Err(StoreError::query(self.kind, e))
            }
        }
    }
}

impl Drop for Prepared<'_> {
    fn drop(&mut self) {
        if self.rows > 0 || self.failed || !self.elapsed.is_zero() {
            self.conn
                .timings
                .record(self.kind, &self.sql, self.elapsed, self.rows, !self.failed);
        }
    }
}
