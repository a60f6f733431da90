//! `db.backup`: an online copy of the database to a timestamped file, verified
//! (integrity_check and equal row counts, by the store), recorded, and rotated (keep N).

use serde_json::{Value, json};
use server::{
    store::Store,
    tasks::{Handler, TaskContext, TaskError},
};

use crate::backend::tasks::Env;
use crate::{
    backend::time::{now_micros, to_rfc3339},
    model::ApiError,
};

/// Payload: nothing to choose.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct BackupPayload {}

/// The handler.
pub struct Backup(pub Env);

impl Handler for Backup {
    const KIND: &'static str = crate::model::TaskKind::Backup.as_str();
    type Payload = BackupPayload;

    async fn run(&self, _: BackupPayload, ctx: TaskContext) -> Result<Value, TaskError> {
        let env = &self.0;
        let stamp = to_rfc3339(now_micros())
            .chars()
            .take(19)
            .filter(|c| c.is_ascii_digit())
            .collect::<String>();
        let file = format!("aion-{stamp}-{}.db", ctx.id());
        let dest = env.backup_dir.join(&file);
        // A rerun after a crash may find its own partial copy.
        let _ = std::fs::remove_file(&dest);
        ctx.progress(10, "copying the database");
        let report = env.store.backup_to(&dest).await.map_err(|e| {
            TaskError::retryable(
                "the backup could not be written or verified (the backup directory may be full or not writable); the task will be tried again",
            )
            .detail(e)
        })?;
        ctx.progress(80, "verified; recording");
        let rows = serde_json::to_string(&report.tables).unwrap_or_else(|_| "[]".into());
        let writer = env.store.write().await?;
        writer
            .execute(
                "backup.record",
                "INSERT INTO backups (file, bytes, integrity, row_counts, took_ms, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                server::store::params![
                    file.as_str(),
                    report.bytes as i64,
                    report.integrity.as_str(),
                    rows,
                    report.took_ms,
                    now_micros()
                ],
            )
            .await?;
        drop(writer);
        let rotated = rotate(&env.store, &env.backup_dir, env.backup_keep).await?;
        ctx.progress(
            100,
            format!("{} bytes, integrity {}", report.bytes, report.integrity),
        );
        Ok(json!({
            "backup": file,
            "bytes": report.bytes,
            "integrity": report.integrity,
            "tables": report.tables,
            "took_ms": report.took_ms,
            "rotated": rotated,
        }))
    }
}

/// Deletes all but the newest `keep` backups (files and rows); the names deleted.
async fn rotate(
    store: &Store,
    dir: &std::path::Path,
    keep: usize,
) -> Result<Vec<String>, server::store::StoreError> {
    let writer = store.write().await?;
    let old = writer
        .query(
            "backup.rotate",
            "DELETE FROM backups WHERE seq NOT IN
                (SELECT seq FROM backups ORDER BY created_at DESC, seq DESC LIMIT ?1)
             RETURNING file",
            [keep as i64],
            |r| r.get::<String>(0),
        )
        .await?;
    drop(writer);
    for file in &old {
        if let Err(e) = std::fs::remove_file(dir.join(file))
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(file, "removing an old backup failed: {e}");
        }
    }
    Ok(old)
}

/// The recorded backups, newest first.
pub async fn list_backups(store: &Store, dir: &std::path::Path) -> Result<Value, ApiError> {
    let conn = store.read().await?;
    let rows = conn
        .query(
            "backup.list",
            "SELECT file, bytes, integrity, row_counts, took_ms, created_at
             FROM backups ORDER BY created_at DESC, seq DESC",
            (),
            |r| {
                Ok((
                    r.get::<String>(0)?,
                    r.get::<i64>(1)?,
                    r.get::<String>(2)?,
                    r.get::<String>(3)?,
                    r.get::<f64>(4)?,
                    r.get::<i64>(5)?,
                ))
            },
        )
        .await?;
    Ok(Value::Array(
        rows.into_iter()
            .map(|(file, bytes, integrity, rows, took_ms, at)| {
                json!({
                    "file": file,
                    "present": dir.join(&file).is_file(),
                    "bytes": bytes,
                    "integrity": integrity,
                    "tables": serde_json::from_str::<Value>(&rows).unwrap_or(Value::Null),
                    "took_ms": took_ms,
                    "created_at": to_rfc3339(at),
                })
            })
            .collect(),
    ))
}
