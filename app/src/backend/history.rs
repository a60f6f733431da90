//! The last hour of the system's vital signs, one [`HistoryPoint`] per interval (5 s by
//! default, `AION_HISTORY_SAMPLE_MS`), in a ring of 720 points, for the dashboard's charts.
//! A background task samples; rates are differences between consecutive samples, so a point
//! says what happened in its interval, not since start.

use std::time::{Duration, Instant};

use server::metrics::{History, process_stats};

use super::AppState;
use crate::model::{HistoryPoint, MetricsHistory};

/// Points kept: an hour at 5 s.
pub const POINTS: usize = 720;

/// Counters at the previous sample.
#[derive(Default)]
pub(crate) struct Previous {
    at: Option<Instant>,
    requests: u64,
    cpu_seconds: f64,
    hits: u64,
    lookups: u64,
}

/// The ring.
pub struct MetricsRing {
    pub(crate) ring: History<HistoryPoint>,
    pub(crate) interval: Duration,
}

impl MetricsRing {
    /// An empty ring sampled every `interval`.
    pub fn new(interval: Duration) -> Self {
        Self {
            ring: History::new(POINTS),
            interval,
        }
    }

    /// The points, oldest first.
    pub fn history(&self) -> MetricsHistory {
        MetricsHistory {
            interval_secs: self.interval.as_secs_f64(),
            points: self.ring.points(),
        }
    }
}

impl AppState {
    /// Takes one sample into the ring (the background task calls it every interval).
    pub(crate) fn sample_history(&self, prev: &mut Previous) {
        let now = Instant::now();
        let http = self.request_metrics().snapshot();
        let process = process_stats();
        let cache = self.cache().stats();
        let (hits, lookups) = cache.tiers.first().map_or((0, 0), |l1| {
            let l2_hits = cache.tiers.get(1).map_or(0, |t| t.hits);
            (l1.hits + l2_hits, l1.hits + l1.misses)
        });
        let point = prev.at.map(|at| {
            let secs = now.duration_since(at).as_secs_f64().max(1e-3);
            let looked = lookups.saturating_sub(prev.lookups);
            HistoryPoint {
                at_unix_ms: super::time::now_micros().max(0) as u64 / 1000,
                rps: http.total.requests.saturating_sub(prev.requests) as f64 / secs,
                p95_ms: http.total.last_1m.latency.p95_us / 1000.0,
                error_rate: http.total.last_1m.error_rate,
                cpu_percent: (process.cpu_seconds - prev.cpu_seconds).max(0.0) / secs * 100.0,
                rss_bytes: process.rss_bytes,
                open_connections: server::http::open_connections(),
                cache_hit_ratio: if looked == 0 {
                    0.0
                } else {
                    hits.saturating_sub(prev.hits) as f64 / looked as f64
                },
            }
        });
        *prev = Previous {
            at: Some(now),
            requests: http.total.requests,
            cpu_seconds: process.cpu_seconds,
            hits,
            lookups,
        };
        if let Some(p) = point {
            self.metrics_ring().ring.push(p);
        }
    }
}
