//! The HTTP layers as this app configures them: which API responses are cached and with
//! which tags, the rate limits, and the `/metrics` document (HTTP, store, cache).

use std::{sync::Arc, time::Duration};

use axum::http::{HeaderName, Method, Uri};
use server::{
    cache::{Capacity, TieredCache},
    http::{
        HttpStack,
        rate_limit::{Limit, RateLimits},
        response_cache::{CacheDecision, CachedResponse, OnSuccess, ResponseCache},
    },
    metrics::{Exposition, RequestMetrics},
};

use super::{
    AppConfig, AppState,
    cache::{LIST_TAG, Policy, story_tag},
    reads::ReadCounter,
};
use crate::model::fields::Id;

/// Largest request body anywhere (node batches have their own 32 MiB limit inside).
pub const BODY_LIMIT: usize = 64 * 1024 * 1024;

/// Which GET responses the response cache keeps: story pages of the list, single stories and
/// trees, each under one canonical key.
///
/// A story id may arrive in any letter case and percent-encoded (the router decodes both);
/// it is parsed into its one canonical form before it names a cache entry, a tag or a read,
/// so every spelling of a story shares one entry that a write invalidates. A single-story read
/// (API or reader page) is counted once the client got it, after the rate limit: refused
/// requests and ids that name nothing never count.
pub fn decide(method: &Method, uri: &Uri, reads: &Arc<ReadCounter>) -> CacheDecision<Policy> {
    let path = uri.path();
    if path.starts_with("/api/admin")
        || path.starts_with("/api/metrics")
        || path == "/api/health"
        || path == "/api/vitals"
    {
        return CacheDecision::NoStore;
    }
    if method != Method::GET {
        return CacheDecision::Pass;
    }
    // A reader page rendered on the server is a read too (the client does not fetch again).
    if let Some(rest) = path.strip_prefix("/stories/") {
        let mut parts = rest.split('/');
        let id = parts.next().and_then(canonical_id);
        return match id {
            Some(id) if !rest.ends_with("/edit") => CacheDecision::Notify(count_read(reads, id)),
            _ => CacheDecision::Pass,
        };
    }
    if path == "/api/stories" {
        return CacheDecision::Store {
            key: ResponseCache::<Policy>::key(method, uri),
            policy: Policy::ApiResponse,
            tags: vec![LIST_TAG.to_owned()],
            on_success: None,
        };
    }
    if let Some(rest) = path.strip_prefix("/api/stories/") {
        let (raw, tree) = match rest.strip_suffix("/tree") {
            Some(id) => (id, true),
            None => (rest, false),
        };
        // Only well-formed ids: anything else is a 400 or 404 that is not worth keeping. The
        // query is left out of the key: these endpoints take none.
        if let Some(id) = canonical_id(raw) {
            let suffix = if tree { "/tree" } else { "" };
            return CacheDecision::Store {
                key: format!("GET /api/stories/{}{suffix}", id.as_str()),
                policy: Policy::ApiResponse,
                tags: vec![story_tag(id.as_str())],
                on_success: (!tree).then(|| count_read(reads, id)),
            };
        }
    }
    CacheDecision::Pass
}

/// The id in a path segment as the router will see it (percent-decoded), in canonical form.
pub fn canonical_id(segment: &str) -> Option<Id> {
    let decoded = percent_encoding::percent_decode_str(segment)
        .decode_utf8()
        .ok()?;
    Id::parse("id", &decoded).ok()
}

fn count_read(reads: &Arc<ReadCounter>, id: Id) -> OnSuccess {
    let reads = reads.clone();
    Box::new(move || reads.record(id))
}

/// The response cache: up to 64 MiB of bodies in L2, 8 MiB hot in L1.
pub fn response_cache(reads: Arc<ReadCounter>) -> ResponseCache<Policy> {
    let cache = TieredCache::builder()
        .l1_capacity(Capacity::Bytes(8 << 20))
        .l2_capacity(Capacity::Bytes(64 << 20))
        .weigher(|key: &String, value: &CachedResponse| key.len() as u32 + value.weight())
        .build();
    ResponseCache::new(cache, 4 << 20, move |m, u| decide(m, u, &reads))
}

/// Read and write limits from the configuration (0 per minute turns a limit off).
pub fn rate_limits(config: &AppConfig) -> RateLimits {
    RateLimits::new(
        Limit {
            per_minute: config.read_rate_per_minute,
            burst: config.read_rate_burst,
        },
        Limit {
            per_minute: config.write_rate_per_minute,
            burst: config.write_rate_burst,
        },
        config
            .trusted_proxy_header
            .as_deref()
            .and_then(|h| HeaderName::from_bytes(h.as_bytes()).ok()),
        ["/assets/", "/wasm/", "/favicon", "/metrics"]
            .into_iter()
            .map(String::from)
            .collect(),
    )
}

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

/// The Prometheus text document.
pub async fn prometheus(state: &AppState) -> String {
    let mut e = Exposition::default();
    let process = server::metrics::process_stats();
    e.gauge(
        "aion_process_resident_bytes",
        "Resident memory of the server process.",
        &[],
        process.rss_bytes as f64,
    );
    e.counter(
        "aion_process_cpu_seconds_total",
        "User and system CPU time of the server process.",
        &[],
        process.cpu_seconds,
    );
    e.gauge(
        "aion_process_threads",
        "Threads of the server process.",
        &[],
        process.threads as f64,
    );
    e.gauge(
        "aion_process_open_fds",
        "Open file descriptors of the server process (sockets included).",
        &[],
        process.open_fds as f64,
    );
    e.gauge(
        "aion_http_open_connections",
        "HTTP connections open now.",
        &[],
        server::http::open_connections() as f64,
    );
    let bundle = state.client_bundle();
    for (kind, (raw, br)) in [
        ("js", bundle.js),
        ("wasm", bundle.wasm),
        ("css", bundle.css),
    ] {
        for (encoding, bytes) in [("identity", raw), ("br", br)] {
            e.gauge(
                "aion_client_bundle_bytes",
                "The client bundle as served, measured from its files.",
                &[("kind", kind), ("encoding", encoding)],
                bytes as f64,
            );
        }
    }
    if let Some(replica) = state.replica() {
        replica.expose(&mut e);
    }
    let http = state.request_metrics().snapshot();
    for r in &http.routes {
        for (i, class) in ["1xx", "2xx", "3xx", "4xx", "5xx"].iter().enumerate() {
            if r.status[i] > 0 {
                e.counter(
                    "aion_http_requests_total",
                    "HTTP responses by route template and status class.",
                    &[("route", &r.route), ("status", class)],
                    r.status[i] as f64,
                );
            }
        }
        e.gauge(
            "aion_http_in_flight",
            "Requests being handled.",
            &[("route", &r.route)],
            r.in_flight as f64,
        );
        e.summary(
            "aion_http_request_duration_seconds",
            "Time to the response head.",
            &[("route", &r.route)],
            &r.latency,
        );
        e.counter(
            "aion_http_request_bytes_total",
            "Request body bytes.",
            &[("route", &r.route)],
            r.bytes_in as f64,
        );
        e.counter(
            "aion_http_response_bytes_total",
            "Response body bytes (after compression).",
            &[("route", &r.route)],
            r.bytes_out as f64,
        );
    }
    e.counter(
        "aion_story_reads_total",
        "Story reads counted (successful single-story reads and reader pages).",
        &[],
        state.reads().counted_total() as f64,
    );
    e.gauge(
        "aion_story_reads_pending",
        "Stories with reads not yet written to the database.",
        &[],
        state.reads().pending() as f64,
    );
    let store = state.store();
    for q in store.query_timings() {
        e.summary(
            "aion_db_query_duration_seconds",
            "Database query latency by query kind.",
            &[("query", q.kind)],
            &q.latency,
        );
        e.counter(
            "aion_db_query_errors_total",
            "Failed queries by kind.",
            &[("query", q.kind)],
            q.errors as f64,
        );
        e.counter(
            "aion_db_query_rows_total",
            "Rows returned or changed by kind.",
            &[("query", q.kind)],
            q.rows as f64,
        );
    }
    let (busy, readers) = store.readers_in_use();
    e.gauge(
        "aion_db_readers_in_use",
        "Reader connections in use.",
        &[],
        busy as f64,
    );
    e.gauge(
        "aion_db_readers",
        "Reader connections in the pool.",
        &[],
        readers as f64,
    );
    for (cache_name, stats) in [
        ("data", state.cache().stats()),
        ("response", state.response_cache().cache().stats()),
    ] {
        for t in &stats.tiers {
            let l = [("cache", cache_name), ("tier", t.tier)];
            e.counter(
                "aion_cache_hits_total",
                "Cache hits by tier.",
                &l,
                t.hits as f64,
            );
            e.counter(
                "aion_cache_misses_total",
                "Cache misses by tier.",
                &l,
                t.misses as f64,
            );
            e.counter(
                "aion_cache_evictions_total",
                "Entries evicted for capacity.",
                &l,
                t.evictions as f64,
            );
            e.counter(
                "aion_cache_expirations_total",
                "Entries expired.",
                &l,
                t.expirations as f64,
            );
            e.counter(
                "aion_cache_invalidations_total",
                "Entries invalidated.",
                &l,
                t.invalidations as f64,
            );
            e.gauge("aion_cache_entries", "Entries held.", &l, t.entries as f64);
            e.gauge(
                "aion_cache_weighted_size",
                "Weighted size held.",
                &l,
                t.weighted_size as f64,
            );
        }
        for p in &stats.policies {
            let l = [("cache", cache_name), ("policy", p.policy)];
            e.counter(
                "aion_cache_policy_loads_total",
                "Loader runs by policy.",
                &l,
                p.loads as f64,
            );
        }
    }
    match state.tasks().stats().await {
        Ok(t) => {
            for (status, n) in &t.by_status {
                e.gauge(
                    "aion_tasks",
                    "Tasks in the queue table by status.",
                    &[("status", status.as_str())],
                    *n as f64,
                );
            }
            let totals = [
                ("completed", t.completed_total),
                ("failed", t.failed_total),
                ("cancelled", t.cancelled_total),
            ];
            for (outcome, n) in totals {
                e.counter(
                    "aion_tasks_finished_total",
                    "Tasks finished by this process, by outcome.",
                    &[("outcome", outcome)],
                    n as f64,
                );
            }
            e.counter(
                "aion_task_retries_total",
                "Failed attempts scheduled again.",
                &[],
                t.retries_total as f64,
            );
            e.gauge(
                "aion_task_queue_depth",
                "Pending tasks.",
                &[],
                t.depth as f64,
            );
            e.gauge(
                "aion_task_throughput_per_second",
                "Tasks finished per second over the last minute.",
                &[],
                t.throughput_per_sec,
            );
            e.summary(
                "aion_task_run_duration_seconds",
                "Handler run time.",
                &[],
                &t.run_time,
            );
            e.summary(
                "aion_task_pickup_delay_seconds",
                "From due to claimed.",
                &[],
                &t.pickup,
            );
        }
        Err(err) => tracing::warn!("task stats for /metrics failed: {err}"),
    }
    e.finish()
}
