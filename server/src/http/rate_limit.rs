//! Rate limiting with GCRA (the governor crate), per client IP, with separate limits for
//! reads (GET, HEAD) and writes (everything else).
//!
//! Every limited response carries `RateLimit-Limit`, `RateLimit-Remaining` and
//! `RateLimit-Reset`; a refusal is a 429 with `Retry-After` in whole seconds (at least 1) and
//! the API's JSON error body. The client address is the TCP peer, or the last entry of a
//! configured header set by a trusted proxy. Per-address state is bounded: an IPv6 client
//! is its /64 (one subscriber's whole allocation, which it could otherwise walk through),
//! addresses whose state is indistinguishable from a fresh one are dropped every minute, and
//! past [`MAX_CLIENTS`] tracked addresses new state is swept at once and, if still over,
//! every request shares one overflow bucket until the sweep has room again.
//!
//! With several instances, [`RateLimits::shared`] moves the state to Redis
//! ([`crate::shared::SharedLimits`]): the same GCRA, exact across instances. A check Redis
//! cannot answer in time falls back to this instance's own limiter (counted in
//! [`RateLimits::fallbacks`]), so a Redis outage relaxes the limit to per-instance but never
//! fails a request.

use std::{
    net::{IpAddr, Ipv6Addr, SocketAddr},
    num::NonZeroU32,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering::Relaxed},
    },
    time::{Duration, Instant},
};

use axum::{
    body::Body,
    extract::{ConnectInfo, Request},
    http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header},
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

/// Client addresses tracked per limit at most (about 6 MB of state).
pub const MAX_CLIENTS: usize = 100_000;

/// The key every request shares while more than [`MAX_CLIENTS`] addresses are tracked.
const OVERFLOW: IpAddr = IpAddr::V6(Ipv6Addr::UNSPECIFIED);

/// The key of a client address: IPv4 as is, IPv4-mapped IPv6 as IPv4, other IPv6 by /64.
pub fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(Ipv6Addr::from(
                u128::from(v6) & 0xffff_ffff_ffff_ffff_0000_0000_0000_0000,
            )),
        },
    }
}

/// The client a request came from, by its key ([`client_key`]): the address a trusted
/// proxy named, else the TCP peer. The edge puts it in the request's extensions, so that
/// handlers bound per-client state (open event streams) the way the limits do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientAddress(pub IpAddr);

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
    limit_header: HeaderValue,
    /// Time to earn back one request.
    period: Duration,
    /// When the last sweep forced by the bound ran (ms since `started`).
    last_forced_sweep: AtomicU64,
    started: Instant,
}

impl Limiter {
    /// The key to charge for `ip`, keeping the tracked addresses within [`MAX_CLIENTS`].
    fn key(&self, ip: IpAddr) -> IpAddr {
        if self.limiter.len() < MAX_CLIENTS {
            return client_key(ip);
        }
        // Over the bound: sweep, at most once a second, then look again.
        let now = self.started.elapsed().as_millis() as u64;
        let last = self.last_forced_sweep.load(Relaxed);
        if now >= last + 1000
            && self
                .last_forced_sweep
                .compare_exchange(last, now, Relaxed, Relaxed)
                .is_ok()
        {
            self.limiter.retain_recent();
            if self.limiter.len() >= MAX_CLIENTS {
                tracing::warn!(
                    tracked = self.limiter.len(),
                    "rate limit state is full; clients share one bucket until it drains"
                );
            }
        }
        if self.limiter.len() < MAX_CLIENTS {
            client_key(ip)
        } else {
            OVERFLOW
        }
    }
}

impl Limiter {
    fn new(limit: Limit) -> Option<Self> {
        let per_minute = NonZeroU32::new(limit.per_minute)?;
        let burst = NonZeroU32::new(limit.burst.max(1)).expect("at least 1");
        let quota = Quota::per_minute(per_minute).allow_burst(burst);
        Some(Self {
            limiter: RateLimiter::keyed(quota).with_middleware::<StateInformationMiddleware>(),
            period: quota.replenish_interval(),
            limit_header: HeaderValue::from(burst.get()),
            limit,
            last_forced_sweep: AtomicU64::new(0),
            started: Instant::now(),
        })
    }
}

/// A reverse proxy that names the client in a header, and which peers are that proxy.
#[derive(Debug, Clone)]
pub struct TrustedProxy {
    /// E.g. `x-forwarded-for`. The client is the last address of the header's last line:
    /// the one the nearest proxy added (HAProxy's `option forwardfor` appends a line of its
    /// own after whatever the client sent, so earlier lines and entries are the client's
    /// word and never believed).
    pub header: HeaderName,
    /// The peers whose header is believed; a request from any other address is keyed by
    /// that address, whatever header it carries.
    pub proxies: Vec<ipnet::IpNet>,
}

impl TrustedProxy {
    /// The client `req` names, if it came from a trusted proxy that named one.
    fn client(&self, peer: IpAddr, req: &Request) -> Option<IpAddr> {
        let peer = peer.to_canonical();
        if !self.proxies.iter().any(|net| net.contains(&peer)) {
            return None;
        }
        req.headers()
            .get_all(&self.header)
            .iter()
            .next_back()
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .and_then(|v| v.trim().parse::<IpAddr>().ok())
            .map(|ip| ip.to_canonical())
    }
}

/// Read and write limits plus how to find the client.
pub struct RateLimits {
    read: Option<Limiter>,
    write: Option<Limiter>,
    client_header: Option<TrustedProxy>,
    exempt: Vec<String>,
    clock: DefaultClock,
    shared: Option<crate::shared::SharedLimits>,
    fallbacks: AtomicU64,
}

impl RateLimits {
    /// `client_header`: the proxy trusted to name the client (see [`TrustedProxy`]);
    /// `exempt`: path prefixes never limited (static assets, `/metrics`).
    pub fn new(
        read: Limit,
        write: Limit,
        client_header: Option<TrustedProxy>,
        exempt: Vec<String>,
    ) -> Self {
        Self {
            read: Limiter::new(read),
            write: Limiter::new(write),
            client_header,
            exempt,
            clock: DefaultClock::default(),
            shared: None,
            fallbacks: AtomicU64::new(0),
        }
    }

    /// Keeps the limit state in Redis, shared with every instance on it.
    pub fn shared(mut self, shared: crate::shared::SharedLimits) -> Self {
        self.shared = Some(shared);
        self
    }

    /// Checks the shared limits could not make (Redis down or slow), decided locally.
    pub fn fallbacks(&self) -> u64 {
        self.fallbacks.load(Relaxed)
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
        client_of(self.client_header.as_ref(), req)
    }

    /// The client `req` came from, by these limits' rule for proxies.
    pub fn client_address(&self, req: &Request) -> Option<ClientAddress> {
        self.client(req).map(|ip| ClientAddress(client_key(ip)))
    }
}

/// The client `req` came from: what `proxy` named, if it sent the request, else the peer.
pub fn client_of(proxy: Option<&TrustedProxy>, req: &Request) -> Option<IpAddr> {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())?;
    proxy.and_then(|t| t.client(peer, req)).or(Some(peer))
}

static LIMIT: HeaderName = HeaderName::from_static("ratelimit-limit");
static REMAINING: HeaderName = HeaderName::from_static("ratelimit-remaining");
static RESET: HeaderName = HeaderName::from_static("ratelimit-reset");

/// A request the limits let through, with what the `RateLimit-*` headers should say.
pub struct Granted {
    limit: HeaderValue,
    remaining: u64,
    reset: u64,
}

/// Header values of small numbers, made once: formatting a number into a new header value
/// on every response showed up in profiles.
fn number(n: u64) -> HeaderValue {
    static SMALL: std::sync::LazyLock<Vec<HeaderValue>> =
        std::sync::LazyLock::new(|| (0..=1024u64).map(HeaderValue::from).collect());
    SMALL
        .get(n as usize)
        .cloned()
        .unwrap_or_else(|| HeaderValue::from(n))
}

impl Granted {
    /// Adds `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset`.
    pub fn apply(&self, headers: &mut HeaderMap) {
        headers.insert(LIMIT.clone(), self.limit.clone());
        headers.insert(REMAINING.clone(), number(self.remaining));
        headers.insert(RESET.clone(), number(self.reset));
    }
}

impl RateLimits {
    /// `None`: not limited (exempt path, limit off, unknown client). `Some(Ok)`: allowed.
    /// `Some(Err)`: the 429 to send.
    /// (Only what the check needs is taken from `req`, so the future does not hold it.)
    pub fn check(
        &self,
        req: &Request,
    ) -> impl Future<Output = Option<Result<Granted, Response>>> + Send + '_ {
        let path = req.uri().path();
        let target = if self.exempt.iter().any(|p| path.starts_with(p.as_str())) {
            None
        } else {
            let read = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
            self.client(req).map(|client| (read, client))
        };
        async move {
            let (read, client) = target?;
            self.decide(read, client).await
        }
    }

    async fn decide(&self, read: bool, client: IpAddr) -> Option<Result<Granted, Response>> {
        let limiter = if read {
            self.read.as_ref()
        } else {
            self.write.as_ref()
        }?;
        let kind = if read { "read" } else { "write" };
        if let Some(shared) = &self.shared {
            let limit = limiter.limit;
            match shared
                .check(kind, client_key(client), limit.per_minute, limit.burst)
                .await
            {
                Ok(d) if d.allowed => {
                    return Some(Ok(Granted {
                        limit: limiter.limit_header.clone(),
                        remaining: d.remaining,
                        reset: d.wait.as_secs_f64().ceil() as u64,
                    }));
                }
                Ok(d) => return Some(Err(refusal(limiter, kind, d.wait))),
                Err(e) => {
                    let n = self.fallbacks.fetch_add(1, Relaxed);
                    if n.is_power_of_two() || n == 0 {
                        tracing::warn!(
                            fallbacks = n + 1,
                            "shared rate limit unavailable, deciding locally: {e}"
                        );
                    }
                }
            }
        }
        let ip = limiter.key(client);
        let burst = u64::from(limiter.limit.burst.max(1));
        Some(match limiter.limiter.check_key(&ip) {
            Ok(state) => {
                let remaining = u64::from(state.remaining_burst_capacity());
                let refill = limiter.period.as_secs_f64() * (burst - remaining) as f64;
                Ok(Granted {
                    limit: limiter.limit_header.clone(),
                    remaining,
                    reset: refill.ceil() as u64,
                })
            }
            Err(not_until) => Err(refusal(
                limiter,
                kind,
                not_until.wait_time_from(self.clock.now()),
            )),
        })
    }
}

/// The 429 for a `kind` request refused by `limiter`, to be retried after `wait`.
fn refusal(limiter: &Limiter, kind: &str, wait: Duration) -> Response {
    let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
    let body = format!(
        r#"{{"error":{{"code":"rate_limited","message":"too many {kind} requests: at most {} per minute with bursts of {}; retry in {secs} s"}}}}"#,
        limiter.limit.per_minute, limiter.limit.burst
    );
    let mut res = Response::new(Body::from(body));
    *res.status_mut() = StatusCode::TOO_MANY_REQUESTS;
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    h.insert(header::RETRY_AFTER, HeaderValue::from(secs));
    h.insert(LIMIT.clone(), limiter.limit_header.clone());
    h.insert(REMAINING.clone(), HeaderValue::from_static("0"));
    h.insert(RESET.clone(), HeaderValue::from(secs));
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_trusted_proxy_names_the_client_and_only_in_the_line_it_added() {
        let trusted = TrustedProxy {
            header: HeaderName::from_static("x-forwarded-for"),
            proxies: vec!["127.0.0.0/8".parse().expect("cidr")],
        };
        // `lines`: the header lines in order (the client's first, the proxy's appended last).
        let client = |peer: &str, lines: &[&str]| {
            let mut req = Request::new(Body::empty());
            for line in lines {
                let value = HeaderValue::from_str(line).expect("ascii");
                req.headers_mut().append("x-forwarded-for", value);
            }
            let peer: IpAddr = peer.parse().expect("ip");
            trusted.client(peer, &req).map(|ip| ip.to_string())
        };
        // Through the proxy: whatever the client invents, the proxy's line names it.
        assert_eq!(
            client("127.0.0.1", &["10.1.1.1", "192.0.2.7"]).as_deref(),
            Some("192.0.2.7")
        );
        assert_eq!(
            client(
                "127.0.0.1",
                &["10.1.1.1, 10.2.2.2", "198.51.100.1, 192.0.2.8"]
            )
            .as_deref(),
            Some("192.0.2.8")
        );
        assert_eq!(
            client("::ffff:127.0.0.1", &["192.0.2.9"]).as_deref(),
            Some("192.0.2.9")
        );
        // Not from the proxy: the header is not believed (the peer is the client).
        assert_eq!(client("198.51.100.5", &["192.0.2.10"]), None);
        assert_eq!(client("127.0.0.1", &[]), None);
    }

    #[test]
    fn an_ipv6_client_is_its_slash_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().expect("ip");
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().expect("ip");
        let other: IpAddr = "2001:db8:1:3::1".parse().expect("ip");
        assert_eq!(client_key(a), client_key(b));
        assert_ne!(client_key(a), client_key(other));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().expect("ip");
        assert_eq!(
            client_key(mapped),
            "192.0.2.7".parse::<IpAddr>().expect("ip")
        );
    }
}
