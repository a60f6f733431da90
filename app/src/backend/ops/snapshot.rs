//! Assembles `GET /api/metrics/snapshot` ([`MetricsSnapshot`]) from what the server already
//! measures: request metrics, store timings and statistics, both caches, the task queue, Web
//! Vitals and the process. Taking one copies those figures and reads two file sizes: no
//! query of its own beyond the task counts, so a dashboard may poll it every second.

use server::{
    cache::CacheStats,
    metrics::{HistogramSnapshot, process_stats},
};

use crate::backend::AppState;
use crate::model::{
    ApiError, ApiSection, CacheSection, DatabaseSection, Latency, LoopView, MetricsSnapshot,
    PolicyView, QueryKindView, ResourcesSection, RouteLatency, SlowQueryView, SlowRequestView,
    TaskStats, TierView,
};

fn latency(h: &HistogramSnapshot) -> Latency {
    Latency {
        count: h.count,
        p50_ms: h.p50_us / 1000.0,
        p95_ms: h.p95_us / 1000.0,
        p99_ms: h.p99_us / 1000.0,
    }
}

fn cache(name: &str, s: CacheStats) -> CacheSection {
    CacheSection {
        name: name.to_owned(),
        tiers: s
            .tiers
            .into_iter()
            .map(|t| TierView {
                tier: t.tier.to_owned(),
                hit_ratio: t.hit_ratio,
                hits: t.hits,
                misses: t.misses,
                entries: t.entries,
                weighted_size: t.weighted_size,
                capacity: t.capacity,
                evictions: t.evictions,
            })
            .collect(),
        policies: s
            .policies
            .into_iter()
            .map(|p| PolicyView {
                policy: p.policy.to_owned(),
                hit_ratio: p.hit_ratio,
                hits: p.hits,
                misses: p.misses,
                loads: p.loads,
            })
            .collect(),
    }
}

impl AppState {
    /// One reading of everything; `tasks` is the queue's view (made by the caller, which
    /// owns its conversion).
    pub async fn metrics_snapshot(&self, tasks: TaskStats) -> Result<MetricsSnapshot, ApiError> {
        let process = process_stats();
        let (bundle_bytes, bundle_brotli_bytes) = self.client_bundle().total();
        let (client_memory_samples, client_memory_p75_bytes, client_memory_max_bytes) =
            self.vitals().client_memory();
        Ok(MetricsSnapshot {
            at_unix_ms: crate::backend::time::now_micros().max(0) as u64 / 1000,
            uptime_secs: self.health().uptime_secs,
            api: api_section(&self.request_metrics().snapshot()),
            database: database_section(self.store()),
            caches: vec![
                cache("data", self.cache().stats()),
                cache("responses", self.response_cache().cache().stats()),
            ],
            tasks,
            rum: self.vitals().summary(),
            alerts: self.alerts().views(),
            loops: self
                .scheduler()
                .status()
                .into_iter()
                .map(|l| LoopView {
                    name: l.name,
                    every_ms: l.every_ms,
                    runs: l.runs,
                    failures: l.failures,
                    last_run_unix_ms: l.last_run_unix_ms,
                    last_took_ms: l.last_took_ms,
                    last_error: l.last_error,
                })
                .collect(),
            resources: ResourcesSection {
                rss_bytes: process.rss_bytes,
                cpu_seconds: process.cpu_seconds,
                threads: process.threads,
                open_fds: process.open_fds,
                open_connections: server::http::open_connections(),
                bundle_bytes,
                bundle_brotli_bytes,
                client_memory_samples,
                client_memory_p75_bytes,
                client_memory_max_bytes,
            },
        })
    }
}

/// HTTP: totals, the last minute, the five slowest routes and the latest slow requests.
fn api_section(http: &server::metrics::RequestsSnapshot) -> ApiSection {
    let last_minute = &http.total.last_1m;
    let mut routes: Vec<RouteLatency> = http
        .routes
        .iter()
        .filter(|r| r.requests > 0)
        .map(|r| RouteLatency {
            route: r.route.clone(),
            requests: r.requests,
            latency: latency(&r.latency),
        })
        .collect();
    routes.sort_by(|a, b| b.latency.p95_ms.total_cmp(&a.latency.p95_ms));
    routes.truncate(5);
    let total = &http.total;
    ApiSection {
        requests_total: total.requests,
        rps_1m: last_minute.rps,
        latency_1m: latency(&last_minute.latency),
        latency: latency(&total.latency),
        success_rate: if total.requests == 0 {
            1.0
        } else {
            1.0 - total.status[4] as f64 / total.requests as f64
        },
        status_classes: total.status,
        slowest_routes: routes,
        slow_requests: http
            .slow
            .iter()
            .rev()
            .take(20)
            .map(|s| SlowRequestView {
                route: s.route.clone(),
                status: s.status,
                duration_ms: s.duration_ms,
                at_unix: s.at_unix,
            })
            .collect(),
    }
}

/// The store: query kinds, the latest slow queries, readers, file sizes, checkpoints.
fn database_section(store: &server::store::Store) -> DatabaseSection {
    let (file_bytes, wal_bytes) = store.file_sizes();
    let (readers_in_use, readers) = store.readers_in_use();
    DatabaseSection {
        queries: store
            .query_timings()
            .into_iter()
            .map(|q| QueryKindView {
                kind: q.kind.to_owned(),
                latency: latency(&q.latency),
                errors: q.errors,
            })
            .collect(),
        slow_queries: store
            .slow_queries()
            .into_iter()
            .rev()
            .take(20)
            .map(|q| SlowQueryView {
                kind: q.kind.to_owned(),
                duration_ms: q.duration_ms,
                rows: q.rows,
                at_unix: q.at_unix,
            })
            .collect(),
        readers: readers as u64,
        readers_in_use: readers_in_use as u64,
        file_bytes,
        wal_bytes,
        last_checkpoint_unix_ms: store.last_checkpoint_unix_ms(),
        mode: if store.is_replica() {
            "embedded replica"
        } else {
            "file"
        }
        .to_owned(),
        replica: store
            .replica_positions()
            .map(|r| crate::model::ReplicaView {
                written: r.written,
                announced: r.wanted,
                caught_up: r.synced,
                failed_catch_ups: r.failed,
                primary_reachable: r.primary_reachable,
                last_sync_age_ms: r.last_sync_age.map(|a| a.as_millis() as u64),
            }),
    }
}
