//! Housekeeping: leases of dead workers come back, old finished tasks go.
//!
//! A task whose lease ran out (its process died or hung) is pending again, or failed if it
//! has no attempt left, or cancelled if a cancel was asked for. Finished tasks older than
//! the retention are deleted. Both run every quarter lease; the same tick nudges the
//! dispatcher, which is how tasks enqueued by another process sharing the database are
//! noticed.

use std::sync::Arc;

use super::{
    Inner, QueueError, Status, Task,
    schema::{COLUMNS, map_task},
};

/// Reclaims expired leases every quarter lease, nudges the dispatcher, and deletes old
/// finished tasks.
pub(crate) async fn run(q: Arc<Inner>) {
    let every = (q.config.lease.as_millis() as i64 / 4).max(100);
    let mut next_cleanup = q.clock.now_ms();
    loop {
        if let Err(e) = q.reclaim_expired().await {
            tracing::warn!("reclaiming expired task leases failed: {e}");
        }
        // Tasks enqueued by another process sharing the database signal nobody here: look.
        q.wake.notify_one();
        let now = q.clock.now_ms();
        if now >= next_cleanup {
            match q.cleanup().await {
                Ok(removed) if !removed.is_empty() => {
                    tracing::info!(tasks = removed.len(), "finished tasks cleaned up")
                }
                Ok(_) => {}
                Err(e) => tracing::warn!("task cleanup failed: {e}"),
            }
            next_cleanup = now + q.config.cleanup_every.as_millis() as i64;
        }
        tokio::select! {
            () = q.clock.sleep_until(now + every) => {}
            () = q.stopping.cancelled() => return,
        }
    }
}

impl Inner {
    /// Deletes finished tasks older than the retention; the deleted tasks.
    pub(crate) async fn cleanup(&self) -> Result<Vec<Task>, QueueError> {
        let cutoff = self.clock.now_ms() - self.config.retention.as_millis() as i64;
        let writer = self.store.write().await?;
        Ok(writer
            .query(
                "task.cleanup",
                &format!(
                    "DELETE FROM tasks
                     WHERE finished_at IS NOT NULL AND finished_at < ?1
                     RETURNING {COLUMNS}"
                ),
                [cutoff],
                map_task,
            )
            .await?)
    }

    /// Returns expired leases to pending (or ends them); how many.
    pub(crate) async fn reclaim_expired(&self) -> Result<u64, QueueError> {
        let now = self.clock.now_ms();
        let writer = self.store.write().await?;
        let rows = writer
            .query(
                "task.reclaim",
                "UPDATE tasks SET
                    status = CASE WHEN cancel_requested THEN 'cancelled'
                                  WHEN attempts > max_retries THEN 'failed'
                                  ELSE 'pending' END,
                    error = CASE WHEN cancel_requested OR attempts <= max_retries THEN error
                                 ELSE 'the worker running it stopped responding (lease expired)' END,
                    finished_at = CASE WHEN cancel_requested OR attempts > max_retries
                                       THEN ?1 END,
                    run_at = ?1, lease_owner = NULL, lease_until = NULL
                 WHERE status = 'running' AND lease_until <= ?1
                 RETURNING id, kind, status, progress, error, uid, owner",
                [now],
                |r| {
                    Ok((
                        (
                            r.get::<i64>(0)?,
                            r.get::<String>(1)?,
                            r.get::<Option<String>>(5)?.unwrap_or_default(),
                            r.get::<Option<String>>(6)?,
                        ),
                        r.get::<String>(2)?,
                        r.get::<i64>(3)?,
                        r.get::<Option<String>>(4)?,
                    ))
                },
            )
            .await?;
        drop(writer);
        for ((id, kind, uid, owner), status, progress, error) in &rows {
            let status = Status::parse(status).unwrap_or(Status::Pending);
            tracing::warn!(
                task = id,
                kind,
                status = status.as_str(),
                "lease expired; task reclaimed"
            );
            let who = super::Ident {
                id: *id,
                uid,
                owner: owner.as_deref(),
                kind,
            };
            self.emit(who, status, *progress as u8, String::new(), error.clone());
            if status == Status::Pending {
                self.wake.notify_one();
            }
        }
        Ok(rows.len() as u64)
    }
}
