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
    let tasks = super::tasks::task_stats_of(&state).await?;
    json(state.metrics_snapshot(tasks).await?)
}

/// The last hour, one point per sampling interval (5 s), oldest first; with `since_ms`
/// (Unix milliseconds, a point's `at_unix_ms`) only the points taken after it (a
/// `MetricsHistory`).
#[get("/api/metrics/history?since_ms", state: app::backend::AppExt)]
pub async fn metrics_history(since_ms: Option<String>) -> Result<Value, ApiError> {
    let since = match since_ms.as_deref().filter(|s| !s.is_empty()) {
        None => 0,
        Some(s) => s.parse::<u64>().map_err(|_| {
            ApiError::invalid(
                "since_ms",
                "since_ms must be Unix milliseconds (digits only)",
            )
        })?,
    };
    json(state.metrics_ring().history(since))
}

/// The dashboard's panels rendered as HTML from the snapshot and the last hour (see
/// `components::dashboard`): `{"at_unix_ms", "panels": [[id, html], ...]}`, latencies at
/// `percentile` (`p50`, `p95` (default) or `p99`).
#[get("/api/metrics/dashboard?percentile", state: app::backend::AppExt)]
pub async fn metrics_dashboard(percentile: Option<String>) -> Result<Value, ApiError> {
    use crate::components::dashboard::{Percentile, render};
    let p = match percentile.as_deref().filter(|s| !s.is_empty()) {
        None => Percentile::P95,
        Some(s) => Percentile::named(s)
            .ok_or_else(|| ApiError::invalid("percentile", "percentile must be p50, p95 or p99"))?,
    };
    let tasks = super::tasks::task_stats_of(&state).await?;
    let snapshot = json(state.metrics_snapshot(tasks).await?)?;
    let history = json(state.metrics_ring().history(0))?;
    let points = history["points"].as_array().map_or(&[][..], Vec::as_slice);
    let panels = render(&snapshot, points, p);
    Ok(serde_json::json!({ "at_unix_ms": snapshot["at_unix_ms"], "panels": panels }))
}
