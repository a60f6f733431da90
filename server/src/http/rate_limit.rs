//! Rate limiting with GCRA (the governor crate), per client IP, with separate limits for
//! reads (GET, HEAD) and writes (everything else).
//!
//! Every limited response carries `RateLimit-Limit`, `RateLimit-Remaining` and
//! `RateLimit-Reset`; a refusal is a 429 with `Retry-After` in whole seconds (at least 1) and
//! the API's JSON error body. The client address is the TCP peer, or the last entry of a
//! configured header set by a trusted proxy. Per-address state is bounded: addresses whose
//! state is indistinguishable from a fresh one are dropped every minute.

use std::{
    net::{IpAddr, SocketAddr},
    num::NonZeroU32,
    sync::Arc,
    time::Duration,
};

use axum::{
    body::Body,
    extract::{ConnectInfo, Request, State},
    http::{HeaderName, HeaderValue, Method, StatusCode, header},
    middleware::Next,
    response::Response,
};
use governor::{
    Quota, RateLimiter,
    clock::{Clock, DefaultClock},
    middleware::StateInformationMiddleware,
    state::keyed::DefaultKeyedStateStore,
};

type Keyed =
    RateLimiter<IpAddr, DefaultKeyedStateStore<IpAddr>, DefaultClock, StateInformationMiddleware>;

/// One limit: sustained rate and burst.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// Requests per minute (0 turns the limit off).
    pub per_minute: u32,
    /// Requests allowed at once after an idle period.
    pub burst: u32,
}

struct Limiter {
    limiter: Keyed,
    limit: Limit,
    /// Time to earn back one request.
    period: Duration,
}

impl Limiter {
    fn new(limit: Limit) -> Option<Self> {
        let per_minute = NonZeroU32::new(limit.per_minute)?;
        let burst = NonZeroU32::new(limit.burst.max(1)).expect("at least 1");
        let quota = Quota::per_minute(per_minute).allow_burst(burst);
        Some(Self {
            limiter: RateLimiter::keyed(quota).with_middleware::<StateInformationMiddleware>(),
            period: quota.replenish_interval(),
            limit,
        })
    }
}

/// Read and write limits plus how to find the client.
pub struct RateLimits {
    read: Option<Limiter>,
    write: Option<Limiter>,
    client_header: Option<HeaderName>,
    exempt: Vec<String>,
    clock: DefaultClock,
}

impl RateLimits {
    /// `client_header`: a header a trusted proxy sets (e.g. `x-forwarded-for`); `exempt`:
    /// path prefixes never limited (static assets, `/metrics`).
    pub fn new(
        read: Limit,
        write: Limit,
        client_header: Option<HeaderName>,
        exempt: Vec<String>,
    ) -> Self {
        Self {
            read: Limiter::new(read),
            write: Limiter::new(write),
            client_header,
            exempt,
            clock: DefaultClock::default(),
        }
    }

    /// Forgets addresses whose limit state is back to fresh; returns how many remain.
    pub fn sweep(&self) -> usize {
        let mut n = 0;
        for l in [&self.read, &self.write].into_iter().flatten() {
            l.limiter.retain_recent();
            l.limiter.shrink_to_fit();
            n += l.limiter.len();
        }
        n
    }

    /// Sweeps every minute until the limits are dropped.
    pub fn spawn_sweeper(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let weak = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(60));
            loop {
                tick.tick().await;
                let Some(limits) = weak.upgrade() else { return };
                limits.sweep();
            }
        })
    }

    fn client(&self, req: &Request) -> Option<IpAddr> {
        if let Some(h) = &self.client_header
            && let Some(ip) = req
                .headers()
                .get(h)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.rsplit(',').next())
                .and_then(|v| v.trim().parse().ok())
        {
            return Some(ip);
        }
        req.extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
    }
}

fn set(res: &mut Response, name: &'static str, value: u64) {
    res.headers_mut().insert(name, HeaderValue::from(value));
}

/// axum middleware (use with `from_fn_with_state`).
pub async fn layer(State(limits): State<Arc<RateLimits>>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if limits.exempt.iter().any(|p| path.starts_with(p.as_str())) {
        return next.run(req).await;
    }
    let read = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let Some(limiter) = (if read { &limits.read } else { &limits.write }) else {
        return next.run(req).await;
    };
    let Some(ip) = limits.client(&req) else {
        return next.run(req).await;
    };
    let burst = u64::from(limiter.limit.burst.max(1));
    match limiter.limiter.check_key(&ip) {
        Ok(state) => {
            let remaining = u64::from(state.remaining_burst_capacity());
            let mut res = next.run(req).await;
            set(&mut res, "ratelimit-limit", burst);
            set(&mut res, "ratelimit-remaining", remaining);
            let refill = limiter.period.as_secs_f64() * (burst - remaining) as f64;
            set(&mut res, "ratelimit-reset", refill.ceil() as u64);
            res
        }
        Err(not_until) => {
            let wait = not_until.wait_time_from(limits.clock.now());
            let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
            let kind = if read { "read" } else { "write" };
            let body = format!(
                r#"{{"error":{{"code":"rate_limited","message":"too many {kind} requests: at most {} per minute with bursts of {}; retry in {secs} s"}}}}"#,
                limiter.limit.per_minute, limiter.limit.burst
            );
            let mut res = Response::new(Body::from(body));
            *res.status_mut() = StatusCode::TOO_MANY_REQUESTS;
            res.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            set(&mut res, "retry-after", secs);
            set(&mut res, "ratelimit-limit", burst);
            set(&mut res, "ratelimit-remaining", 0);
            set(&mut res, "ratelimit-reset", secs);
            res
        }
    }
}
