//! `GET /api/metrics/snapshot`: one typed reading of the running system for the performance
//! pages, in six sections (API, database, caches, tasks, real-user vitals, resources). Every
//! figure is measured by the server at the moment of the request; nothing is estimated.

use serde::{Deserialize, Serialize};

use super::{TaskStats, VitalsSummary};

/// The whole reading.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct MetricsSnapshot {
    /// When it was taken (Unix milliseconds).
    pub at_unix_ms: u64,
    /// Seconds since the server started.
    pub uptime_secs: u64,
    /// HTTP.
    pub api: ApiSection,
    /// The store.
    pub database: DatabaseSection,
    /// The data cache and the response cache.
    pub caches: Vec<CacheSection>,
    /// The task queue.
    pub tasks: TaskStats,
    /// Web Vitals from browsers.
    pub rum: VitalsSummary,
    /// What the process costs.
    pub resources: ResourcesSection,
    /// Every alert rule and where it stands.
    pub alerts: Vec<AlertView>,
    /// The server's background loops and how their last runs went.
    #[serde(default)]
    pub loops: Vec<LoopView>,
}

/// One background loop of the server (see `backend::loops`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct LoopView {
    /// Its name (`reads.flush`, `files.sweep`, ...).
    pub name: String,
    /// Milliseconds between runs (0: runs once).
    pub every_ms: u64,
    /// Runs since start.
    pub runs: u64,
    /// Runs that failed.
    pub failures: u64,
    /// When the last run ended (Unix milliseconds; 0: not yet).
    pub last_run_unix_ms: u64,
    /// How long it took.
    pub last_took_ms: f64,
    /// The last run's error, if it failed.
    pub last_error: Option<String>,
}

/// Latency percentiles in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Latency {
    /// Samples.
    pub count: u64,
    /// Median.
    pub p50_ms: f64,
    /// 95th percentile.
    pub p95_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
}

/// HTTP requests.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ApiSection {
    /// Requests since start.
    pub requests_total: u64,
    /// Requests per second over the last minute.
    pub rps_1m: f64,
    /// Latency over the last minute.
    pub latency_1m: Latency,
    /// Latency since start.
    pub latency: Latency,
    /// Share of responses that were not errors (not 5xx), since start.
    pub success_rate: f64,
    /// Responses by status class: 1xx, 2xx, 3xx, 4xx, 5xx.
    pub status_classes: [u64; 5],
    /// The five routes with the highest p95.
    pub slowest_routes: Vec<RouteLatency>,
    /// The latest requests slower than the threshold.
    pub slow_requests: Vec<SlowRequestView>,
}

/// One route's latency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct RouteLatency {
    /// Method and route template.
    pub route: String,
    /// Requests.
    pub requests: u64,
    /// Latency.
    pub latency: Latency,
}

/// A slow request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct SlowRequestView {
    /// Method and route template.
    pub route: String,
    /// Status.
    pub status: u16,
    /// How long it took.
    pub duration_ms: f64,
    /// When (Unix seconds).
    pub at_unix: f64,
}

/// The store.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct DatabaseSection {
    /// Latency per kind of query.
    pub queries: Vec<QueryKindView>,
    /// The latest slow queries.
    pub slow_queries: Vec<SlowQueryView>,
    /// Reader connections in the pool.
    pub readers: u64,
    /// Of which in use now.
    pub readers_in_use: u64,
    /// The database file.
    pub file_bytes: u64,
    /// The write-ahead log.
    pub wal_bytes: u64,
    /// When the log was last checkpointed into the file (Unix ms; automatic checkpoints
    /// dated to within a sampling interval); `None` if none since start.
    #[serde(default)]
    pub last_checkpoint_unix_ms: Option<u64>,
    /// How the store runs: `file`, or `embedded replica` (of a libsql server).
    #[serde(default)]
    pub mode: String,
    /// On an embedded replica, where it stands.
    #[serde(default)]
    pub replica: Option<ReplicaView>,
}

/// Where an embedded replica stands, in replication positions (libsql's frame numbers).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ReplicaView {
    /// This instance's last write.
    pub written: u64,
    /// The highest another instance announced.
    pub announced: u64,
    /// The highest this replica caught up to before a read.
    pub caught_up: u64,
    /// Catch-ups that failed (the primary did not answer; reads went on from the replica).
    pub failed_catch_ups: u64,
    /// Whether the primary answered the last sync or catch-up.
    #[serde(default)]
    pub primary_reachable: bool,
    /// Milliseconds since the replica last synced with the primary (`None`: never).
    #[serde(default)]
    pub last_sync_age_ms: Option<u64>,
}

/// One kind of query.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct QueryKindView {
    /// Its label, e.g. `story.get`.
    pub kind: String,
    /// Latency.
    pub latency: Latency,
    /// Errors.
    pub errors: u64,
}

/// A slow query (its kind, never its values).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct SlowQueryView {
    /// Its label.
    pub kind: String,
    /// How long it took.
    pub duration_ms: f64,
    /// Rows it returned.
    pub rows: u64,
    /// When (Unix seconds).
    pub at_unix: f64,
}

/// One cache.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct CacheSection {
    /// `data` or `responses`.
    pub name: String,
    /// Per tier (L1, L2).
    pub tiers: Vec<TierView>,
    /// Per policy.
    pub policies: Vec<PolicyView>,
}

/// One tier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct TierView {
    /// `l1` or `l2`.
    pub tier: String,
    /// hits / (hits + misses).
    pub hit_ratio: f64,
    /// Hits.
    pub hits: u64,
    /// Misses.
    pub misses: u64,
    /// Entries held.
    pub entries: u64,
    /// Size held (bytes for weighed caches).
    pub weighted_size: u64,
    /// Capacity in the same unit.
    pub capacity: u64,
    /// Evicted for room.
    pub evictions: u64,
}

/// One policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct PolicyView {
    /// Its name.
    pub policy: String,
    /// hits / (hits + misses).
    pub hit_ratio: f64,
    /// Hits.
    pub hits: u64,
    /// Misses.
    pub misses: u64,
    /// Loads run.
    pub loads: u64,
}

/// The process.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ResourcesSection {
    /// Resident memory.
    pub rss_bytes: u64,
    /// CPU time since start.
    pub cpu_seconds: f64,
    /// Threads.
    pub threads: u64,
    /// Open file descriptors.
    pub open_fds: u64,
    /// HTTP connections open now.
    pub open_connections: u64,
    /// The client bundle as served: raw bytes.
    pub bundle_bytes: u64,
    /// And brotli bytes (what a browser downloads).
    pub bundle_brotli_bytes: u64,
    /// Page views that reported their WASM memory when left (the memory hook, with the
    /// vitals beacon), since start.
    #[serde(default)]
    pub client_memory_samples: u64,
    /// The 75th percentile of those readings, bytes.
    #[serde(default)]
    pub client_memory_p75_bytes: u64,
    /// The largest, bytes.
    #[serde(default)]
    pub client_memory_max_bytes: u64,
}

/// `GET /api/metrics/history`: the last hour (or what came after `since_ms`), one point per
/// sampling interval, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct MetricsHistory {
    /// Seconds between points (5 unless configured).
    pub interval_secs: f64,
    /// The points.
    pub points: Vec<HistoryPoint>,
}

/// The system at one moment; rates are over the interval before it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct HistoryPoint {
    /// When (Unix milliseconds).
    pub at_unix_ms: u64,
    /// HTTP requests per second.
    pub rps: f64,
    /// p95 latency over the last minute (rolling), milliseconds.
    pub p95_ms: f64,
    /// Share of 5xx responses over the last minute.
    pub error_rate: f64,
    /// CPU use of the server process, percent of one core.
    pub cpu_percent: f64,
    /// Resident memory.
    pub rss_bytes: u64,
    /// HTTP connections open.
    pub open_connections: u64,
    /// Data cache hit ratio over the interval (L1 and L2 hits over all lookups).
    pub cache_hit_ratio: f64,
    /// p95 of every store query in the interval, milliseconds (0 when none ran).
    pub db_p95_ms: f64,
    /// The write-ahead log's size.
    pub wal_bytes: u64,
    /// Tasks waiting to run.
    pub tasks_pending: u64,
    /// Tasks finished (completed or failed) per minute over the interval.
    pub tasks_per_min: f64,
}

/// One alert as the dashboard shows it (see `server::metrics::alerts` for the states).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct AlertView {
    /// Its key, e.g. `api_p95_ms` (what `PUT /api/admin/alerts` names).
    pub name: String,
    /// What it watches, for people.
    pub label: String,
    /// The unit of its values: `ms`, `MB`, `KB`, `%` (a ratio 0-1 shown as a percentage) or
    /// nothing.
    pub unit: String,
    /// `normal`, `pending`, `firing` or `resolved`.
    pub state: String,
    /// `true`: the value must stay below the threshold; `false`: above it.
    pub below: bool,
    /// The threshold, in the metric's unit.
    pub threshold: f64,
    /// The latest value measured (none yet: nothing to measure).
    pub value: Option<f64>,
    /// When it entered its state (Unix milliseconds; 0 if it never left normal).
    pub since_unix_ms: u64,
}
