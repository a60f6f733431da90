//! The queue's table, and how a row becomes a [`Task`].
//!
//! Claim order has its own partial index over pending rows only, so claiming stays cheap
//! however many finished rows the retention keeps; counts per status live in `task_counts`,
//! kept by triggers, so the depth bound and the stats never count rows.

use serde_json::Value;

use super::{Priority, Status, Task};
use crate::store::{Row, SqlError};

/// The table and indexes the queue needs; the app applies it as one of its migrations.
pub const SCHEMA: &str = "
CREATE TABLE tasks (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'running', 'completed', 'failed', 'cancelled')),
    priority INTEGER NOT NULL DEFAULT 2 CHECK (priority BETWEEN 0 AND 3),
    run_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    started_at INTEGER,
    finished_at INTEGER,
    attempts INTEGER NOT NULL DEFAULT 0,
    max_retries INTEGER NOT NULL DEFAULT 3,
    lease_owner TEXT,
    lease_until INTEGER,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    progress INTEGER NOT NULL DEFAULT 0,
    message TEXT NOT NULL DEFAULT '',
    result TEXT,
    error TEXT
);
CREATE INDEX tasks_claim ON tasks (priority, run_at, created_at) WHERE status = 'pending';
CREATE INDEX tasks_lease ON tasks (lease_until) WHERE status = 'running';
CREATE INDEX tasks_finished ON tasks (finished_at) WHERE finished_at IS NOT NULL;
CREATE TABLE task_counts (status TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
INSERT INTO task_counts (status, n)
    VALUES ('pending', 0), ('running', 0), ('completed', 0), ('failed', 0), ('cancelled', 0);
CREATE TRIGGER tasks_count_insert AFTER INSERT ON tasks BEGIN
    UPDATE task_counts SET n = n + 1 WHERE status = NEW.status;
END;
CREATE TRIGGER tasks_count_update AFTER UPDATE OF status ON tasks
WHEN OLD.status <> NEW.status BEGIN
    UPDATE task_counts SET n = n - 1 WHERE status = OLD.status;
    UPDATE task_counts SET n = n + 1 WHERE status = NEW.status;
END;
CREATE TRIGGER tasks_count_delete AFTER DELETE ON tasks BEGIN
    UPDATE task_counts SET n = n - 1 WHERE status = OLD.status;
END;
";

/// The second step of the schema, applied after [`SCHEMA`]: public ids and owners.
///
/// Rows that exist already get a random public id in UUID form (the subquery refers to the
/// row, so SQLite evaluates it, and `randomblob`, once per row) and no owner.
pub const SCHEMA_PUBLIC_IDS: &str = "
ALTER TABLE tasks ADD COLUMN uid TEXT;
ALTER TABLE tasks ADD COLUMN owner TEXT;
UPDATE tasks SET uid = (
    SELECT substr(h, 1, 8) || '-' || substr(h, 9, 4) || '-' || substr(h, 13, 4) || '-'
        || substr(h, 17, 4) || '-' || substr(h, 21, 12)
    FROM (SELECT lower(hex(randomblob(16))) AS h, tasks.id AS row)
);
CREATE UNIQUE INDEX tasks_uid ON tasks (uid);
CREATE INDEX tasks_owner ON tasks (owner, id);
";

/// The third step: an owner's pending tasks counted on an index of pending rows only, for
/// the per-owner share checked at every enqueue.
pub const SCHEMA_OWNER_SHARE: &str = "
CREATE INDEX tasks_pending_by_owner ON tasks (owner) WHERE status = 'pending';
";

pub(crate) const COLUMNS: &str = "id, kind, payload, status, priority, attempts, max_retries, run_at, \
    created_at, started_at, finished_at, progress, message, result, error, cancel_requested, uid, owner";

/// A row selected with [`COLUMNS`] as a task.
pub(crate) fn map_task(r: &Row) -> Result<Task, SqlError> {
    let json = |i: i32| -> Result<Option<Value>, SqlError> {
        Ok(r.get::<Option<String>>(i)?
            .map(|s| serde_json::from_str(&s).unwrap_or(Value::String(s))))
    };
    Ok(Task {
        id: r.get(0)?,
        kind: r.get(1)?,
        payload: json(2)?.unwrap_or(Value::Null),
        status: Status::parse(&r.get::<String>(3)?).unwrap_or(Status::Failed),
        priority: Priority::from_i64(r.get(4)?),
        attempts: r.get::<i64>(5)? as u32,
        max_retries: r.get::<i64>(6)? as u32,
        run_at: r.get(7)?,
        created_at: r.get(8)?,
        started_at: r.get(9)?,
        finished_at: r.get(10)?,
        progress: r.get::<i64>(11)?.clamp(0, 100) as u8,
        message: r.get(12)?,
        result: json(13)?,
        error: r.get(14)?,
        cancel_requested: r.get::<i64>(15)? != 0,
        uid: r.get::<Option<String>>(16)?.unwrap_or_default(),
        owner: r.get(17)?,
    })
}
