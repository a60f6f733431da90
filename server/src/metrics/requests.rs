//! Request metrics per route: counts by status class, requests in flight, latency
//! percentiles, bytes in and out, error rate; totals plus rolling 1- and 5-minute windows;
//! and a log of the slowest requests.
//!
//! Routes are keys from a closed set: the caller passes a method from a fixed list (anything
//! else is `OTHER`) and a route template, never a raw path, and past [`MAX_ROUTES`] keys
//! everything counts under one overflow key, so no client can grow the registry. Latencies
//! go into DDSketches (1 % relative error): they allocate nothing until the first value and
//! grow with the spread of the values, not with their range, where the HDR histograms used
//! before took ~190 KB each up front (eight of them per key, 1.5 MiB, made a request with an
//! invented method cost 1.5 MiB). Windows are 60 buckets of 5 s, each with its own sketch,
//! merged on read. Recording takes one uncontended lock: each route's state is split into
//! shards picked by the recording thread (measured: one shared lock per route made the
//! runtime threads wait on each other), and totals are summed when read.

use std::{
    collections::{HashMap, VecDeque},
    sync::{
        Arc, Mutex, RwLock,
        atomic::{AtomicI64, AtomicU64, Ordering::Relaxed},
    },
    time::{Duration, Instant, SystemTime},
};

use serde::Serialize;

use sketches_ddsketch::{Config, DDSketch};

use super::HistogramSnapshot;

const BUCKET: Duration = Duration::from_secs(5);
const BUCKETS: usize = 60;

/// Counts and latencies of one window.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct WindowStats {
    /// Window length in seconds.
    pub seconds: u64,
    /// Requests finished in the window.
    pub requests: u64,
    /// Requests per second over the window (or since start, if shorter).
    pub rps: f64,
    /// Share of 5xx responses.
    pub error_rate: f64,
    /// Latency percentiles.
    pub latency: HistogramSnapshot,
}

/// One route at a moment.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RouteSnapshot {
    /// Route template, e.g. `GET /api/stories/{id}`.
    pub route: String,
    /// Responses by status class: 1xx, 2xx, 3xx, 4xx, 5xx.
    pub status: [u64; 5],
    /// All responses.
    pub requests: u64,
    /// Share of 5xx responses since start.
    pub error_rate: f64,
    /// Requests being handled now.
    pub in_flight: i64,
    /// Request body bytes received.
    pub bytes_in: u64,
    /// Response body bytes sent.
    pub bytes_out: u64,
    /// Latency since start.
    pub latency: HistogramSnapshot,
    /// The last minute.
    pub last_1m: WindowStats,
    /// The last five minutes.
    pub last_5m: WindowStats,
}

/// A request slower than the threshold.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SlowRequest {
    /// Route template.
    pub route: String,
    /// Response status.
    pub status: u16,
    /// Duration in milliseconds.
    pub duration_ms: f64,
    /// When it finished (seconds since the Unix epoch).
    pub at_unix: f64,
}

/// Everything at a moment.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RequestsSnapshot {
    /// All routes together.
    pub total: RouteSnapshot,
    /// Each route, busiest first.
    pub routes: Vec<RouteSnapshot>,
    /// The slowest requests above the threshold, slowest first.
    pub slow: Vec<SlowRequest>,
    /// The slow-request threshold in milliseconds.
    pub slow_threshold_ms: f64,
}

struct Bucket {
    index: u64,
    requests: u64,
    errors: u64,
    latency: Sketch,
}

/// Latencies in microseconds, with 1 % relative error on every quantile.
#[derive(Clone)]
struct Sketch(DDSketch);

impl Sketch {
    fn new() -> Self {
        // 1,024 bins cover 1 µs to beyond an hour at 1 %; the store grows in chunks of 128
        // bins (1 KB) as values spread, and starts empty.
        Self(DDSketch::new(Config::new(0.01, 1024, 0.5)))
    }

    fn record(&mut self, micros: u64) {
        self.0.add(micros as f64);
    }

    fn merge(&mut self, other: &Self) {
        // Cannot fail: every sketch here has the same configuration.
        let _ = self.0.merge(&other.0);
    }

    fn snapshot(&self) -> HistogramSnapshot {
        let d = &self.0;
        let count = d.count() as u64;
        if count == 0 {
            return HistogramSnapshot::default();
        }
        let q = |q: f64| d.quantile(q).ok().flatten().unwrap_or(0.0).round();
        HistogramSnapshot {
            count,
            mean_us: d.sum().unwrap_or(0.0) / count as f64,
            p50_us: q(0.50),
            p95_us: q(0.95),
            p99_us: q(0.99),
            max_us: d.max().unwrap_or(0.0),
        }
    }
}

const SHARDS: usize = 8;

/// The part of a route's state one thread records into; empty until that thread records.
#[derive(Default)]
struct Shard {
    latency: Option<Sketch>,
    window: VecDeque<Bucket>,
}

#[derive(Default)]
struct RouteStats {
    status: [AtomicU64; 5],
    in_flight: AtomicI64,
    bytes_in: AtomicU64,
    bytes_out: AtomicU64,
    shards: [Mutex<Shard>; SHARDS],
}

thread_local! {
    static SHARD: usize = {
        use std::hash::{BuildHasher, RandomState};
        RandomState::new().hash_one(std::thread::current().id()) as usize % SHARDS
    };
}

/// Distinct route keys kept at most; later ones count under [`OVERFLOW_ROUTE`].
pub const MAX_ROUTES: usize = 256;

/// The key of requests past [`MAX_ROUTES`].
pub const OVERFLOW_ROUTE: &str = "OTHER (overflow)";

/// The registry of request metrics.
pub struct RequestMetrics {
    routes: RwLock<HashMap<String, Arc<RouteStats>>>,
    slow: Mutex<Vec<SlowRequest>>,
    slow_threshold: Duration,
    slow_keep: usize,
    started: Instant,
}

impl Default for RequestMetrics {
    fn default() -> Self {
        Self::new(Duration::from_millis(1000), 50)
    }
}

impl RequestMetrics {
    /// Logs requests slower than `slow_threshold`, keeping the `slow_keep` slowest.
    pub fn new(slow_threshold: Duration, slow_keep: usize) -> Self {
        Self {
            routes: RwLock::default(),
            slow: Mutex::default(),
            slow_threshold,
            slow_keep,
            started: Instant::now(),
        }
    }

    fn route(&self, route: &str) -> Arc<RouteStats> {
        if let Some(r) = self
            .routes
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(route)
        {
            return r.clone();
        }
        let mut routes = self.routes.write().unwrap_or_else(|p| p.into_inner());
        let key = if routes.len() < MAX_ROUTES || routes.contains_key(route) {
            route
        } else {
            OVERFLOW_ROUTE
        };
        routes.entry(key.to_owned()).or_default().clone()
    }

    /// Route keys held now (at most [`MAX_ROUTES`] + 1).
    pub fn route_count(&self) -> usize {
        self.routes.read().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// A request to `route` started with a body of `bytes_in` bytes.
    pub fn begin(&self, route: &str, bytes_in: u64) {
        self.start(route, bytes_in);
    }

    /// Like [`Self::begin`], returning a handle so that finishing the request does not look
    /// the route up again.
    pub fn start(&self, route: &str, bytes_in: u64) -> RouteHandle {
        let r = self.route(route);
        r.in_flight.fetch_add(1, Relaxed);
        r.bytes_in.fetch_add(bytes_in, Relaxed);
        RouteHandle(r)
    }

    /// The request to `route` answered `status` after `latency`.
    pub fn finish(&self, route: &str, status: u16, latency: Duration) {
        let r = RouteHandle(self.route(route));
        self.end(&r, route, status, latency);
    }

    /// Records the end of a request started with [`Self::start`].
    pub fn end(&self, handle: &RouteHandle, route: &str, status: u16, latency: Duration) {
        let r = &handle.0;
        let class = usize::from((status / 100).clamp(1, 5) - 1);
        let bucket = self.started.elapsed().as_secs() / BUCKET.as_secs();
        let micros = (latency.as_micros() as u64).clamp(1, 3_600_000_000);
        r.in_flight.fetch_sub(1, Relaxed);
        r.status[class].fetch_add(1, Relaxed);
        let mut shard = r.shards[SHARD.with(|s| *s)]
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        shard.latency.get_or_insert_with(Sketch::new).record(micros);
        let w = &mut shard.window;
        if w.back().is_none_or(|b| b.index != bucket) {
            if w.len() == BUCKETS {
                w.pop_front();
            }
            w.push_back(Bucket {
                index: bucket,
                requests: 0,
                errors: 0,
                latency: Sketch::new(),
            });
        }
        let b = w.back_mut().expect("just pushed");
        b.requests += 1;
        b.errors += u64::from(status >= 500);
        b.latency.record(micros);
        drop(shard);
        if latency >= self.slow_threshold && self.slow_keep > 0 {
            tracing::warn!(
                route,
                status,
                ms = latency.as_secs_f64() * 1e3,
                "slow request"
            );
            let mut slow = self.slow.lock().unwrap_or_else(|p| p.into_inner());
            slow.push(SlowRequest {
                route: route.to_owned(),
                status,
                duration_ms: latency.as_secs_f64() * 1e3,
                at_unix: SystemTime::now()
                    .duration_since(SystemTime::UNIX_EPOCH)
                    .map_or(0.0, |d| d.as_secs_f64()),
            });
            slow.sort_by(|a, b| b.duration_ms.total_cmp(&a.duration_ms));
            slow.truncate(self.slow_keep);
        }
    }

    /// Response body bytes sent for `route`.
    pub fn add_bytes_out(&self, route: &str, bytes: u64) {
        self.route(route).bytes_out.fetch_add(bytes, Relaxed);
    }
}

/// A route's counters, looked up once per request.
#[derive(Clone)]
pub struct RouteHandle(Arc<RouteStats>);

impl RouteHandle {
    /// Response body bytes sent.
    pub fn add_bytes_out(&self, bytes: u64) {
        self.0.bytes_out.fetch_add(bytes, Relaxed);
    }
}

impl RequestMetrics {
    fn window(&self, stats: &[&RouteStats], seconds: u64) -> WindowStats {
        let now = self.started.elapsed().as_secs() / BUCKET.as_secs();
        let n = seconds / BUCKET.as_secs();
        let mut latency = Sketch::new();
        let (mut requests, mut errors) = (0, 0);
        for s in stats {
            for shard in &s.shards {
                let shard = shard.lock().unwrap_or_else(|p| p.into_inner());
                for b in shard.window.iter().filter(|b| b.index + n > now) {
                    requests += b.requests;
                    errors += b.errors;
                    latency.merge(&b.latency);
                }
            }
        }
        let span = (self.started.elapsed().as_secs_f64()).clamp(1.0, seconds as f64);
        WindowStats {
            seconds,
            requests,
            rps: requests as f64 / span,
            error_rate: if requests > 0 {
                errors as f64 / requests as f64
            } else {
                0.0
            },
            latency: latency.snapshot(),
        }
    }

    /// One route's (or, given several, their sum's) numbers.
    fn snapshot_of(&self, route: &str, stats: &[&RouteStats]) -> RouteSnapshot {
        let sum = |f: &dyn Fn(&RouteStats) -> u64| stats.iter().map(|s| f(s)).sum::<u64>();
        let status: [u64; 5] = std::array::from_fn(|i| sum(&|s| s.status[i].load(Relaxed)));
        let requests: u64 = status.iter().sum();
        let mut latency = Sketch::new();
        for s in stats {
            for shard in &s.shards {
                if let Some(l) = &shard.lock().unwrap_or_else(|p| p.into_inner()).latency {
                    latency.merge(l);
                }
            }
        }
        RouteSnapshot {
            route: route.to_owned(),
            status,
            requests,
            error_rate: if requests > 0 {
                status[4] as f64 / requests as f64
            } else {
                0.0
            },
            in_flight: stats.iter().map(|s| s.in_flight.load(Relaxed)).sum(),
            bytes_in: sum(&|s| s.bytes_in.load(Relaxed)),
            bytes_out: sum(&|s| s.bytes_out.load(Relaxed)),
            latency: latency.snapshot(),
            last_1m: self.window(stats, 60),
            last_5m: self.window(stats, 300),
        }
    }

    /// Requests of every route in the last `seconds` (rounded up to 5 s buckets).
    pub fn recent(&self, seconds: u64) -> WindowStats {
        let routes = self.routes.read().unwrap_or_else(|p| p.into_inner());
        let all: Vec<&RouteStats> = routes.values().map(|r| &**r).collect();
        self.window(&all, seconds)
    }

    /// Every route and the total.
    pub fn snapshot(&self) -> RequestsSnapshot {
        let routes = self.routes.read().unwrap_or_else(|p| p.into_inner());
        let mut all: Vec<RouteSnapshot> = routes
            .iter()
            .map(|(k, s)| self.snapshot_of(k, &[&**s]))
            .collect();
        all.sort_by(|a, b| {
            b.requests
                .cmp(&a.requests)
                .then_with(|| a.route.cmp(&b.route))
        });
        let every: Vec<&RouteStats> = routes.values().map(|r| &**r).collect();
        RequestsSnapshot {
            total: self.snapshot_of("all", &every),
            routes: all,
            slow: self.slow.lock().unwrap_or_else(|p| p.into_inner()).clone(),
            slow_threshold_ms: self.slow_threshold.as_secs_f64() * 1e3,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_requests_give_known_counts_and_percentiles() {
        let m = RequestMetrics::new(Duration::from_millis(50), 3);
        for ms in 1..=100u64 {
            m.begin("GET /a", 10);
            let status = if ms % 10 == 0 { 500 } else { 200 };
            m.finish("GET /a", status, Duration::from_millis(ms));
            m.add_bytes_out("GET /a", 100);
        }
        m.begin("POST /b", 5);
        m.finish("POST /b", 404, Duration::from_millis(2));
        let s = m.snapshot();
        let a = s
            .routes
            .iter()
            .find(|r| r.route == "GET /a")
            .expect("route");
        assert_eq!(a.requests, 100);
        assert_eq!(a.status, [0, 90, 0, 0, 10]);
        assert!((a.error_rate - 0.1).abs() < 1e-9);
        assert_eq!((a.bytes_in, a.bytes_out, a.in_flight), (1000, 10_000, 0));
        // Within the sketch's 1 % relative error.
        let close = |got: f64, want: f64| (got - want).abs() / want <= 0.011;
        assert!(close(a.latency.p50_us, 50_000.0), "{:?}", a.latency);
        assert!(close(a.latency.p95_us, 95_000.0), "{:?}", a.latency);
        assert!(close(a.latency.p99_us, 99_000.0), "{:?}", a.latency);
        assert_eq!(a.last_1m.requests, 100);
        assert_eq!(s.total.requests, 101);
        assert_eq!(s.total.status[3], 1);
        assert_eq!(s.routes[0].route, "GET /a", "busiest first");
        // The three slowest above 50 ms, slowest first.
        let slow: Vec<f64> = s.slow.iter().map(|r| r.duration_ms).collect();
        assert_eq!(slow, [100.0, 99.0, 98.0]);
    }

    #[test]
    fn keys_past_the_bound_share_one_overflow_key() {
        let m = RequestMetrics::default();
        for i in 0..MAX_ROUTES + 500 {
            let route = format!("GET /r{i}");
            m.begin(&route, 0);
            m.finish(&route, 200, Duration::from_millis(1));
        }
        assert_eq!(m.route_count(), MAX_ROUTES + 1);
        let s = m.snapshot();
        let overflow = s
            .routes
            .iter()
            .find(|r| r.route == OVERFLOW_ROUTE)
            .expect("overflow key");
        assert_eq!(overflow.requests, 500);
        assert_eq!(s.total.requests, (MAX_ROUTES + 500) as u64);
    }
}
