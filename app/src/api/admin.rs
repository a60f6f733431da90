//! Admin endpoints (`Authorization: Bearer <AION_ADMIN_TOKEN>`, or a browser session
//! unlocked with it): database statistics and maintenance, cache statistics, warm-up and
//! clear, backups, alert thresholds. Answers are plain JSON documents, made by
//! `backend::ops` (each endpoint is a thin call).

use dioxus::prelude::*;
use serde_json::Value;

#[cfg(feature = "server")]
use app::backend::{
    AppExt,
    identity::{Admin, Session},
};
use app::model::{AdminUnlock, AlertView, ApiError, JsonBody, TaskView};

/// Database statistics, query timings and the slow-query log.
#[cfg_attr(feature = "server", utoipa::path(
    get, path = "/api/admin/db/stats", tag = "admin",
    security(("admin" = []), ("session" = [])),
    responses((status = 200, description = "Database statistics.", body = Object))
))]
#[get("/api/admin/db/stats", state: AppExt, _admin: Admin)]
pub async fn admin_db_stats() -> Result<Value, ApiError> {
    state.db_stats().await
}

/// Replication: `{"enabled": false}` without Litestream, else the replica monitor's status
/// (healthy, last confirmed sync, positions, errors).
#[cfg_attr(feature = "server", utoipa::path(
    get, path = "/api/admin/replica", tag = "admin",
    security(("admin" = []), ("session" = [])),
    responses(
        (
            status = 200,
            description = "The replica monitor's status, or `{\"enabled\": false}`.",
            body = Object
        )
    )
))]
#[get("/api/admin/replica", state: AppExt, _admin: Admin)]
pub async fn admin_replica() -> Result<Value, ApiError> {
    state.replica_report()
}

/// Runs ANALYZE, optimize, VACUUM or a WAL checkpoint.
#[cfg_attr(feature = "server", utoipa::path(
    post, path = "/api/admin/db/{operation}", tag = "admin",
    security(("admin" = []), ("session" = [])),
    params(("operation" = crate::api::shapes::DbOperation, Path)),
    responses((status = 200, description = "What the operation did.", body = Object))
))]
#[post("/api/admin/db/{operation}", state: AppExt, _admin: Admin)]
pub async fn admin_db_maintain(operation: String) -> Result<Value, ApiError> {
    state.db_maintain(&operation).await
}

/// Statistics per tier and per policy of the data cache and of the HTTP response cache.
#[cfg_attr(feature = "server", utoipa::path(
    get, path = "/api/admin/cache/stats", tag = "admin",
    security(("admin" = []), ("session" = [])),
    responses((status = 200, body = Object))
))]
#[get("/api/admin/cache/stats", state: AppExt, _admin: Admin)]
pub async fn admin_cache_stats() -> Result<Value, ApiError> {
    state.cache_report()
}

/// Loads the most-read stories into the cache.
#[cfg_attr(feature = "server", utoipa::path(
    post, path = "/api/admin/cache/warm", tag = "admin",
    security(("admin" = []), ("session" = [])),
    responses((status = 200, body = Object))
))]
#[post("/api/admin/cache/warm", state: AppExt, _admin: Admin)]
pub async fn admin_cache_warm() -> Result<Value, ApiError> {
    state.warm_caches().await
}

/// Empties both caches, on every instance.
#[cfg_attr(feature = "server", utoipa::path(
    post, path = "/api/admin/cache/clear", tag = "admin",
    security(("admin" = []), ("session" = [])),
    responses((status = 200, body = crate::api::shapes::Cleared))
))]
#[post("/api/admin/cache/clear", state: AppExt, _admin: Admin)]
pub async fn admin_cache_clear() -> Result<Value, ApiError> {
    state.clear_everywhere().await;
    Ok(serde_json::json!({ "cleared": true }))
}

/// Starts an online backup of the database (verified, recorded, rotated).
/// The task belongs to the caller's session too, so a browser that started it follows it.
#[cfg_attr(feature = "server", utoipa::path(
    post, path = "/api/admin/backups", tag = "admin",
    security(("admin" = []), ("session" = [])),
    responses((status = 200, description = "The task, pending.", body = TaskView))
))]
#[post("/api/admin/backups", state: AppExt, _admin: Admin, session: Session)]
pub async fn admin_start_backup() -> Result<TaskView, ApiError> {
    state.start_backup(&session).await
}

/// The recorded backups, newest first.
#[cfg_attr(feature = "server", utoipa::path(
    get, path = "/api/admin/backups", tag = "admin",
    security(("admin" = []), ("session" = [])),
    responses(
        (status = 200, description = "The recorded backups, newest first.", body = Vec<Object>)
    )
))]
#[get("/api/admin/backups", state: AppExt, _admin: Admin)]
pub async fn admin_list_backups() -> Result<Value, ApiError> {
    state.backups().await
}

/// Task queue statistics and the registered kinds.
#[cfg_attr(feature = "server", utoipa::path(
    get, path = "/api/admin/tasks/stats", tag = "admin",
    security(("admin" = []), ("session" = [])),
    responses((status = 200, body = Object))
))]
#[get("/api/admin/tasks/stats", state: AppExt, _admin: Admin)]
pub async fn admin_task_stats() -> Result<Value, ApiError> {
    state.queue_report().await
}

/// Sets dashboard alert thresholds, `{"api_p95_ms": 50, "cache_hit_ratio": 0.9}` (kept in
/// the store); answers every rule as it stands. Unknown rules and bad numbers are a 400
/// naming the rule, and change nothing.
#[cfg_attr(feature = "server", utoipa::path(
    put, path = "/api/admin/alerts", tag = "admin",
    security(("admin" = []), ("session" = [])),
    request_body(
        content = std::collections::HashMap<String,
        f64>,
        description = "Thresholds by rule, e.g. `{\"api_p95_ms\": 50}`."
    ),
    responses((status = 200, body = Vec<AlertView>))
))]
#[put("/api/admin/alerts", state: AppExt, _admin: Admin)]
pub async fn admin_set_alerts(
    body: JsonBody<serde_json::Map<String, Value>, 4096>,
) -> Result<Vec<AlertView>, ApiError> {
    let changes = app::backend::ops::alerts::parse_thresholds(&body.0)?;
    state.set_alert_thresholds(&changes).await
}

/// Whether admin actions are open on this server (`configured`: it has an admin token) and
/// whether this request is an operator's (`admin`: the token, or a session unlocked with
/// it). Open to anyone: it tells nothing but whether to show the unlock form.
#[cfg_attr(feature = "server", utoipa::path(
    get, path = "/api/admin/session", tag = "admin",
    security((), ("session" = [])),
    responses((status = 200, body = crate::api::shapes::AdminStatus))
))]
#[get("/api/admin/session", state: AppExt, headers: axum::http::HeaderMap)]
pub async fn admin_session() -> Result<Value, ApiError> {
    Ok(state.admin_status(&headers))
}

/// Unlocks this browser's session for admin actions with the admin token (`{"token"}`), for
/// 12 hours or until `DELETE`; a wrong token is a 401 naming `token` and unlocks nothing.
#[cfg_attr(feature = "server", utoipa::path(
    post, path = "/api/admin/session", tag = "admin",
    security((), ("session" = [])),
    request_body = AdminUnlock,
    responses((status = 200, body = crate::api::shapes::AdminStatus))
))]
#[post("/api/admin/session", state: AppExt, session: Session)]
pub async fn admin_unlock(body: JsonBody<AdminUnlock, 1024>) -> Result<Value, ApiError> {
    state.unlock_admin(&session, &body.0.token)
}

/// Locks this browser's session again.
#[cfg_attr(feature = "server", utoipa::path(
    delete, path = "/api/admin/session", tag = "admin",
    security((), ("session" = [])),
    responses((status = 200, body = crate::api::shapes::AdminStatus))
))]
#[delete("/api/admin/session", state: AppExt, session: Session)]
pub async fn admin_lock() -> Result<Value, ApiError> {
    Ok(state.lock_admin(&session))
}

/// Starts a maintenance run as a task (`analyze`, `optimize`, `vacuum`, `checkpoint`,
/// `integrity-check`, `cache-warm`, `cache-clear`), owned by the caller's session too, so
/// the browser that started it follows its progress.
#[cfg_attr(feature = "server", utoipa::path(
    post, path = "/api/admin/maintenance/{operation}", tag = "admin",
    security(("admin" = []), ("session" = [])),
    params(("operation" = crate::api::shapes::MaintenanceOperation, Path)),
    responses((status = 200, description = "The task, pending.", body = TaskView))
))]
#[post("/api/admin/maintenance/{operation}", state: AppExt, _admin: Admin, session: Session)]
pub async fn admin_start_maintenance(operation: String) -> Result<TaskView, ApiError> {
    state.start_maintenance(&session, &operation).await
}
