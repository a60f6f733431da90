//! The last hour of the system's vital signs, one [`HistoryPoint`] per interval (5 s by
//! default, `AION_HISTORY_SAMPLE_MS`), in a ring of 720 points, for the dashboard's charts; each
//! minute is also rolled up into the store for 7 days (`history_days`).
//! A background task samples; rates are differences between consecutive samples, so a point
//! says what happened in its interval, not since start.

use std::time::{Duration, Instant};

use server::{
    metrics::{History, process_stats},
    tasks::Status,
};

use crate::backend::AppState;
use crate::model::{ApiError, HistoryPoint, MetricsHistory};

/// Which history: the last hour from memory, or the last 7 days from the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HistoryRange {
    /// One point per sampling interval, from the ring.
    Hour,
    /// One point per minute, from the store.
    Week,
}

impl HistoryRange {
    /// The range a request names (`hour`, the default, or `week`).
    pub fn named(range: Option<&str>) -> Result<Self, ApiError> {
        match range.filter(|s| !s.is_empty()) {
            None | Some("hour") => Ok(Self::Hour),
            Some("week") => Ok(Self::Week),
            Some(_) => Err(ApiError::invalid("range", "range must be hour or week")),
        }
    }
}

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
    finished: u64,
    /// Data-cache lookups not yet judged by the hit-ratio rule.
    ratio: super::alerts::RatioWindow,
    /// The rollup period of the last point (its start / the period).
    period: Option<u64>,
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

    /// The points taken after `since_ms` (Unix milliseconds; 0 for all), oldest first: a
    /// dashboard asks for the whole hour once and then only for what is new.
    pub fn history(&self, since_ms: u64) -> MetricsHistory {
        let mut points = self.ring.points();
        points.retain(|p| p.at_unix_ms > since_ms);
        MetricsHistory {
            interval_secs: self.interval.as_secs_f64(),
            points,
        }
    }
}

impl AppState {
    /// The points of `range` taken after `since` (Unix ms), oldest first.
    pub async fn metrics_history(
        &self,
        range: HistoryRange,
        since: u64,
    ) -> Result<MetricsHistory, ApiError> {
        if range == HistoryRange::Hour {
            return Ok(self.metrics_ring().history(since));
        }
        let now = crate::backend::time::now_micros().max(0) as u64 / 1000;
        let from = since.max(now.saturating_sub(super::history_days::RETENTION_MS));
        let points = super::history_days::load(self.store(), from)
            .await
            .map_err(|e| {
                tracing::error!("reading the kept history failed: {e}");
                ApiError::internal()
            })?;
        Ok(MetricsHistory {
            interval_secs: self.config().history_rollup_ms as f64 / 1000.0,
            points,
        })
    }

    /// When the point at `at` (Unix ms) opens a new rollup period, keeps the rollup of the
    /// period before it in the store (`history_days`).
    async fn roll_up(&self, at: u64, period: &mut Option<u64>) {
        let every = self.config().history_rollup_ms.max(1_000);
        let Some(done) = period.replace(at / every).filter(|d| *d != at / every) else {
            return;
        };
        let start = done * every;
        let mut points = self.metrics_ring().ring.points();
        points.retain(|q| (start..start + every).contains(&q.at_unix_ms));
        if let Some(minute) = super::history_days::rollup(start, &points)
            && let Err(e) = super::history_days::save(self.store(), &minute).await
        {
            tracing::warn!("keeping the history's minute failed: {e}");
        }
    }

    /// Takes one sample into the ring (the background task calls it every interval).
    pub(crate) async fn sample_history(&self, prev: &mut Previous) {
        let queries = self.store().drain_recent_timings();
        let wal_bytes = self.store().file_sizes().1;
        // Looks at the log, so that automatic checkpoints are dated to this interval.
        let _ = self.store().last_checkpoint_unix_ms();
        let tasks = self.tasks().stats().await.ok();
        let pending = tasks.as_ref().map_or(0, |t| t.count(Status::Pending));
        let finished = tasks
            .as_ref()
            .map_or(prev.finished, |t| t.completed_total + t.failed_total);
        let now = Instant::now();
        let http = self.request_metrics().snapshot();
        let process = process_stats();
        let cache = self.cache().stats();
        let (hits, lookups) = cache.tiers.first().map_or((0, 0), |l1| {
            let l2_hits = cache.tiers.get(1).map_or(0, |t| t.hits);
            (l1.hits + l2_hits, l1.hits + l1.misses)
        });
        let ratio = prev.ratio.add(
            hits.saturating_sub(prev.hits),
            lookups.saturating_sub(prev.lookups),
        );
        let point = prev.at.map(|at| {
            let secs = now.duration_since(at).as_secs_f64().max(1e-3);
            let looked = lookups.saturating_sub(prev.lookups);
            HistoryPoint {
                at_unix_ms: crate::backend::time::now_micros().max(0) as u64 / 1000,
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
                db_p95_ms: queries.p95_us / 1000.0,
                wal_bytes,
                tasks_pending: pending,
                tasks_per_min: finished.saturating_sub(prev.finished) as f64 * 60.0 / secs,
            }
        });
        prev.at = Some(now);
        prev.requests = http.total.requests;
        prev.cpu_seconds = process.cpu_seconds;
        prev.hits = hits;
        prev.lookups = lookups;
        prev.finished = finished;
        let Some(p) = point else { return };
        self.metrics_ring().ring.push(p);
        self.roll_up(p.at_unix_ms, &mut prev.period).await;
        let minute = &http.total.last_1m;
        let traffic = minute.requests > 0;
        let [lcp, inp, cls, fcp] = self.worst_vitals();
        let brotli = self.client_bundle().total().1;
        let readings = [
            traffic.then_some(p.p95_ms),
            traffic.then_some(1.0 - p.error_rate),
            (queries.count > 0).then_some(p.db_p95_ms),
            ratio,
            lcp,
            inp,
            cls,
            fcp,
            Some(p.rss_bytes as f64 / 1_048_576.0),
            (brotli > 0).then_some(brotli as f64 / 1024.0),
        ];
        self.evaluate_alerts(&readings, p.at_unix_ms).await;
    }
}
