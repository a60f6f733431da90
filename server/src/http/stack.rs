//! The whole middleware stack in one place, so the server and the overhead benchmark wrap
//! routers identically.
//!
//! Outermost first: request id, metrics, panic guard (so a panic is counted as a 500),
//! security headers, rate limit, compression, timeout, body limit, response cache, then the
//! router's own handlers.

use std::{sync::Arc, time::Duration};

use axum::{Router, http::StatusCode, middleware::from_fn_with_state};
use tower_http::{
    catch_panic::CatchPanicLayer,
    limit::RequestBodyLimitLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    set_header::SetResponseHeaderLayer,
    timeout::TimeoutLayer,
};

use super::{compression, measure, rate_limit, response_cache, security};
use crate::{cache::CachePolicy, metrics::RequestMetrics};

/// What the stack is made of; everything optional except metrics.
pub struct HttpStack<P: CachePolicy> {
    /// Request metrics.
    pub metrics: Arc<RequestMetrics>,
    /// Rate limits, if any.
    pub rate_limits: Option<Arc<rate_limit::RateLimits>>,
    /// The response cache, if any.
    pub response_cache: Option<Arc<response_cache::ResponseCache<P>>>,
    /// Largest request body (413 beyond).
    pub body_limit: usize,
    /// Longest time to the response head (408 beyond).
    pub timeout: Duration,
}

impl<P: CachePolicy> HttpStack<P> {
    /// Wraps `router` in the stack.
    pub fn apply(&self, router: Router) -> Router {
        let mut router = router;
        if let Some(rc) = &self.response_cache {
            router = router.layer(from_fn_with_state(rc.clone(), response_cache::layer::<P>));
        }
        router = router
            .layer(RequestBodyLimitLayer::new(self.body_limit))
            .layer(TimeoutLayer::with_status_code(
                StatusCode::REQUEST_TIMEOUT,
                self.timeout,
            ))
            .layer(compression::compression());
        if let Some(rl) = &self.rate_limits {
            router = router.layer(from_fn_with_state(rl.clone(), rate_limit::layer));
        }
        for (name, value) in security::headers() {
            router = router.layer(SetResponseHeaderLayer::if_not_present(name, value));
        }
        router
            .layer(CatchPanicLayer::custom(security::panic_response))
            .layer(from_fn_with_state(self.metrics.clone(), measure::layer))
            .layer(PropagateRequestIdLayer::x_request_id())
            .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
    }
}
