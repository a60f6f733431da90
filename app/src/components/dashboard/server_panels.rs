//! The panels of what the server does: the HTTP API, the store, the caches. Each takes its
//! part of the snapshot (`ApiSection`, `DatabaseSection`, the caches) as JSON and the
//! history's points.

use dioxus::prelude::*;
use serde_json::Value;

use super::{
    Percentile, ago, bytes, fixed, int, list, metric, ms, num, pct, section, series, text,
};

/// Requests per second, latency at the chosen percentile, success rate, errors by status
/// class, the slowest routes and the slow-request log.
pub fn api_panel(api: &Value, points: &[Value], p: Percentile) -> Element {
    let classes = list(api, "status_classes");
    let body = rsx! {
        {metric("Requests per second", "api-rps", fixed(num(api, "rps_1m"), 1), Some(series(points, "rps")),
            "Requests answered per second over the last minute; the chart is per sampling interval.")}
        {metric("Latency", "api-latency", format!("{} {}", p.as_str(), ms(p.of(&api["latency_1m"]))), Some(series(points, "p95_ms")),
            "Time to the response head over the last minute (chart: p95); p50 is the typical request, p99 the slow tail.")}
        {metric("Success rate", "api-success", pct(num(api, "success_rate")),
            Some(points.iter().map(|p| 1.0 - num(p, "error_rate")).collect()),
            "Responses that were not server errors (5xx) since start; a 4xx is the client's mistake and counts as answered.")}
        {metric("Server errors", "api-errors", classes.get(4).and_then(Value::as_u64).unwrap_or(0).to_string(), None,
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
                for r in list(api, "slowest_routes") {
                    tr { key: "{text(r, \"route\")}",
                        td { code { "{text(r, \"route\")}" } }
                        td { "{int(r, \"requests\")}" }
                        td { "{ms(p.of(&r[\"latency\"]))}" }
                    }
                }
            }
        }
        h3 { "Slow requests" }
        {slow_log(list(api, "slow_requests"), "None over the slow-request threshold.", |s| {
            format!("{} {} in {}", text(s, "route"), int(s, "status"), ms(num(s, "duration_ms")))
        })}
    };
    section("API", "api", body)
}

/// The newest entries of a slow log, one line each.
fn slow_log(entries: &[Value], none: &str, line: impl Fn(&Value) -> String) -> Element {
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

/// Query latency per kind, slow queries, readers, WAL and file sizes.
pub fn database_panel(db: &Value, points: &[Value], p: Percentile, now: u64) -> Element {
    let queries = list(db, "queries");
    let worst = queries
        .iter()
        .map(|q| p.of(&q["latency"]))
        .fold(0.0, f64::max);
    let (readers, busy) = (int(db, "readers"), int(db, "readers_in_use"));
    let checkpoint = match int(db, "last_checkpoint_unix_ms") {
        0 => "none since start".to_owned(),
        at => ago(now, at),
    };
    let body = rsx! {
        {metric("Query latency, slowest kind", "db-latency", format!("{} {}", p.as_str(), ms(worst)), Some(series(points, "db_p95_ms")),
            "The slowest query kind at the chosen percentile since start; the chart is the p95 of every query per interval.")}
        {metric("Readers in use / idle", "db-readers", format!("{busy} / {}", readers.saturating_sub(busy)), None,
            "Pooled read connections working now and waiting; all busy means reads queue.")}
        {metric("Write-ahead log", "db-wal", bytes(int(db, "wal_bytes")), Some(series(points, "wal_bytes")),
            "Changes not yet checkpointed into the database file; it shrinks at each checkpoint.")}
        {metric("Database file", "db-file", bytes(int(db, "file_bytes")), None,
            "The database file on disk (without the WAL).")}
        {metric("Last checkpoint", "db-checkpoint", checkpoint, None,
            "When the log was last moved into the file, by SQLite on its own (seen within a sampling interval) or by maintenance.")}
        h3 { "Per kind ({p.as_str()})" }
        table { class: "dash-table", "data-testid": "query-kinds",
            thead { tr { th { "kind" } th { "queries" } th { "{p.as_str()}" } th { "errors" } } }
            tbody {
                for q in queries {
                    tr { key: "{text(q, \"kind\")}",
                        td { code { "{text(q, \"kind\")}" } }
                        td { "{int(q, \"latency/count\")}" }
                        td { "{ms(p.of(&q[\"latency\"]))}" }
                        td { "{int(q, \"errors\")}" }
                    }
                }
            }
        }
        h3 { "Slow queries" }
        {slow_log(list(db, "slow_queries"), "None over the slow-query threshold.", |q| {
            format!("{} {}, {} rows", text(q, "kind"), ms(num(q, "duration_ms")), int(q, "rows"))
        })}
    };
    section("Database", "database", body)
}

/// Hit ratio, entries, size and evictions per tier and per policy of both caches.
pub fn cache_panel(caches: &Value, points: &[Value]) -> Element {
    let caches = caches.as_array().map_or(&[][..], Vec::as_slice);
    let l1 = caches
        .first()
        .and_then(|c| list(c, "tiers").first())
        .map_or(0.0, |t| num(t, "hit_ratio"));
    // The response cache weighs its bodies in bytes; the data cache counts entries.
    let size = |cache: &Value, t: &Value| {
        let (held, cap) = (int(t, "weighted_size"), int(t, "capacity"));
        if text(cache, "name") == "responses" {
            format!("{} of {}", bytes(held), bytes(cap))
        } else {
            format!("{held} of {cap} entries")
        }
    };
    let body = rsx! {
        {metric("Data cache hit ratio (L1)", "cache-hit-ratio", pct(l1), Some(series(points, "cache_hit_ratio")),
            "Lookups answered from memory instead of the store, since start; the chart is per interval, L1 and L2 together.")}
        for c in caches {
            h3 { key: "{text(c, \"name\")}", "{text(c, \"name\")}" }
            table { class: "dash-table", "data-testid": "cache-{text(c, \"name\")}",
                thead { tr { th { "tier" } th { "hit ratio" } th { "entries" } th { "size" } th { "evictions" } } }
                tbody {
                    for t in list(c, "tiers") {
                        tr { key: "{text(t, \"tier\")}",
                            td { "{text(t, \"tier\")}" }
                            td { "{pct(num(t, \"hit_ratio\"))}" }
                            td { "{int(t, \"entries\")}" }
                            td { "{size(c, t)}" }
                            td { "{int(t, \"evictions\")}" }
                        }
                    }
                }
            }
            table { class: "dash-table",
                thead { tr { th { "policy" } th { "hit ratio" } th { "hits" } th { "misses" } th { "loads" } } }
                tbody {
                    for pol in list(c, "policies") {
                        tr { key: "{text(pol, \"policy\")}",
                            td { "{text(pol, \"policy\")}" }
                            td { "{pct(num(pol, \"hit_ratio\"))}" }
                            td { "{int(pol, \"hits\")}" }
                            td { "{int(pol, \"misses\")}" }
                            td { "{int(pol, \"loads\")}" }
                        }
                    }
                }
            }
        }
    };
    section("Caches", "caches", body)
}
