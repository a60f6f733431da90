//! Admin endpoints (`Authorization: Bearer <AION_ADMIN_TOKEN>`): database statistics and
//! maintenance, cache statistics, warm-up and clear, backups, alert thresholds. Answers are
//! plain JSON documents.

use dioxus::prelude::*;
use serde_json::Value;

use app::model::ApiError;

#[cfg(feature = "server")]
fn json(v: impl serde::Serialize) -> Result<Value, ApiError> {
    serde_json::to_value(v).map_err(|e| {
        tracing::error!("admin answer did not serialise: {e}");
        ApiError::internal()
    })
}

/// Database statistics, query timings and the slow-query log.
#[get("/api/admin/db/stats", state: app::backend::AppExt, _admin: app::backend::identity::Admin)]
pub async fn admin_db_stats() -> Result<Value, ApiError> {
    let store = state.store();
    json(serde_json::json!({
        "database": store.stats().await?,
        "queries": store.query_timings(),
        "slow_queries": store.slow_queries(),
    }))
}

/// Replication: `{"enabled": false}` without Litestream, else the replica monitor's status
/// (healthy, last confirmed sync, positions, errors).
#[get("/api/admin/replica", state: app::backend::AppExt, _admin: app::backend::identity::Admin)]
pub async fn admin_replica() -> Result<Value, ApiError> {
    match state.replica() {
        None => Ok(serde_json::json!({ "enabled": false })),
        Some(status) => {
            let mut v = json(&status)?;
            v["enabled"] = Value::Bool(true);
            v["seconds_since_sync"] = json(status.since_last_sync_secs())?;
            Ok(v)
        }
    }
}

/// Runs ANALYZE, optimize, VACUUM or a WAL checkpoint.
#[post("/api/admin/db/{operation}", state: app::backend::AppExt, _admin: app::backend::identity::Admin)]
pub async fn admin_db_maintain(operation: String) -> Result<Value, ApiError> {
    let store = state.store();
    match operation.as_str() {
        "analyze" => json(serde_json::json!({ "took_ms": store.analyze().await? })),
        "optimize" => json(serde_json::json!({ "took_ms": store.optimize().await? })),
        "vacuum" => json(store.vacuum().await?),
        "checkpoint" => json(store.checkpoint().await?),
        "integrity-check" => json(serde_json::json!({ "result": store.integrity_check().await? })),
        _ => Err(ApiError::invalid(
            "operation",
            "operation must be one of analyze, optimize, vacuum, checkpoint, integrity-check",
        )),
    }
}

/// Statistics per tier and per policy of the data cache and of the HTTP response cache.
#[get("/api/admin/cache/stats", state: app::backend::AppExt, _admin: app::backend::identity::Admin)]
pub async fn admin_cache_stats() -> Result<Value, ApiError> {
    json(serde_json::json!({
        "data": state.cache().stats(),
        "responses": state.response_cache().cache().stats(),
    }))
}

/// Loads the most-read stories into the cache.
#[post("/api/admin/cache/warm", state: app::backend::AppExt, _admin: app::backend::identity::Admin)]
pub async fn admin_cache_warm() -> Result<Value, ApiError> {
    let n = state.config().cache_warm_stories.max(1);
    json(serde_json::json!({ "warmed": state.warm_up(n).await? }))
}

/// Empties both caches.
#[post("/api/admin/cache/clear", state: app::backend::AppExt, _admin: app::backend::identity::Admin)]
pub async fn admin_cache_clear() -> Result<Value, ApiError> {
    // The shared tier first, as for writes (see `AppState::invalidate`).
    if let Some(bus) = state.shared() {
        bus.publish_clear().await;
    }
    state.clear_caches();
    json(serde_json::json!({ "cleared": true }))
}

/// Starts an online backup of the database (verified, recorded, rotated).
/// The task belongs to the caller's session too, so a browser that started it follows it.
#[post("/api/admin/backups", state: app::backend::AppExt, _admin: app::backend::identity::Admin, session: app::backend::identity::Session)]
pub async fn admin_start_backup() -> Result<app::model::TaskView, ApiError> {
    use server::tasks::{EnqueueOptions, Priority};
    let id = state
        .tasks()
        .enqueue::<app::backend::ops::Backup>(
            &Default::default(),
            EnqueueOptions::priority(Priority::High).owned_by(session.owner().as_str()),
        )
        .await?;
    state.task_view(id).await
}

/// The recorded backups, newest first.
#[get("/api/admin/backups", state: app::backend::AppExt, _admin: app::backend::identity::Admin)]
pub async fn admin_list_backups() -> Result<Value, ApiError> {
    app::backend::ops::list_backups(state.store(), &state.config().backup_dir).await
}

/// Task queue statistics and the registered kinds.
#[get("/api/admin/tasks/stats", state: app::backend::AppExt, _admin: app::backend::identity::Admin)]
pub async fn admin_task_stats() -> Result<Value, ApiError> {
    json(serde_json::json!({
        "stats": state.tasks().stats().await?,
        "kinds": state.tasks().kinds(),
    }))
}

/// Sets dashboard alert thresholds, `{"api_p95_ms": 50, "cache_hit_ratio": 0.9}` (kept in
/// the store); answers every rule as it stands. Unknown rules and bad numbers are a 400
/// naming the rule, and change nothing.
#[put("/api/admin/alerts", state: app::backend::AppExt, _admin: app::backend::identity::Admin)]
pub async fn admin_set_alerts(
    body: app::model::JsonBody<serde_json::Map<String, Value>, 4096>,
) -> Result<Vec<app::model::AlertView>, ApiError> {
    let changes = app::backend::ops::alerts::parse_thresholds(&body.0)?;
    state.set_alert_thresholds(&changes).await
}

/// Whether admin actions are open on this server (`configured`: it has an admin token) and
/// whether this request is an operator's (`admin`: the token, or a session unlocked with
/// it). Open to anyone: it tells nothing but whether to show the unlock form.
#[get("/api/admin/session", state: app::backend::AppExt, headers: axum::http::HeaderMap)]
pub async fn admin_session() -> Result<Value, ApiError> {
    Ok(serde_json::json!({
        "configured": state.config().admin_token.is_some(),
        "admin": app::backend::identity::admin::is_admin(&headers, &state),
    }))
}

/// Unlocks this browser's session for admin actions with the admin token (`{"token"}`), for
/// 12 hours or until `DELETE`; a wrong token is a 401 naming `token` and unlocks nothing.
#[post("/api/admin/session", state: app::backend::AppExt, session: app::backend::identity::Session)]
pub async fn admin_unlock(
    body: app::model::JsonBody<app::model::AdminUnlock, 1024>,
) -> Result<Value, ApiError> {
    use app::model::ErrorCode;
    if state.config().admin_token.is_none() {
        return Err(ApiError::new(
            ErrorCode::Unauthorized,
            "admin actions are closed: the server has no AION_ADMIN_TOKEN",
        ));
    }
    if !app::backend::identity::admin::is_token(&body.0.token, &state) {
        let mut e = ApiError::new(ErrorCode::Unauthorized, "the admin token does not match");
        e.error.field = Some("token".into());
        return Err(e);
    }
    state.admin_sessions().grant(session.owner().as_str());
    Ok(serde_json::json!({ "configured": true, "admin": true }))
}

/// Locks this browser's session again.
#[delete("/api/admin/session", state: app::backend::AppExt, session: app::backend::identity::Session)]
pub async fn admin_lock() -> Result<Value, ApiError> {
    state.admin_sessions().revoke(session.owner().as_str());
    Ok(serde_json::json!({ "configured": state.config().admin_token.is_some(), "admin": false }))
}

/// Starts a maintenance run as a task (`analyze`, `optimize`, `vacuum`, `checkpoint`,
/// `integrity-check`, `cache-warm`, `cache-clear`), owned by the caller's session too, so
/// the browser that started it follows its progress.
#[post("/api/admin/maintenance/{operation}", state: app::backend::AppExt, _admin: app::backend::identity::Admin, session: app::backend::identity::Session)]
pub async fn admin_start_maintenance(operation: String) -> Result<app::model::TaskView, ApiError> {
    use app::backend::ops::{Maintenance, MaintenancePayload, Operation};
    use server::tasks::{EnqueueOptions, Priority};
    let operation = Operation::named(&operation).ok_or_else(|| {
        ApiError::invalid(
            "operation",
            format!("operation must be one of {}", Operation::ALL.join(", ")),
        )
    })?;
    let id = state
        .tasks()
        .enqueue::<Maintenance>(
            &MaintenancePayload { operation },
            EnqueueOptions::priority(Priority::High).owned_by(session.owner().as_str()),
        )
        .await?;
    state.task_view(id).await
}
