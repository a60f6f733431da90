//! `maintenance`: an operator's maintenance run as a task, so that the dashboard shows it
//! with progress and its result, and a long VACUUM does not hold a request open: ANALYZE,
//! `PRAGMA optimize`, VACUUM, a WAL checkpoint, an integrity check, and warming or
//! clearing the caches. Backups are their own task (`db.backup`).

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use server::tasks::{Handler, TaskContext, TaskError};

use crate::backend::tasks::Env;

/// What to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Operation {
    /// Gathers the query planner's statistics.
    Analyze,
    /// `PRAGMA optimize`.
    Optimize,
    /// Rebuilds the database file, returning free pages.
    Vacuum,
    /// Moves the WAL into the database file.
    Checkpoint,
    /// `PRAGMA integrity_check`.
    IntegrityCheck,
    /// Loads the most-read stories into the cache.
    CacheWarm,
    /// Empties the caches (on every instance).
    CacheClear,
}

impl Operation {
    /// Every operation, as the API names them.
    pub const ALL: [&'static str; 7] = [
        "analyze",
        "optimize",
        "vacuum",
        "checkpoint",
        "integrity-check",
        "cache-warm",
        "cache-clear",
    ];

    /// The one named `name`.
    pub fn named(name: &str) -> Option<Self> {
        serde_json::from_value(Value::String(name.to_owned())).ok()
    }

    /// What the progress line says while it runs.
    fn doing(self) -> &'static str {
        match self {
            Self::Analyze => "running ANALYZE",
            Self::Optimize => "running PRAGMA optimize",
            Self::Vacuum => "running VACUUM (writes wait meanwhile)",
            Self::Checkpoint => "checkpointing the WAL",
            Self::IntegrityCheck => "checking integrity",
            Self::CacheWarm => "loading the most-read stories",
            Self::CacheClear => "clearing the caches",
        }
    }
}

/// Payload: the operation.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MaintenancePayload {
    /// What to run.
    pub operation: Operation,
}

/// The handler.
pub struct Maintenance(pub Env);

impl Handler for Maintenance {
    const KIND: &'static str = crate::model::TaskKind::Maintenance.as_str();
    type Payload = MaintenancePayload;

    async fn run(&self, payload: MaintenancePayload, ctx: TaskContext) -> Result<Value, TaskError> {
        let op = payload.operation;
        let store = &self.0.store;
        ctx.progress(10, op.doing());
        let (summary, result) = match op {
            Operation::Analyze => {
                let ms = store.analyze().await?;
                (format!("ANALYZE in {ms:.0} ms"), json!({ "took_ms": ms }))
            }
            Operation::Optimize => {
                let ms = store.optimize().await?;
                (format!("optimize in {ms:.0} ms"), json!({ "took_ms": ms }))
            }
            Operation::Vacuum => {
                let r = store.vacuum().await?;
                let summary = format!(
                    "{} → {} bytes in {:.0} ms",
                    r.bytes_before, r.bytes_after, r.took_ms
                );
                (summary, serde_json::to_value(r).unwrap_or_default())
            }
            Operation::Checkpoint => {
                let r = store.checkpoint().await?;
                let summary = format!(
                    "{} of {} frames moved in {:.0} ms",
                    r.checkpointed_frames, r.log_frames, r.took_ms
                );
                (summary, serde_json::to_value(r).unwrap_or_default())
            }
            Operation::IntegrityCheck => {
                let result = store.integrity_check().await?;
                let summary = if result == "ok" {
                    "integrity ok".to_owned()
                } else {
                    format!("problems found: {}", result.lines().count())
                };
                (summary, json!({ "result": result }))
            }
            Operation::CacheWarm | Operation::CacheClear => {
                let app =
                    self.0.app.get().ok_or_else(|| {
                        TaskError::retryable("the server is starting or stopping")
                    })?;
                if op == Operation::CacheClear {
                    app.clear_all().await.map_err(|e| {
                        TaskError::retryable("clearing the caches failed").detail(e.error.message)
                    })?;
                    ("caches cleared".to_owned(), json!({ "cleared": true }))
                } else {
                    let warmed = app.warm().await.map_err(|e| {
                        TaskError::retryable("warming the cache failed").detail(e.error.message)
                    })?;
                    (
                        format!("{warmed} stories loaded"),
                        json!({ "warmed": warmed }),
                    )
                }
            }
        };
        ctx.progress(100, summary);
        Ok(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_is_named_as_the_api_names_it() {
        for name in Operation::ALL {
            let op = Operation::named(name).expect(name);
            assert_eq!(
                serde_json::to_value(op).ok(),
                Some(Value::String(name.into()))
            );
        }
        assert_eq!(Operation::named("drop-tables"), None);
    }
}
