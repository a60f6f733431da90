//! The HTTP layers as this app configures them: what the response cache keeps
//! ([`caching`]), the rate limits ([`limits`]), the shape of every error answer
//! ([`api_errors`]) and the refusal of other sites' writes ([`refuse_cross_origin`]),
//! assembled into the server's middleware stack.

pub mod api_errors;
mod caching;
mod limits;

use std::{sync::Arc, time::Duration};

use server::{http::HttpStack, metrics::RequestMetrics};

pub use caching::{LIST_PARAMS, decide, response_cache};
pub use limits::rate_limits;

use super::{AppConfig, AppState, cache::Policy};

/// axum middleware: a write that a browser sent from another site (see
/// `server::http::cross_origin`) is answered 403 and reaches no handler, so it changes
/// nothing. The server's own origin, and `AION_ALLOWED_ORIGINS`, may write.
pub async fn refuse_cross_origin(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let allowed = req
        .extensions()
        .get::<AppState>()
        .map(|s| s.config().allowed_origins.clone())
        .unwrap_or_default();
    match server::http::cross_origin::check(req.method(), req.headers(), &allowed) {
        Ok(()) => next.run(req).await,
        Err(refused) => crate::model::ApiError::forbidden(refused.message()).into_response(),
    }
}

/// Largest request body anywhere (node batches have their own 32 MiB limit inside).
pub const BODY_LIMIT: usize = 64 * 1024 * 1024;

/// The full middleware stack for this app instance.
pub fn stack(state: &AppState) -> HttpStack<Policy> {
    HttpStack {
        metrics: state.request_metrics().clone(),
        rate_limits: Some(state.rate_limits().clone()),
        response_cache: Some(state.response_cache().clone()),
        body_limit: BODY_LIMIT,
        timeout: Duration::from_secs(state.config().request_timeout_secs),
        page_policy: page_policy().clone(),
    }
}

/// The pages' script policy: inline scripts only by hash, and the one inline script left
/// after the hydration data is made inert (`hooks::strict_document`) is Dioxus's fixed
/// streaming bootstrap.
pub fn page_policy() -> &'static axum::http::HeaderValue {
    static POLICY: std::sync::OnceLock<axum::http::HeaderValue> = std::sync::OnceLock::new();
    POLICY.get_or_init(|| {
        use base64::Engine as _;
        use sha2::Digest as _;
        let digest = sha2::Sha256::digest(dioxus_interpreter_js::INITIALIZE_STREAMING_JS);
        let hash = base64::engine::general_purpose::STANDARD.encode(digest);
        server::http::security::page_policy(&[format!("'sha256-{hash}'")])
    })
}

/// Request metrics with the configured slow-request threshold.
pub fn request_metrics(config: &AppConfig) -> Arc<RequestMetrics> {
    Arc::new(RequestMetrics::new(
        Duration::from_millis(config.slow_request_ms),
        50,
    ))
}
