//! The `/metrics` document in Prometheus text format: process, HTTP, store, caches, tasks
//! and replication, each read from the measurement that owns it.

use server::metrics::Exposition;

use crate::backend::AppState;

/// The Prometheus text document.
pub async fn prometheus(state: &AppState) -> String {
    let mut e = Exposition::default();
    process(&mut e, state);
    http(&mut e, state);
    store(&mut e, state);
    caches(&mut e, state);
    tasks(&mut e, state).await;
    e.finish()
}

/// The process, the client bundle it serves, replication and Redis.
fn process(e: &mut Exposition, state: &AppState) {
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
    e.gauge(
        "aion_http_max_connections",
        "The cap on open HTTP connections; past it new ones get a 503.",
        &[],
        server::http::max_connections() as f64,
    );
    e.counter(
        "aion_http_refused_connections_total",
        "Connections answered 503 and closed for being past the cap.",
        &[],
        server::http::refused_connections() as f64,
    );
    state.live_streams().expose(e);
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
        replica.expose(e);
    }
    if let Some(bus) = state.shared() {
        bus.expose(e);
        e.counter(
            "aion_rate_limit_shared_fallbacks_total",
            "Rate-limit checks Redis could not answer in time, decided by this instance alone.",
            &[],
            state.rate_limits().fallbacks() as f64,
        );
    }
}

/// Requests by route, and the story reads they counted.
fn http(e: &mut Exposition, state: &AppState) {
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
}

/// Queries by kind and the reader pool.
fn store(e: &mut Exposition, state: &AppState) {
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
    let mode = if store.is_replica() {
        "embedded_replica"
    } else {
        "file"
    };
    e.gauge(
        "aion_db_mode",
        "How the store runs: a database file, or an embedded replica of a libsql server.",
        &[("mode", mode)],
        1.0,
    );
    if let Some(r) = store.replica_positions() {
        for (name, help, value) in [
            (
                "aion_db_replica_written_position",
                "Replication position of this instance's last write.",
                r.written,
            ),
            (
                "aion_db_replica_wanted_position",
                "Highest replication position other instances announced with their invalidations.",
                r.wanted,
            ),
            (
                "aion_db_replica_synced_position",
                "Highest replication position this replica reached by catching up.",
                r.synced,
            ),
        ] {
            e.gauge(name, help, &[], value as f64);
        }
        e.counter(
            "aion_db_replica_catch_ups_total",
            "Reads that first synced the replica up to another instance's write.",
            &[],
            r.caught_up as f64,
        );
        e.counter(
            "aion_db_replica_catch_up_failures_total",
            "Catch-ups that failed (the primary did not answer; the read went on from the replica).",
            &[],
            r.failed as f64,
        );
        e.gauge(
            "aion_db_primary_reachable",
            "1 if the primary answered the replica's last sync or catch-up, else 0 (reads go on from the replica, writes answer 503).",
            &[],
            if r.primary_reachable { 1.0 } else { 0.0 },
        );
        if let Some(age) = r.last_sync_age {
            e.gauge(
                "aion_db_replica_sync_age_seconds",
                "Seconds since the replica last synced with the primary: how far behind it can be, beyond the writes announced to it.",
                &[],
                age.as_secs_f64(),
            );
        }
        e.counter(
            "aion_db_replica_sync_failures_total",
            "Periodic syncs with the primary that failed.",
            &[],
            r.sync_failures as f64,
        );
    }
}

/// The data and response caches, tier by tier.
fn caches(e: &mut Exposition, state: &AppState) {
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
        if let Some(shared) = &stats.shared {
            shared_tier(e, cache_name, shared);
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
}

/// The task queue.
async fn tasks(e: &mut Exposition, state: &AppState) {
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
                "aion_task_blocking_running",
                "Tasks' CPU-bound jobs (PDF, image decode and encode) running now on blocking threads.",
                &[],
                server::tasks::blocking_running() as f64,
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
}

/// The shared (Redis) tier as this instance sees it: hits and misses with the other tiers,
/// the rest under its own names.
fn shared_tier(e: &mut Exposition, cache: &str, s: &server::cache::SharedStats) {
    let l = [("cache", cache), ("tier", "shared")];
    e.counter(
        "aion_cache_hits_total",
        "Cache hits by tier.",
        &l,
        s.hits as f64,
    );
    e.counter(
        "aion_cache_misses_total",
        "Cache misses by tier.",
        &l,
        s.misses as f64,
    );
    let l = [("cache", cache)];
    for (name, help, v) in [
        (
            "aion_cache_shared_stores_total",
            "Values this instance put in the shared tier.",
            s.stores,
        ),
        (
            "aion_cache_shared_stale_stores_total",
            "Loaded values kept out of the shared tier: a tag changed while they loaded.",
            s.stale_stores,
        ),
        (
            "aion_cache_shared_errors_total",
            "Shared tier calls that failed or timed out (the store answered instead).",
            s.errors,
        ),
        (
            "aion_cache_shared_lock_waits_total",
            "Misses that waited for another instance loading the same key.",
            s.lock_waits,
        ),
        (
            "aion_cache_shared_lock_timeouts_total",
            "Waits for another instance's load that gave up and loaded here.",
            s.lock_timeouts,
        ),
    ] {
        e.counter(name, help, &l, v as f64);
    }
}
