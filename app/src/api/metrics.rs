//! `GET /api/metrics/snapshot` and `GET /api/metrics/history`: the running system for the
//! performance dashboard (API.md; the shapes are `model::snapshot`'s types, built and
//! serialised by the server). Never cached: every figure is read at the request.
//!
//! Both answer a `serde_json::Value` rather than the typed model: the client's stubs of
//! these functions would otherwise carry derived deserializers for twenty nested types
//! (about 10 KB brotli when the browser still read them, measured with `cargo xtask
//! bundle-size`), and no page of the client decodes them: the dashboard's panels are
//! rendered on the server from the typed snapshot (`backend::ops::dashboard`).

use dioxus::prelude::*;
use serde_json::Value;

use app::model::ApiError;

/// The typed value as JSON.
#[cfg(feature = "server")]
fn json(v: impl serde::Serialize) -> Result<Value, ApiError> {
    serde_json::to_value(v).map_err(|e| {
        tracing::error!("metrics did not serialise: {e}");
        ApiError::internal()
    })
}

/// API, database, caches, tasks, Web Vitals, the process and the alerts, measured now
/// (a `MetricsSnapshot`).
#[cfg_attr(feature = "server", utoipa::path(
    get, path = "/api/metrics/snapshot", tag = "metrics",
    security((), ("session" = [])),
    responses((status = 200, body = app::model::MetricsSnapshot))
))]
#[get("/api/metrics/snapshot", state: app::backend::AppExt)]
pub async fn metrics_snapshot() -> Result<Value, ApiError> {
    let tasks = state.task_stats().await?;
    json(state.metrics_snapshot(tasks).await?)
}

/// The last hour, one point per sampling interval (5 s), oldest first, or with
/// `range=week` the last 7 days at one point per minute from the store; with `since_ms`
/// (Unix milliseconds, a point's `at_unix_ms`) only the points taken after it (a
/// `MetricsHistory`).
#[cfg_attr(feature = "server", utoipa::path(
    get, path = "/api/metrics/history", tag = "metrics",
    security((), ("session" = [])),
    params(crate::api::shapes::HistoryQuery),
    responses((status = 200, body = app::model::MetricsHistory))
))]
#[get("/api/metrics/history?since_ms&range", state: app::backend::AppExt)]
pub async fn metrics_history(
    since_ms: Option<String>,
    range: Option<String>,
) -> Result<Value, ApiError> {
    let since = match since_ms.as_deref().filter(|s| !s.is_empty()) {
        None => 0,
        Some(s) => s.parse::<u64>().map_err(|_| {
            ApiError::invalid(
                "since_ms",
                "since_ms must be Unix milliseconds (digits only)",
            )
        })?,
    };
    let range = app::backend::ops::history::HistoryRange::named(range.as_deref())?;
    json(state.metrics_history(range, since).await?)
}

/// The dashboard's panels rendered as HTML from the snapshot and the history (see
/// `backend::ops::dashboard`): `{"at_unix_ms", "panels": [[id, html], ...]}`, latencies at
/// `percentile` (`p50`, `p95` (default) or `p99`), charts over `range` (`hour` (default)
/// or `week`, thinned to 720 points).
#[cfg_attr(feature = "server", utoipa::path(
    get, path = "/api/metrics/dashboard", tag = "metrics",
    security((), ("session" = [])),
    params(crate::api::shapes::DashboardQuery),
    responses((status = 200, body = crate::api::shapes::Panels))
))]
#[get("/api/metrics/dashboard?percentile&range", state: app::backend::AppExt)]
pub async fn metrics_dashboard(
    percentile: Option<String>,
    range: Option<String>,
) -> Result<Value, ApiError> {
    use app::backend::ops::dashboard::{Percentile, render};
    let p = match percentile.as_deref().filter(|s| !s.is_empty()) {
        None => Percentile::P95,
        Some(s) => Percentile::named(s)
            .ok_or_else(|| ApiError::invalid("percentile", "percentile must be p50, p95 or p99"))?,
    };
    let range = app::backend::ops::history::HistoryRange::named(range.as_deref())?;
    let tasks = state.task_stats().await?;
    let snapshot = state.metrics_snapshot(tasks).await?;
    let history = state.metrics_history(range, 0).await?;
    let points = app::backend::ops::history_days::downsample(&history.points, 720);
    let panels = render(&snapshot, &points, p);
    Ok(serde_json::json!({ "at_unix_ms": snapshot.at_unix_ms, "panels": panels }))
}

/// The `/performance` page's layers rendered as HTML from the snapshot and the benchmark
/// results file (see `backend::ops::dashboard::layers`): `{"at_unix_ms", "layers": {id:
/// {"title", "about", "live", "bench"}}}` for `http`, `store`, `cache`, `tasks`, `client`.
#[cfg_attr(feature = "server", utoipa::path(
    get, path = "/api/metrics/layers", tag = "metrics",
    security((), ("session" = [])),
    responses((status = 200, body = crate::api::shapes::Layers))
))]
#[get("/api/metrics/layers", state: app::backend::AppExt)]
pub async fn metrics_layers() -> Result<Value, ApiError> {
    let tasks = state.task_stats().await?;
    let snapshot = state.metrics_snapshot(tasks).await?;
    let layers = app::backend::ops::dashboard::layers::render(&snapshot);
    Ok(serde_json::json!({ "at_unix_ms": snapshot.at_unix_ms, "layers": layers }))
}
