//! The whole middleware stack in one place, so the server and the overhead benchmark wrap
//! routers identically.
//!
//! Outermost first: the edge (request id, metrics, body size, rate limit, response cache,
//! panic guard, timeout, security headers, compression), then the router's own handlers.

use std::{sync::Arc, time::Duration};

use axum::{Router, extract::DefaultBodyLimit, http::HeaderValue};
use tower::ServiceBuilder;

use super::{
    edge::{Edge, EdgeLayer},
    rate_limit, response_cache,
    security::RequestIds,
};
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
    /// The Content-Security-Policy of HTML documents ([`super::security::page_policy`]).
    pub page_policy: HeaderValue,
}

impl<P: CachePolicy> HttpStack<P> {
    /// Wraps `router` in the stack: the edge (one service, see [`super::edge`], compression
    /// included) and the body limit for extractors, applied to the router in one layer.
    pub fn apply(&self, router: Router) -> Router {
        let edge = Edge {
            body_limit: self.body_limit as u64,
            metrics: self.metrics.clone(),
            rate_limits: self.rate_limits.clone(),
            response_cache: self.response_cache.clone(),
            timeout: self.timeout,
            ids: RequestIds::default(),
            page_policy: self.page_policy.clone(),
        };
        let layers = ServiceBuilder::new()
            .layer(EdgeLayer(Arc::new(edge)))
            .layer(DefaultBodyLimit::max(self.body_limit));
        router.layer(layers)
    }
}
