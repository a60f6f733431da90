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

/// The last hour, one point per sampling interval (5 s), oldest first; with `since_ms`
/// (Unix milliseconds, a point's `at_unix_ms`) only the points taken after it.
#[get("/api/metrics/history?since_ms", state: app::backend::AppExt)]
pub async fn metrics_history(
    since_ms: Option<String>,
) -> Result<app::model::MetricsHistory, ApiError> {
    let since = match since_ms.as_deref().filter(|s| !s.is_empty()) {
        None => 0,
        Some(s) => s.parse::<u64>().map_err(|_| {
            ApiError::invalid(
                "since_ms",
                "since_ms must be Unix milliseconds (digits only)",
            )
        })?,
    };
    Ok(state.metrics_ring().history(since))
}
