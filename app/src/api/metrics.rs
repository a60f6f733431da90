//! `GET /api/metrics/snapshot`: the running system in one typed reading (API.md; the
//! model is `model::snapshot`). Never cached: every figure is read at the request.

use dioxus::prelude::*;

use app::model::{ApiError, MetricsSnapshot};

/// API, database, caches, tasks, Web Vitals and the process, measured now.
#[get("/api/metrics/snapshot", state: app::backend::AppExt)]
pub async fn metrics_snapshot() -> Result<MetricsSnapshot, ApiError> {
    let tasks = super::tasks::task_stats_of(&state).await?;
    state.metrics_snapshot(tasks).await
}

/// The last hour, one point per sampling interval (5 s), oldest first.
#[get("/api/metrics/history", state: app::backend::AppExt)]
pub async fn metrics_history() -> Result<app::model::MetricsHistory, ApiError> {
    Ok(state.metrics_ring().history())
}
