//! Looking after the database: statistics, ANALYZE, optimize, VACUUM, WAL checkpoints and
//! verified online backups.
//!
//! A backup is `VACUUM INTO` a new file, taken while holding the writer so the source cannot
//! change underneath it; readers carry on. An embedded replica loads its primary's dump
//! instead ([`super::dump`]). The copy is then opened on its own and must pass
//! `PRAGMA integrity_check` and have exactly the source's row counts, or the backup is
//! deleted and reported as failed.

use std::{
    path::{Path, PathBuf},
    time::Instant,
};

use serde::Serialize;

use super::{Conn, Store, StoreError, millis};

/// Rows in one table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TableRows {
    /// Table name.
    pub name: String,
    /// Row count.
    pub rows: i64,
}

/// One index.
#[derive(Debug, Clone, Serialize)]
pub struct IndexInfo {
    /// Index name.
    pub name: String,
    /// The table it indexes.
    pub table: String,
}

/// What `PRAGMA`s and the file system say about the database.
#[derive(Debug, Clone, Serialize)]
pub struct DbStats {
    /// The database file.
    pub path: PathBuf,
    /// Size of the main file.
    pub file_bytes: u64,
    /// Size of the write-ahead log.
    pub wal_bytes: u64,
    /// Page size.
    pub page_size: i64,
    /// Pages in the file.
    pub page_count: i64,
    /// Unused pages (VACUUM returns them).
    pub freelist_count: i64,
    /// `wal` when healthy.
    pub journal_mode: String,
    /// 0 off, 1 normal, 2 full, 3 extra.
    pub synchronous: i64,
    /// Page cache per connection in KiB.
    pub cache_size_kib: i64,
    /// Memory-mapped I/O size.
    pub mmap_size: i64,
    /// Reader connections in the pool.
    pub readers: usize,
    /// Readers in use right now.
    pub readers_in_use: usize,
    /// Rows per table.
    pub tables: Vec<TableRows>,
    /// Every index.
    pub indexes: Vec<IndexInfo>,
}

/// Result of a WAL checkpoint.
#[derive(Debug, Clone, Serialize)]
pub struct CheckpointReport {
    /// 1 if a reader prevented a complete checkpoint.
    pub busy: i64,
    /// Frames in the WAL.
    pub log_frames: i64,
    /// Frames moved into the database.
    pub checkpointed_frames: i64,
    /// Duration in milliseconds.
    pub took_ms: f64,
}

/// Result of a VACUUM.
#[derive(Debug, Clone, Serialize)]
pub struct VacuumReport {
    /// File size before.
    pub bytes_before: u64,
    /// File size after.
    pub bytes_after: u64,
    /// Duration in milliseconds.
    pub took_ms: f64,
}

/// A verified backup.
#[derive(Debug, Clone, Serialize)]
pub struct BackupReport {
    /// The backup file.
    pub path: PathBuf,
    /// Its size.
    pub bytes: u64,
    /// Rows per table, equal in source and copy.
    pub tables: Vec<TableRows>,
    /// `ok` from `PRAGMA integrity_check`.
    pub integrity: String,
    /// Duration in milliseconds.
    pub took_ms: f64,
}

impl Store {
    /// The database file's and the WAL's sizes in bytes, from the file system (no query:
    /// cheap enough for a dashboard's every refresh, unlike [`Store::stats`]'s row counts).
    pub fn file_sizes(&self) -> (u64, u64) {
        let path = &self.config().path;
        (file_len(path), file_len(&wal_path(path)))
    }

    /// When the WAL was last checkpointed (Unix milliseconds): by [`Store::checkpoint`],
    /// a vacuum, or SQLite's automatic checkpoint as seen now in the log's header (see
    /// `checkpoints`); `None` if none since start.
    pub fn last_checkpoint_unix_ms(&self) -> Option<u64> {
        let watch = &self.inner.checkpoints;
        watch.observe(&wal_path(&self.config().path));
        watch.last()
    }

    /// Statistics of the database file, its settings and its tables.
    pub async fn stats(&self) -> Result<DbStats, StoreError> {
        let conn = self.read().await?;
        let pragma = |name: &'static str| {
            let sql = format!("PRAGMA {name}");
            let conn = &conn;
            async move { conn.query_i64("stats.pragma", &sql, ()).await }
        };
        let page_size = pragma("page_size").await?;
        let page_count = pragma("page_count").await?;
        let freelist_count = pragma("freelist_count").await?;
        let synchronous = pragma("synchronous").await?;
        let cache_size = pragma("cache_size").await?;
        let mmap_size = pragma("mmap_size").await?;
        let journal_mode = conn
            .query_opt("stats.pragma", "PRAGMA journal_mode", (), |r| {
                r.get::<String>(0)
            })
            .await?
            .unwrap_or_default();
        let indexes = conn
            .query(
                "stats.indexes",
                "SELECT name, tbl_name FROM sqlite_schema WHERE type = 'index' ORDER BY tbl_name, name",
                (),
                |r| {
                    Ok(IndexInfo {
                        name: r.get(0)?,
                        table: r.get(1)?,
                    })
                },
            )
            .await?;
        let tables = table_rows(&conn).await?;
        drop(conn);
        let path = self.config().path.clone();
        let (readers_in_use, readers) = self.readers_in_use();
        Ok(DbStats {
            file_bytes: file_len(&path),
            wal_bytes: file_len(&wal_path(&path)),
            path,
            page_size,
            page_count,
            freelist_count,
            journal_mode,
            synchronous,
            // Negative cache_size means KiB; positive means pages.
            cache_size_kib: if cache_size < 0 {
                -cache_size
            } else {
                cache_size * page_size / 1024
            },
            mmap_size,
            readers,
            readers_in_use,
            tables,
            indexes,
        })
    }

    /// Runs `ANALYZE` so the planner has fresh statistics; returns milliseconds taken.
    pub async fn analyze(&self) -> Result<f64, StoreError> {
        let writer = self.write().await?;
        let start = Instant::now();
        writer
            .execute_batch("maintenance.analyze", "ANALYZE")
            .await?;
        Ok(millis(start.elapsed()))
    }

    /// Runs `PRAGMA optimize` (cheap; re-analyzes only what changed); milliseconds taken.
    pub async fn optimize(&self) -> Result<f64, StoreError> {
        let writer = self.write().await?;
        let start = Instant::now();
        writer
            .execute_batch("maintenance.optimize", "PRAGMA optimize")
            .await?;
        Ok(millis(start.elapsed()))
    }

    /// Rebuilds the file to return free pages; blocks writers while it runs.
    pub async fn vacuum(&self) -> Result<VacuumReport, StoreError> {
        let path = self.config().path.clone();
        let bytes_before = file_len(&path);
        let writer = self.write().await?;
        let start = Instant::now();
        writer.execute_batch("maintenance.vacuum", "VACUUM").await?;
        let checkpoint = self.config().checkpoint_sql();
        writer
            .execute_batch("maintenance.checkpoint", checkpoint)
            .await?;
        self.inner.checkpoints.ran();
        Ok(VacuumReport {
            bytes_before,
            bytes_after: file_len(&path),
            took_ms: millis(start.elapsed()),
        })
    }

    /// Moves the WAL into the database file and truncates it; with a replicator
    /// ([`super::StoreConfig::replicated`]) only moves what it can without waiting.
    pub async fn checkpoint(&self) -> Result<CheckpointReport, StoreError> {
        let checkpoint = self.config().checkpoint_sql();
        let writer = self.write().await?;
        let start = Instant::now();
        let (busy, log_frames, checkpointed_frames) = writer
            .query_opt("maintenance.checkpoint", checkpoint, (), |r| {
                Ok((r.get::<i64>(0)?, r.get::<i64>(1)?, r.get::<i64>(2)?))
            })
            .await?
            .unwrap_or_default();
        if busy == 0 {
            self.inner.checkpoints.ran();
        }
        Ok(CheckpointReport {
            busy,
            log_frames,
            checkpointed_frames,
            took_ms: millis(start.elapsed()),
        })
    }

    /// `PRAGMA integrity_check` on the live database: `ok` or the problems found.
    pub async fn integrity_check(&self) -> Result<String, StoreError> {
        let conn = self.read().await?;
        let lines = conn
            .query(
                "maintenance.integrity_check",
                "PRAGMA integrity_check",
                (),
                |r| r.get::<String>(0),
            )
            .await?;
        Ok(lines.join("\n"))
    }

    /// Writes a consistent copy of the database to `dest` (which must not exist) and
    /// verifies it; on any failure the partial file is removed.
    pub async fn backup_to(&self, dest: &Path) -> Result<BackupReport, StoreError> {
        let fail = |reason: String| StoreError::Backup {
            path: dest.to_path_buf(),
            reason,
        };
        if dest.exists() {
            return Err(fail("the file already exists".into()));
        }
        if let Some(dir) = dest.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| fail(e.to_string()))?;
        }
        let dest_str = dest
            .to_str()
            .ok_or_else(|| fail("the path is not valid UTF-8".into()))?
            .to_owned();
        let start = Instant::now();
        let result = async {
            // An embedded replica copies its primary instead (see [`super::dump`]).
            if let Some(primary) = &self.inner.config.primary {
                let (copy, inserted) =
                    super::dump::load_primary(primary, dest, self.inner.timings.clone()).await?;
                let integrity = verify_integrity(&copy).await?;
                if integrity != "ok" {
                    return Err(fail(format!("integrity_check: {integrity}")));
                }
                let rows = table_rows(&copy).await?;
                for table in &rows {
                    let want = inserted.get(&table.name).copied().unwrap_or(0);
                    if table.rows != want {
                        return Err(fail(format!(
                            "table {} has {} rows, the dump inserted {want}",
                            table.name, table.rows
                        )));
                    }
                }
                return Ok((integrity, rows));
            }
            // Holding the writer freezes the source for the copy and the counts.
            let _writer = self.write().await?;
            let conn = self.dedicated()?;
            conn.execute("maintenance.backup", "VACUUM INTO ?1", [dest_str.clone()])
                .await?;
            let source_rows = table_rows(&conn).await?;
            drop(_writer);

            let copy = libsql::Builder::new_local(dest)
                .build()
                .await
                .map_err(|e| fail(e.to_string()))?;
            let copy = Conn {
                conn: copy.connect().map_err(|e| fail(e.to_string()))?,
                timings: conn.timings.clone(),
                remote: false,
            };
            let integrity = verify_integrity(&copy).await?;
            if integrity != "ok" {
                return Err(fail(format!("integrity_check: {integrity}")));
            }
            let copy_rows = table_rows(&copy).await?;
            if copy_rows != source_rows {
                return Err(fail(format!(
                    "row counts differ: source {source_rows:?}, copy {copy_rows:?}"
                )));
            }
            Ok((integrity, copy_rows))
        }
        .await;
        match result {
            Ok((integrity, tables)) => Ok(BackupReport {
                bytes: file_len(dest),
                path: dest.to_path_buf(),
                tables,
                integrity,
                took_ms: millis(start.elapsed()),
            }),
            Err(e) => {
                let _ = std::fs::remove_file(dest);
                Err(e)
            }
        }
    }
}

/// `PRAGMA integrity_check` of a backup's copy: "ok", or what it found.
async fn verify_integrity(copy: &Conn) -> Result<String, StoreError> {
    Ok(copy
        .query(
            "maintenance.backup_verify",
            "PRAGMA integrity_check",
            (),
            |r| r.get::<String>(0),
        )
        .await?
        .join("\n"))
}

/// Row counts of every user table (names come from sqlite_schema, never from a request).
async fn table_rows(conn: &Conn) -> Result<Vec<TableRows>, StoreError> {
    let names = conn
        .query(
            "stats.tables",
            "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'
               AND sql NOT LIKE 'CREATE VIRTUAL TABLE%' ORDER BY name",
            (),
            |r| r.get::<String>(0),
        )
        .await?;
    let mut out = Vec::with_capacity(names.len());
    for name in names {
        let sql = format!("SELECT count(*) FROM \"{}\"", name.replace('"', "\"\""));
        let rows = conn.query_i64("stats.table_rows", &sql, ()).await?;
        out.push(TableRows { name, rows });
    }
    Ok(out)
}

fn wal_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push("-wal");
    PathBuf::from(s)
}

fn file_len(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}
