//! `POST /api/vitals` (a page's Web Vitals beacon) and `GET /api/vitals` (the field data
//! per page). See `model::vitals` for the format and `backend::ops::vitals` for the aggregation.

use dioxus::prelude::*;

use app::model::{ApiError, JsonBody, VitalsReport, VitalsSummary};

/// Beacons are small: five numbers and two names. (The client sends no body limit.)
#[cfg_attr(not(feature = "server"), allow(dead_code))]
const BEACON_LIMIT: usize = 4096;

/// Records one page view's measurements; `{"recorded": n}` (metrics taken).
#[cfg_attr(feature = "server", utoipa::path(
    post, path = "/api/vitals", tag = "vitals",
    security((), ("session" = [])),
    request_body(content = VitalsReport, content_type = "application/json"),
    responses(
        (
            status = 200,
            description = "How many metrics were recorded.",
            body = crate::api::shapes::Recorded
        )
    )
))]
#[post("/api/vitals", state: app::backend::AppExt)]
pub async fn report_vitals(
    body: JsonBody<VitalsReport, BEACON_LIMIT, true>,
) -> Result<serde_json::Value, ApiError> {
    let valid = body.0.validate()?;
    state.vitals().record(&valid);
    Ok(serde_json::json!({ "recorded": valid.metrics.len() }))
}

/// p50/p75/p95, samples and the good / needs-improvement / poor split per page and metric.
#[cfg_attr(feature = "server", utoipa::path(
    get, path = "/api/vitals", tag = "vitals",
    security((), ("session" = [])),
    responses((status = 200, body = VitalsSummary))
))]
#[get("/api/vitals", state: app::backend::AppExt)]
pub async fn vitals_summary() -> Result<VitalsSummary, ApiError> {
    Ok(state.vitals().summary())
}
