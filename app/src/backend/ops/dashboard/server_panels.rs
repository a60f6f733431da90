//! The panels of what the server does: the HTTP API, the store, the caches. Each takes its
//! section of the snapshot and the history's points.

use dioxus::prelude::*;

use crate::model::{ApiSection, CacheSection, DatabaseSection, HistoryPoint, TierView};

use super::{Percentile, ago, bytes, fixed, metric, ms, pct, section, series};

/// Requests per second, latency at the chosen percentile, success rate, errors by status
/// class, the slowest routes and the slow-request log.
pub fn api_panel(api: &ApiSection, points: &[HistoryPoint], p: Percentile) -> Element {
    let classes = api.status_classes;
    let body = rsx! {
        {metric("Requests per second", "api-rps", fixed(api.rps_1m, 1), Some(series(points, |p| p.rps)),
            "Requests answered per second over the last minute; the chart is per sampling interval.")}
        {metric("Latency", "api-latency", format!("{} {}", p.as_str(), ms(p.of(&api.latency_1m))), Some(series(points, |p| p.p95_ms)),
            "Time to the response head over the last minute (chart: p95); p50 is the typical request, p99 the slow tail.")}
        {metric("Success rate", "api-success", pct(api.success_rate), Some(series(points, |p| 1.0 - p.error_rate)),
            "Responses that were not server errors (5xx) since start; a 4xx is the client's mistake and counts as answered.")}
        {metric("Server errors", "api-errors", classes[4].to_string(), None,
            "5xx responses since start; all status classes below.")}
        dl { class: "facts status-classes",
            for (i, n) in classes.iter().enumerate() {
                dt { key: "{i}", "{i + 1}xx" }
                dd { "{n}" }
            }
        }
        h3 { "Slowest routes ({p.as_str()})" }
        table { class: "dash-table", "data-testid": "slowest-routes",
            thead { tr { th { "route" } th { "requests" } th { "{p.as_str()}" } } }
            tbody {
                for r in &api.slowest_routes {
                    tr { key: "{r.route}",
                        td { code { "{r.route}" } }
                        td { "{r.requests}" }
                        td { "{ms(p.of(&r.latency))}" }
                    }
                }
            }
        }
        h3 { "Slow requests" }
        {slow_log(&api.slow_requests, "None over the slow-request threshold.", |s| {
            format!("{} {} in {}", s.route, s.status, ms(s.duration_ms))
        })}
    };
    section("API", "api", body)
}

/// The newest entries of a slow log, one line each.
fn slow_log<T>(entries: &[T], none: &str, line: impl Fn(&T) -> String) -> Element {
    rsx! {
        if entries.is_empty() {
            p { class: "muted", "{none}" }
        }
        ul { class: "slow-log",
            for (i, e) in entries.iter().enumerate() {
                li { key: "{i}", "{line(e)}" }
            }
        }
    }
}

/// "reachable, synced 0.4 s ago" or "unreachable, last synced 12.0 s ago".
fn primary_state(r: &crate::model::ReplicaView) -> String {
    let state = if r.primary_reachable {
        "reachable"
    } else {
        "unreachable"
    };
    match r.last_sync_age_ms {
        Some(age) if r.primary_reachable => {
            format!("{state}, synced {:.1} s ago", age as f64 / 1e3)
        }
        Some(age) => format!("{state}, last synced {:.1} s ago", age as f64 / 1e3),
        None => format!("{state}, never synced since start"),
    }
}

/// Query latency per kind, slow queries, readers, WAL and file sizes.
pub fn database_panel(
    db: &DatabaseSection,
    points: &[HistoryPoint],
    p: Percentile,
    now: u64,
) -> Element {
    let worst = db
        .queries
        .iter()
        .map(|q| p.of(&q.latency))
        .fold(0.0, f64::max);
    let checkpoint = match db.last_checkpoint_unix_ms {
        None => "none since start".to_owned(),
        Some(at) => ago(now, at),
    };
    let idle = db.readers.saturating_sub(db.readers_in_use);
    let body = rsx! {
        {metric("Query latency, slowest kind", "db-latency", format!("{} {}", p.as_str(), ms(worst)), Some(series(points, |p| p.db_p95_ms)),
            "The slowest query kind at the chosen percentile since start; the chart is the p95 of every query per interval.")}
        {metric("Readers in use / idle", "db-readers", format!("{} / {idle}", db.readers_in_use), None,
            "Pooled read connections working now and waiting; all busy means reads queue.")}
        {metric("Write-ahead log", "db-wal", bytes(db.wal_bytes), Some(series(points, |p| p.wal_bytes as f64)),
            "Changes not yet checkpointed into the database file; it shrinks at each checkpoint.")}
        {metric("Database file", "db-file", bytes(db.file_bytes), None,
            "The database file on disk (without the WAL).")}
        {metric("Last checkpoint", "db-checkpoint", checkpoint, None,
            "When the log was last moved into the file, by SQLite on its own (seen within a sampling interval) or by maintenance.")}
        {metric("Store", "db-mode", db.mode.clone(), None,
            "A database file on this host, or an embedded replica of a libsql server (several hosts, SCALING.md).")}
        if let Some(r) = db.replica {
            {metric("Primary", "db-primary", primary_state(&r), None,
                "Whether the libsql server answered this replica's last sync (every AION_DB_SYNC_MS) or catch-up, and when the replica last had all of its writes. Unreachable: reads go on from the replica, writes answer 503.")}
            {metric("Replica position", "db-replica",
                format!("{} of {} announced ({} failed catch-ups)", r.caught_up.max(r.written), r.announced, r.failed_catch_ups), None,
                "Replication positions: the highest this replica reached (by catching up, or by its own writes) against the highest another instance announced; a read first catches up, at most 1 s.")}
        }
        h3 { "Per kind ({p.as_str()})" }
        table { class: "dash-table", "data-testid": "query-kinds",
            thead { tr { th { "kind" } th { "queries" } th { "{p.as_str()}" } th { "errors" } } }
            tbody {
                for q in &db.queries {
                    tr { key: "{q.kind}",
                        td { code { "{q.kind}" } }
                        td { "{q.latency.count}" }
                        td { "{ms(p.of(&q.latency))}" }
                        td { "{q.errors}" }
                    }
                }
            }
        }
        h3 { "Slow queries" }
        {slow_log(&db.slow_queries, "None over the slow-query threshold.", |q| {
            format!("{} {}, {} rows", q.kind, ms(q.duration_ms), q.rows)
        })}
    };
    section("Database", "database", body)
}

/// What a tier holds of its capacity: the response cache weighs its bodies in bytes, the
/// data cache counts entries.
fn size(cache: &CacheSection, t: &TierView) -> String {
    if cache.name == "responses" {
        format!("{} of {}", bytes(t.weighted_size), bytes(t.capacity))
    } else {
        format!("{} of {} entries", t.weighted_size, t.capacity)
    }
}

/// Hit ratio, entries, size and evictions per tier and per policy of both caches.
pub fn cache_panel(caches: &[CacheSection], points: &[HistoryPoint]) -> Element {
    let l1 = caches
        .first()
        .and_then(|c| c.tiers.first())
        .map_or(0.0, |t| t.hit_ratio);
    let body = rsx! {
        {metric("Data cache hit ratio (L1)", "cache-hit-ratio", pct(l1), Some(series(points, |p| p.cache_hit_ratio)),
            "Lookups answered from memory instead of the store, since start; the chart is per interval, L1 and L2 together.")}
        for c in caches {
            h3 { key: "{c.name}", "{c.name}" }
            table { class: "dash-table", "data-testid": "cache-{c.name}",
                thead { tr { th { "tier" } th { "hit ratio" } th { "entries" } th { "size" } th { "evictions" } } }
                tbody {
                    for t in &c.tiers {
                        tr { key: "{t.tier}",
                            td { "{t.tier}" }
                            td { "{pct(t.hit_ratio)}" }
                            td { "{t.entries}" }
                            td { "{size(c, t)}" }
                            td { "{t.evictions}" }
                        }
                    }
                }
            }
            table { class: "dash-table",
                thead { tr { th { "policy" } th { "hit ratio" } th { "hits" } th { "misses" } th { "loads" } } }
                tbody {
                    for pol in &c.policies {
                        tr { key: "{pol.policy}",
                            td { "{pol.policy}" }
                            td { "{pct(pol.hit_ratio)}" }
                            td { "{pol.hits}" }
                            td { "{pol.misses}" }
                            td { "{pol.loads}" }
                        }
                    }
                }
            }
        }
    };
    section("Caches", "caches", body)
}
