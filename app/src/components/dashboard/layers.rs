//! `/performance`, rendered on the server: per layer of the system (HTTP, store, cache,
//! tasks, client) what it does and why it is built so, its targets, its live figures from
//! the metrics snapshot, and its latest benchmark results from `benchmarks/results.json`
//! (written by `cargo xtask bench-http`, `bench-server` and `bundle-size`; see
//! [`super::results`]). Rendered here for the reason the dashboard's panels are: the
//! client's bundle cap.

use dioxus::prelude::*;
use serde_json::Value;

use super::{ago, bytes, int, list, metric, ms, num, pct, results, text, to_html};

/// A layer of the system as the page explains it.
struct Layer {
    id: &'static str,
    title: &'static str,
    /// What it does, and why it is built so: one paragraph each.
    about: &'static [&'static str],
    /// The design's targets on a 2-core machine.
    targets: &'static [&'static str],
    /// The benchmark scenarios that measure it (names in the results file).
    scenarios: &'static [&'static str],
}

static LAYERS: [Layer; 5] = [
    Layer {
        id: "http",
        title: "HTTP",
        about: &[
            "Every request passes one tower stack: request metrics and the slow-request log, \
             security headers, rate limits (GCRA, keyed by client and bounded), the JSON \
             response cache with strong ETags and 304s, the rendered-page cache, and \
             compression (brotli, gzip, zstd) negotiated per request.",
            "Why so: cached answers are served before any handler runs and are invalidated by \
             the same tags as the data cache, so a read after a write is never stale; the \
             listener sets TCP_NODELAY, which Dioxus's own server does not.",
        ],
        targets: &[
            "the full middleware stack costs at most 15 % of a bare route's throughput",
            "cached story read p95 ≤ 25 ms at 1,000 concurrent connections",
            "a cached server-rendered page at ≥ 50 % of the cached JSON read, p95 ≤ 5 ms",
        ],
        scenarios: &["stack", "app", "pages", "slow-clients", "cluster"],
    },
    Layer {
        id: "store",
        title: "Store",
        about: &[
            "One libsql database file in WAL mode: one writer connection that serialises \
             writes with BEGIN IMMEDIATE, and a pool of readers that never wait for it. \
             Every query is labelled with a kind and timed; slow ones are logged.",
            "Why so: SQLite allows one writer, so writes queue in the process instead of \
             retrying SQLITE_BUSY, and readers see a consistent snapshot while a write runs.",
        ],
        targets: &[
            "story by id p95 ≤ 50 µs in process",
            "a 50-row page p95 ≤ 1 ms at 100,000 stories",
            "no SQLITE_BUSY under 8 writers and 64 readers",
        ],
        scenarios: &["store"],
    },
    Layer {
        id: "cache",
        title: "Cache",
        about: &[
            "A tiered cache on moka (a small hot L1 in front of a larger L2, TinyLFU \
             admission), with a policy per kind of value, tag invalidation, and one load per \
             missing key however many requests wait for it. With Redis configured, a shared \
             tier sits behind them and invalidations reach every instance.",
            "Why so: TinyLFU keeps the frequently read stories that an LRU would evict on a \
             scan, and exact tag invalidation means a read that starts after a write never \
             sees the old value.",
        ],
        targets: &[
            "an L1 hit costs at most 2x a bare moka get",
            "hit ratio on a Zipf(1.0) trace ≥ LRU of the same size + 5 points",
            "1,000 concurrent misses on one key cause one load",
        ],
        scenarios: &["cache-hits", "cache", "shared", "redis"],
    },
    Layer {
        id: "tasks",
        title: "Tasks",
        about: &[
            "A durable queue whose tasks are rows in the store: exports, imports and \
             maintenance survive restarts. A dispatcher claims due tasks for free workers \
             with leases a heartbeat renews, records finished runs in one transaction per \
             round, and waits on a signal from every enqueue instead of polling.",
            "Why so: one store means no second system to run or back up, and leases make a \
             claim safe across processes: a task whose process died is claimed again.",
        ],
        targets: &[
            "≥ 5,000 durable no-op tasks/s end to end with 4 workers",
            "pickup latency p50 ≤ 5 ms, with no sleep-polling",
        ],
        scenarios: &["tasks"],
    },
    Layer {
        id: "client",
        title: "Client",
        about: &[
            "One Dioxus crate compiled to WebAssembly, hydrating server-rendered pages: the \
             first paint needs no WASM. Hooks keep it quick: a request cache with \
             stale-while-revalidate, prefetching links, a virtual list that keeps the DOM \
             small over any number of stories, debounced search, batched updates, and Web \
             Vitals measured in every visitor's browser.",
            "Why so: the bundle is the cost every visitor pays first, so it has a hard cap \
             and panels like these are rendered on the server instead of shipped as code.",
        ],
        targets: &[
            "initial JS + WASM + CSS ≤ 400 KB brotli (hard cap)",
            "LCP ≤ 1.0 s and CLS ≤ 0.02 on localhost",
            "a 100,000-row list keeps ≤ 60 row elements in the DOM",
        ],
        scenarios: &["bundle"],
    },
];

/// The page's layers as `{id: {title, about, live, bench}}` HTML fragments, from the
/// snapshot (as the API serves it). The page swaps in `live` as it refreshes; `about` and
/// `bench` do not change while the server runs.
pub fn render(snapshot: &Value) -> Value {
    let runs: std::rc::Rc<[results::Run]> = results::runs().into();
    let mut layers = serde_json::Map::new();
    for layer in &LAYERS {
        let s = snapshot.clone();
        let runs = runs.clone();
        let about = to_html(|| about(layer));
        let live = to_html(move || live(layer.id, &s));
        let bench = to_html(move || bench(layer, &runs));
        layers.insert(
            layer.id.to_owned(),
            serde_json::json!({ "title": layer.title, "about": about, "live": live, "bench": bench }),
        );
    }
    Value::Object(layers)
}

fn about(layer: &Layer) -> Element {
    rsx! {
        for (i, para) in layer.about.iter().enumerate() {
            p { key: "{i}", "{para}" }
        }
        h3 { "Targets" }
        ul { class: "targets",
            for t in layer.targets {
                li { key: "{t}", "{t}" }
            }
        }
    }
}

fn live(id: &str, s: &Value) -> Element {
    let body = match id {
        "http" => {
            let api = &s["api"];
            let l = &api["latency_1m"];
            let responses = cache_named(s, "responses");
            rsx! {
                {metric("Requests per second", "live-http-rps", super::fixed(num(api, "rps_1m"), 1), None,
                    "Over the last minute.")}
                {metric("Latency p50 / p95 / p99", "live-http-latency",
                    format!("{} / {} / {}", ms(num(l, "p50_ms")), ms(num(l, "p95_ms")), ms(num(l, "p99_ms"))), None,
                    "Time to the response head over the last minute.")}
                {metric("Success rate", "live-http-success", pct(num(api, "success_rate")), None,
                    "Responses that were not server errors, since start.")}
                {metric("Response cache hit ratio", "live-http-response-cache", pct(l1_ratio(responses)), None,
                    "JSON and page answers served from memory, since start.")}
                {metric("Open connections", "live-http-connections", int(&s["resources"], "open_connections").to_string(), None,
                    "Held open now, event streams included.")}
            }
        }
        "store" => {
            let db = &s["database"];
            let kinds = list(db, "queries");
            let count: u64 = kinds.iter().map(|q| int(q, "latency/count")).sum();
            let worst = kinds
                .iter()
                .max_by(|a, b| num(a, "latency/p95_ms").total_cmp(&num(b, "latency/p95_ms")));
            rsx! {
                {metric("Queries since start", "live-store-queries", count.to_string(), None,
                    "Timed by kind; the dashboard lists every kind.")}
                {metric("Slowest kind, p95", "live-store-p95",
                    worst.map_or("—".to_owned(), |q| format!("{} {}", text(q, "kind"), ms(num(q, "latency/p95_ms")))), None,
                    "The query kind with the highest 95th percentile since start.")}
                {metric("Readers in use", "live-store-readers", format!("{} of {}", int(db, "readers_in_use"), int(db, "readers")), None,
                    "Pooled read connections working now.")}
                {metric("Database / WAL", "live-store-size", format!("{} / {}", bytes(int(db, "file_bytes")), bytes(int(db, "wal_bytes"))), None,
                    "The file on disk and the changes not yet checkpointed into it.")}
                {metric("Last checkpoint", "live-store-checkpoint", match int(db, "last_checkpoint_unix_ms") {
                        0 => "none since start".to_owned(),
                        at => ago(int(s, "at_unix_ms"), at),
                    }, None,
                    "When the log was last moved into the database file.")}
            }
        }
        "cache" => {
            let data = cache_named(s, "data");
            let tier = |i: usize| list(data, "tiers").get(i).cloned().unwrap_or(Value::Null);
            let (l1, l2) = (tier(0), tier(1));
            rsx! {
                {metric("Hit ratio L1 / L2", "live-cache-hits", format!("{} / {}", pct(num(&l1, "hit_ratio")), pct(num(&l2, "hit_ratio"))), None,
                    "Data-cache lookups answered from memory, per tier, since start.")}
                {metric("Entries L1 / L2", "live-cache-entries", format!("{} / {}", int(&l1, "entries"), int(&l2, "entries")), None,
                    "Values held now.")}
                {metric("Loads", "live-cache-loads", list(data, "policies").iter().map(|p| int(p, "loads")).sum::<u64>().to_string(), None,
                    "Misses that read the store; concurrent misses on one key count once.")}
            }
        }
        "tasks" => {
            let t = &s["tasks"];
            rsx! {
                {metric("Pending / running", "live-tasks-queue", format!("{} / {}", int(t, "pending"), int(t, "running")), None,
                    "Waiting for a worker, and being worked on.")}
                {metric("Finished in the last minute", "live-tasks-throughput", int(t, "finished_last_minute").to_string(), None,
                    "Completed or failed.")}
                {metric("Pickup p50 / p99", "live-tasks-pickup",
                    format!("{} / {}", app::model::millis(int(t, "pickup_p50_us")), app::model::millis(int(t, "pickup_p99_us"))), None,
                    "From queued to picked up by a worker.")}
            }
        }
        _ => {
            let pages = list(&s["rum"], "pages");
            let scores: Vec<u64> = pages
                .iter()
                .filter_map(|p| p.get("score")?.as_u64())
                .collect();
            let lowest = scores.iter().min().map_or("—".to_owned(), u64::to_string);
            rsx! {
                {metric("Bundle served", "live-client-bundle", format!("{} brotli", bytes(int(&s["resources"], "bundle_brotli_bytes"))), None,
                    "WASM, JS and CSS a first visit downloads, measured from the files being served.")}
                {metric("Visitors' WASM memory p75", "live-client-memory",
                    match int(&s["resources"], "client_memory_samples") {
                        0 => "no reports yet".to_owned(),
                        _ => bytes(int(&s["resources"], "client_memory_p75_bytes")),
                    }, None,
                    "The memory hook's reading as pages are left, sent with the vitals.")}
                {metric("Pages with real-user vitals", "live-client-pages", pages.len().to_string(), None,
                    "Pages whose visitors' browsers have reported Web Vitals since start.")}
                {metric("Lowest page score", "live-client-score", lowest, None,
                    "From the p75 vitals per page, weighted as Lighthouse does (0-100).")}
            }
        }
    };
    rsx! {
        h3 { "Now, on this server" }
        div { class: "metrics", {body} }
    }
}

/// The cache section named `name` (`data`, `responses`).
fn cache_named<'a>(s: &'a Value, name: &str) -> &'a Value {
    list(s, "caches")
        .iter()
        .find(|c| text(c, "name") == name)
        .unwrap_or(&Value::Null)
}

fn l1_ratio(cache: &Value) -> f64 {
    list(cache, "tiers")
        .first()
        .map_or(0.0, |t| num(t, "hit_ratio"))
}

fn bench(layer: &Layer, runs: &[results::Run]) -> Element {
    let mine: Vec<&results::Run> = layer
        .scenarios
        .iter()
        .filter_map(|name| runs.iter().find(|r| r.scenario == *name))
        .collect();
    rsx! {
        h3 { "Latest benchmark results" }
        if mine.is_empty() {
            p { class: "muted",
                "Not measured in this build: run "
                for (i, name) in layer.scenarios.iter().enumerate() {
                    span { key: "{name}",
                        if i > 0 { ", " }
                        code { "{results::command_for(name)}" }
                    }
                }
                "."
            }
        }
        for run in mine {
            div { key: "{run.scenario}", class: "bench-run", "data-scenario": "{run.scenario}",
                p { class: "muted", code { "{run.command}" } ", {run.date}" }
                {results::markdown(&run.output)}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_layer_renders_its_live_figures_from_the_snapshot() {
        let snapshot = serde_json::json!({
            "api": {"rps_1m": 12.5, "latency_1m": {"p50_ms": 1.0, "p95_ms": 4.25, "p99_ms": 9.0}, "success_rate": 1.0},
            "database": {"queries": [{"kind": "story_by_id", "latency": {"count": 7, "p95_ms": 0.5}}], "readers": 8, "readers_in_use": 1},
            "caches": [{"name": "data", "tiers": [{"tier": "l1", "hit_ratio": 0.75, "entries": 3}]}],
            "tasks": {"pending": 2, "running": 1},
            "rum": {"pages": [{"route": "/", "score": 97}]},
            "resources": {"bundle_brotli_bytes": 377_000},
        });
        let layers = render(&snapshot);
        let live = |id: &str| layers[id]["live"].as_str().unwrap_or_default().to_owned();
        assert!(live("http").contains("12.5"), "{}", live("http"));
        assert!(live("http").contains("4.25 ms"));
        assert!(live("store").contains("story_by_id 0.50 ms"));
        assert!(live("cache").contains("75.0 %"));
        assert!(live("tasks").contains("2 / 1"));
        assert!(live("client").contains("368.2 KiB brotli"));
        assert!(live("client").contains(">97<"));
        assert_eq!(LAYERS.len(), layers.as_object().map_or(0, |m| m.len()));
        for id in LAYERS.iter().map(|l| l.id) {
            assert!(
                layers[id]["about"]
                    .as_str()
                    .is_some_and(|a| a.contains("<li>"))
            );
        }
    }
}
