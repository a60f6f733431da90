//! `GET /api/metrics/snapshot` and `GET /api/metrics/history`: the running system for the
//! performance dashboard (API.md; the shapes are `model::snapshot`'s types, built and
//! serialised by the server). Never cached: every figure is read at the request.
//!
//! Both answer a `serde_json::Value` rather than the typed model: the browser reads the few
//! dozen figures it shows through `components::dashboard`'s accessors, and decoding the
//! twenty nested types with derived deserializers cost the WASM bundle about 10 KB brotli
//! (measured with `cargo xtask bundle-size`), which the bundle's 400 KB cap does not have.

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
#[get("/api/metrics/snapshot", state: app::backend::AppExt)]
pub async fn metrics_snapshot() -> Result<Value, ApiError> {
    let tasks = state.task_stats().await?;
    json(state.metrics_snapshot(tasks).await?)
}

/// Which history: the last hour from memory, or the last 7 days from the store.
#[cfg(feature = "server")]
#[derive(Clone, Copy, PartialEq)]
enum Range {
    Hour,
    Week,
}

#[cfg(feature = "server")]
fn range_of(range: Option<&str>) -> Result<Range, ApiError> {
    match range.filter(|s| !s.is_empty()) {
        None | Some("hour") => Ok(Range::Hour),
        Some("week") => Ok(Range::Week),
        Some(_) => Err(ApiError::invalid("range", "range must be hour or week")),
    }
}

/// The history's points of `range` taken after `since` (Unix ms), oldest first.
#[cfg(feature = "server")]
async fn history_of(
    state: &app::backend::AppExt,
    range: Range,
    since: u64,
) -> Result<app::model::MetricsHistory, ApiError> {
    Ok(match range {
        Range::Hour => state.metrics_ring().history(since),
        Range::Week => {
            let now = app::backend::time::now_micros().max(0) as u64 / 1000;
            let from = since.max(now.saturating_sub(app::backend::ops::history_days::RETENTION_MS));
            let points = app::backend::ops::history_days::load(state.store(), from)
                .await
                .map_err(|e| {
                    tracing::error!("reading the kept history failed: {e}");
                    ApiError::internal()
                })?;
            app::model::MetricsHistory {
                interval_secs: state.config().history_rollup_ms as f64 / 1000.0,
                points,
            }
        }
    })
}

/// The last hour, one point per sampling interval (5 s), oldest first, or with
/// `range=week` the last 7 days at one point per minute from the store; with `since_ms`
/// (Unix milliseconds, a point's `at_unix_ms`) only the points taken after it (a
/// `MetricsHistory`).
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
    let range = range_of(range.as_deref())?;
    json(history_of(&state, range, since).await?)
}

/// The dashboard's panels rendered as HTML from the snapshot and the history (see
/// `components::dashboard`): `{"at_unix_ms", "panels": [[id, html], ...]}`, latencies at
/// `percentile` (`p50`, `p95` (default) or `p99`), charts over `range` (`hour` (default)
/// or `week`, thinned to 720 points).
#[get("/api/metrics/dashboard?percentile&range", state: app::backend::AppExt)]
pub async fn metrics_dashboard(
    percentile: Option<String>,
    range: Option<String>,
) -> Result<Value, ApiError> {
    use crate::components::dashboard::{Percentile, render};
    let p = match percentile.as_deref().filter(|s| !s.is_empty()) {
        None => Percentile::P95,
        Some(s) => Percentile::named(s)
            .ok_or_else(|| ApiError::invalid("percentile", "percentile must be p50, p95 or p99"))?,
    };
    let range = range_of(range.as_deref())?;
    let tasks = state.task_stats().await?;
    let snapshot = json(state.metrics_snapshot(tasks).await?)?;
    let mut history = history_of(&state, range, 0).await?;
    history.points = app::backend::ops::history_days::downsample(&history.points, 720);
    let history = json(history)?;
    let points = history["points"].as_array().map_or(&[][..], Vec::as_slice);
    let panels = render(&snapshot, points, p);
    Ok(serde_json::json!({ "at_unix_ms": snapshot["at_unix_ms"], "panels": panels }))
}

/// The `/performance` page's layers rendered as HTML from the snapshot and the benchmark
/// results file (see `components::dashboard::layers`): `{"at_unix_ms", "layers": {id:
/// {"title", "about", "live", "bench"}}}` for `http`, `store`, `cache`, `tasks`, `client`.
#[get("/api/metrics/layers", state: app::backend::AppExt)]
pub async fn metrics_layers() -> Result<Value, ApiError> {
    let tasks = state.task_stats().await?;
    let snapshot = json(state.metrics_snapshot(tasks).await?)?;
    let layers = crate::components::dashboard::layers::render(&snapshot);
    Ok(serde_json::json!({ "at_unix_ms": snapshot["at_unix_ms"], "layers": layers }))
}
