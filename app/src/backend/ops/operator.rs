//! What an operator asks of the running server through `/api/admin/*` (the endpoints are
//! thin calls of these): the store's statistics and maintenance, both caches' statistics,
//! warm-up and clear, the task queue's statistics, backups and maintenance runs as tasks,
//! and unlocking a browser session with the admin token. Answers are plain JSON documents.

use axum::http::HeaderMap;
use serde_json::{Value, json};
use server::tasks::{EnqueueOptions, Priority};

use super::{Backup, Maintenance, MaintenancePayload, Operation, backup::list_backups};
use crate::backend::{
    AppState,
    identity::{Session, admin},
};
use crate::model::{ApiError, ErrorCode, TaskView};

/// A document as JSON (our own types: failing is a bug, logged and answered 500).
fn to_json(v: impl serde::Serialize) -> Result<Value, ApiError> {
    serde_json::to_value(v).map_err(|e| {
        tracing::error!("admin answer did not serialise: {e}");
        ApiError::internal()
    })
}

impl AppState {
    /// Database statistics, query timings and the slow-query log.
    pub async fn db_stats(&self) -> Result<Value, ApiError> {
        let store = self.store();
        to_json(json!({
            "database": store.stats().await?,
            "queries": store.query_timings(),
            "slow_queries": store.slow_queries(),
        }))
    }

    /// Runs ANALYZE, optimize, VACUUM, a WAL checkpoint or an integrity check now.
    pub async fn db_maintain(&self, operation: &str) -> Result<Value, ApiError> {
        let store = self.store();
        match operation {
            "analyze" => to_json(json!({ "took_ms": store.analyze().await? })),
            "optimize" => to_json(json!({ "took_ms": store.optimize().await? })),
            "vacuum" => to_json(store.vacuum().await?),
            "checkpoint" => to_json(store.checkpoint().await?),
            "integrity-check" => to_json(json!({ "result": store.integrity_check().await? })),
            _ => Err(ApiError::invalid(
                "operation",
                "operation must be one of analyze, optimize, vacuum, checkpoint, integrity-check",
            )),
        }
    }

    /// Replication: `{"enabled": false}` without Litestream, else the replica monitor's
    /// status (healthy, last confirmed sync, positions, errors).
    pub fn replica_report(&self) -> Result<Value, ApiError> {
        match self.replica() {
            None => Ok(json!({ "enabled": false })),
            Some(status) => {
                let mut v = to_json(&status)?;
                v["enabled"] = Value::Bool(true);
                v["seconds_since_sync"] = to_json(status.since_last_sync_secs())?;
                Ok(v)
            }
        }
    }

    /// Statistics per tier and per policy of the data cache and of the response cache.
    pub fn cache_report(&self) -> Result<Value, ApiError> {
        to_json(json!({
            "data": self.cache().stats(),
            "responses": self.response_cache().cache().stats(),
        }))
    }

    /// Loads the most-read stories into this instance's cache.
    pub async fn warm_caches(&self) -> Result<Value, ApiError> {
        let n = self.config().cache_warm_stories.max(1);
        Ok(json!({ "warmed": self.warm_up(n).await? }))
    }

    /// Task queue statistics and the registered kinds.
    pub async fn queue_report(&self) -> Result<Value, ApiError> {
        to_json(json!({
            "stats": self.tasks().stats().await?,
            "kinds": self.tasks().kinds(),
        }))
    }

    /// The recorded backups, newest first.
    pub async fn backups(&self) -> Result<Value, ApiError> {
        list_backups(self.store(), &self.config().backup_dir).await
    }

    /// Starts an online backup (verified, recorded, rotated), owned by the caller's session
    /// too, so the browser that started it follows it.
    pub async fn start_backup(&self, session: &Session) -> Result<TaskView, ApiError> {
        let options = operator_options(session);
        let id = self
            .tasks()
            .enqueue::<Backup>(&Default::default(), options)
            .await?;
        self.task_view(id).await
    }

    /// Starts a maintenance run as a task ([`Operation::ALL`] names them), owned by the
    /// caller's session too.
    pub async fn start_maintenance(
        &self,
        session: &Session,
        operation: &str,
    ) -> Result<TaskView, ApiError> {
        let operation = Operation::named(operation).ok_or_else(|| {
            ApiError::invalid(
                "operation",
                format!("operation must be one of {}", Operation::ALL.join(", ")),
            )
        })?;
        let options = operator_options(session);
        let id = self
            .tasks()
            .enqueue::<Maintenance>(&MaintenancePayload { operation }, options)
            .await?;
        self.task_view(id).await
    }

    /// Whether admin actions are open here (`configured`) and whether `headers` are an
    /// operator's (`admin`).
    pub fn admin_status(&self, headers: &HeaderMap) -> Value {
        json!({
            "configured": self.config().admin_token.is_some(),
            "admin": admin::is_admin(headers, self),
        })
    }

    /// Unlocks the caller's browser session with the admin token; a wrong token is a 401
    /// naming `token` and unlocks nothing.
    pub fn unlock_admin(&self, session: &Session, token: &str) -> Result<Value, ApiError> {
        if self.config().admin_token.is_none() {
            return Err(ApiError::new(
                ErrorCode::Unauthorized,
                "admin actions are closed: the server has no AION_ADMIN_TOKEN",
            ));
        }
        if !admin::is_token(token, self) {
            let mut e = ApiError::new(ErrorCode::Unauthorized, "the admin token does not match");
            e.error.field = Some("token".into());
            return Err(e);
        }
        self.admin_sessions().grant(&session.admin_key());
        Ok(json!({ "configured": true, "admin": true }))
    }

    /// Locks the caller's browser session again.
    pub fn lock_admin(&self, session: &Session) -> Value {
        self.admin_sessions().revoke(&session.admin_key());
        json!({ "configured": self.config().admin_token.is_some(), "admin": false })
    }
}

/// An operator's task: first in line, on the places kept for operators, followed by the
/// session that started it.
fn operator_options(session: &Session) -> EnqueueOptions {
    EnqueueOptions::priority(Priority::Urgent)
        .owned_by(session.owner().as_str())
        .reserved()
}
