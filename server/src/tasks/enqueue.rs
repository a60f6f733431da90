//! Adding a task: one statement checks the queue's bounds (the total less the operators'
//! reserve, and the owner's share) and inserts, so concurrent enqueues cannot overshoot;
//! a refusal says which bound it met.

use super::{EnqueueOptions, Ident, QueueError, Status, TaskQueue};
use crate::store::params;

impl TaskQueue {
    pub(super) async fn enqueue_raw(
        &self,
        kind: &str,
        payload: String,
        options: EnqueueOptions,
    ) -> Result<i64, QueueError> {
        let q = &self.inner;
        if q.stopping.is_cancelled() {
            return Err(QueueError::ShuttingDown);
        }
        let Some((kind, _)) = q.registry.get(kind) else {
            return Err(QueueError::UnknownKind(kind.to_owned()));
        };
        let now = q.clock.now_ms();
        let retries = options.max_retries.unwrap_or(q.config.max_retries);
        let uid = uuid::Uuid::now_v7().to_string();
        // Everyone but reserved tasks stops short of the bound by the reserve.
        let room = if options.reserved {
            q.config.max_pending
        } else {
            q.config
                .max_pending
                .saturating_sub(q.config.reserved_pending)
        };
        let per_owner = if options.reserved || options.uncounted {
            0
        } else {
            q.config.max_pending_per_owner
        };
        let writer = q.store.write().await?;
        // One statement checks the bounds and inserts, so concurrent enqueues cannot
        // overshoot. The total is kept by triggers (counting pending rows would cost
        // O(depth) per enqueue); an owner's pending rows are counted on a partial index, at
        // most `per_owner` of them.
        let inserted = writer
            .execute(
                "task.enqueue",
                "INSERT INTO tasks (kind, payload, priority, run_at, created_at, max_retries, uid, owner)
                 SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?8, ?9
                 WHERE (SELECT n FROM task_counts WHERE status = 'pending') < ?7
                   AND (?9 IS NULL OR ?10 = 0 OR (SELECT count(*) FROM tasks
                        WHERE owner = ?9 AND status = 'pending') < ?10)
                   AND (?11 = 0 OR NOT EXISTS (SELECT 1 FROM tasks
                        WHERE kind = ?1 AND created_at > ?5 - ?11))",
                params![
                    kind,
                    payload,
                    options.priority as i64,
                    now + options.delay_ms.max(0),
                    now,
                    i64::from(retries),
                    room as i64,
                    uid.as_str(),
                    options.owner.as_deref(),
                    per_owner as i64,
                    options.once_within_ms
                ],
            )
            .await?;
        let id = writer.last_insert_rowid();
        drop(writer);
        if inserted == 0 {
            if options.once_within_ms > 0
                && self.added_since(kind, now - options.once_within_ms).await
            {
                return Err(QueueError::Recent {
                    kind: kind.to_owned(),
                    within_ms: options.once_within_ms,
                });
            }
            return Err(self.refusal(options.owner.as_deref(), per_owner).await);
        }
        let who = Ident {
            id,
            uid: &uid,
            owner: options.owner.as_deref(),
            kind,
        };
        q.emit(who, Status::Pending, 0, String::new(), None);
        q.wake.notify_one();
        Ok(id)
    }

    /// Whether a task of `kind` was added after `since` (a refusal's likely reason when the
    /// enqueue asked for once per interval).
    async fn added_since(&self, kind: &str, since: i64) -> bool {
        let found = async {
            let reader = self.inner.store.read().await?;
            reader
                .query_i64(
                    "task.added_since",
                    "SELECT EXISTS (SELECT 1 FROM tasks WHERE kind = ?1 AND created_at > ?2)",
                    params![kind, since],
                )
                .await
        };
        matches!(found.await, Ok(1))
    }

    /// Why an enqueue was refused: the owner's share, or the queue (the one that is full
    /// now; both bounds were checked by the refused statement itself).
    async fn refusal(&self, owner: Option<&str>, per_owner: u64) -> QueueError {
        let q = &self.inner;
        let full = QueueError::Full {
            max: q.config.max_pending,
        };
        let (Some(owner), 1..) = (owner, per_owner) else {
            return full;
        };
        let pending = async {
            let reader = q.store.read().await?;
            reader
                .query_i64(
                    "task.pending_of_owner",
                    "SELECT count(*) FROM tasks WHERE owner = ?1 AND status = 'pending'",
                    params![owner],
                )
                .await
        };
        match pending.await {
            Ok(n) if n as u64 >= per_owner => QueueError::OwnerFull { max: per_owner },
            _ => full,
        }
    }
}
