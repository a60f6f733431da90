//! The HTTP layers as this app configures them: what the response cache keeps
//! ([`caching`]), the rate limits ([`limits`]) and the shape of every error answer
//! ([`api_errors`]), assembled into the server's middleware stack.

pub mod api_errors;
mod caching;
mod limits;

use std::{sync::Arc, time::Duration};

use server::{http::HttpStack, metrics::RequestMetrics};

pub use caching::{LIST_PARAMS, decide, response_cache};
pub use limits::rate_limits;

use super::{AppConfig, AppState, cache::Policy};

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
    }
}

/// Request metrics with the configured slow-request threshold.
pub fn request_metrics(config: &AppConfig) -> Arc<RequestMetrics> {
    Arc::new(RequestMetrics::new(
        Duration::from_millis(config.slow_request_ms),
        50,
    ))
}
