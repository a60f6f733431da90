//! `/performance`, rendered on the server: per layer of the system (HTTP, store, cache,
//! tasks, client) what it does and why it is built so, its targets, its live figures from
//! the metrics snapshot, and its latest benchmark results from `benchmarks/results.json`
//! (written by `cargo xtask bench-http`, `bench-server` and `bundle-size`; see
//! [`super::results`]). Rendered here for the reason the dashboard's panels are: the
//! client's bundle cap.

use std::rc::Rc;

use dioxus::prelude::*;
use serde_json::Value;

use crate::model::{CacheSection, MetricsSnapshot, TierView, millis};

use super::{ago, bytes, fixed, metric, ms, pct, results, to_html};

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
/// snapshot. The page swaps in `live` as it refreshes; `about` and `bench` do not change
/// while the server runs.
pub fn render(snapshot: &MetricsSnapshot) -> Value {
    let runs: Rc<[results::Run]> = results::runs().into();
    let snapshot = Rc::new(snapshot.clone());
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

fn live(id: &str, s: &MetricsSnapshot) -> Element {
    let body = match id {
        "http" => live_http(s),
        "store" => live_store(s),
        "cache" => live_cache(s),
        "tasks" => live_tasks(s),
        _ => live_client(s),
    };
    rsx! {
        h3 { "Now, on this server" }
        div { class: "metrics", {body} }
    }
}

fn live_http(s: &MetricsSnapshot) -> Element {
    let (api, l) = (&s.api, &s.api.latency_1m);
    let responses = cache_named(s, "responses").and_then(|c| c.tiers.first());
    rsx! {
        {metric("Requests per second", "live-http-rps", fixed(api.rps_1m, 1), None,
            "Over the last minute.")}
        {metric("Latency p50 / p95 / p99", "live-http-latency",
            format!("{} / {} / {}", ms(l.p50_ms), ms(l.p95_ms), ms(l.p99_ms)), None,
            "Time to the response head over the last minute.")}
        {metric("Success rate", "live-http-success", pct(api.success_rate), None,
            "Responses that were not server errors, since start.")}
        {metric("Response cache hit ratio", "live-http-response-cache", pct(responses.map_or(0.0, |t| t.hit_ratio)), None,
            "JSON and page answers served from memory, since start.")}
        {metric("Open connections", "live-http-connections", s.resources.open_connections.to_string(), None,
            "Held open now, event streams included.")}
    }
}

fn live_store(s: &MetricsSnapshot) -> Element {
    let db = &s.database;
    let count: u64 = db.queries.iter().map(|q| q.latency.count).sum();
    let worst = db
        .queries
        .iter()
        .max_by(|a, b| a.latency.p95_ms.total_cmp(&b.latency.p95_ms));
    let checkpoint = match db.last_checkpoint_unix_ms {
        None => "none since start".to_owned(),
        Some(at) => ago(s.at_unix_ms, at),
    };
    rsx! {
        {metric("Queries since start", "live-store-queries", count.to_string(), None,
            "Timed by kind; the dashboard lists every kind.")}
        {metric("Slowest kind, p95", "live-store-p95",
            worst.map_or("—".to_owned(), |q| format!("{} {}", q.kind, ms(q.latency.p95_ms))), None,
            "The query kind with the highest 95th percentile since start.")}
        {metric("Readers in use", "live-store-readers", format!("{} of {}", db.readers_in_use, db.readers), None,
            "Pooled read connections working now.")}
        {metric("Database / WAL", "live-store-size", format!("{} / {}", bytes(db.file_bytes), bytes(db.wal_bytes)), None,
            "The file on disk and the changes not yet checkpointed into it.")}
        {metric("Last checkpoint", "live-store-checkpoint", checkpoint, None,
            "When the log was last moved into the database file.")}
    }
}

fn live_cache(s: &MetricsSnapshot) -> Element {
    let data = cache_named(s, "data");
    let tier = |i: usize| {
        data.and_then(|c| c.tiers.get(i))
            .cloned()
            .unwrap_or_else(empty_tier)
    };
    let (l1, l2) = (tier(0), tier(1));
    let loads: u64 = data.map_or(0, |c| c.policies.iter().map(|p| p.loads).sum());
    rsx! {
        {metric("Hit ratio L1 / L2", "live-cache-hits", format!("{} / {}", pct(l1.hit_ratio), pct(l2.hit_ratio)), None,
            "Data-cache lookups answered from memory, per tier, since start.")}
        {metric("Entries L1 / L2", "live-cache-entries", format!("{} / {}", l1.entries, l2.entries), None,
            "Values held now.")}
        {metric("Loads", "live-cache-loads", loads.to_string(), None,
            "Misses that read the store; concurrent misses on one key count once.")}
    }
}

fn live_tasks(s: &MetricsSnapshot) -> Element {
    let t = &s.tasks;
    rsx! {
        {metric("Pending / running", "live-tasks-queue", format!("{} / {}", t.pending, t.running), None,
            "Waiting for a worker, and being worked on.")}
        {metric("Finished in the last minute", "live-tasks-throughput", t.finished_last_minute.to_string(), None,
            "Completed or failed.")}
        {metric("Pickup p50 / p99", "live-tasks-pickup",
            format!("{} / {}", millis(t.pickup_p50_us), millis(t.pickup_p99_us)), None,
            "From queued to picked up by a worker.")}
    }
}

fn live_client(s: &MetricsSnapshot) -> Element {
    let (pages, res) = (&s.rum.pages, &s.resources);
    let lowest = pages
        .iter()
        .filter_map(|p| p.score)
        .min()
        .map_or("—".to_owned(), |s| s.to_string());
    rsx! {
        {metric("Bundle served", "live-client-bundle", format!("{} brotli", bytes(res.bundle_brotli_bytes)), None,
            "WASM, JS and CSS a first visit downloads, measured from the files being served.")}
        {metric("Visitors' WASM memory p75", "live-client-memory",
            match res.client_memory_samples {
                0 => "no reports yet".to_owned(),
                _ => bytes(res.client_memory_p75_bytes),
            }, None,
            "The memory hook's reading as pages are left, sent with the vitals.")}
        {metric("Pages with real-user vitals", "live-client-pages", pages.len().to_string(), None,
            "Pages whose visitors' browsers have reported Web Vitals since start.")}
        {metric("Lowest page score", "live-client-score", lowest, None,
            "From the p75 vitals per page, weighted as Lighthouse does (0-100).")}
    }
}

/// The cache section named `name` (`data`, `responses`).
fn cache_named<'a>(s: &'a MetricsSnapshot, name: &str) -> Option<&'a CacheSection> {
    s.caches.iter().find(|c| c.name == name)
}

/// A tier that has seen nothing, for a cache that reports fewer tiers.
fn empty_tier() -> TierView {
    TierView {
        tier: String::new(),
        hit_ratio: 0.0,
        hits: 0,
        misses: 0,
        entries: 0,
        weighted_size: 0,
        capacity: 0,
        evictions: 0,
    }
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
        use crate::model::{PageVitals, QueryKindView};
        let mut snapshot = MetricsSnapshot::default();
        snapshot.api.rps_1m = 12.5;
        snapshot.api.latency_1m.p95_ms = 4.25;
        snapshot.api.success_rate = 1.0;
        snapshot.database.queries = vec![QueryKindView {
            kind: "story_by_id".into(),
            latency: crate::model::Latency {
                count: 7,
                p95_ms: 0.5,
                ..Default::default()
            },
            errors: 0,
        }];
        snapshot.database.readers = 8;
        snapshot.database.readers_in_use = 1;
        let l1 = TierView {
            tier: "l1".into(),
            hit_ratio: 0.75,
            entries: 3,
            ..empty_tier()
        };
        snapshot.caches = vec![CacheSection {
            name: "data".into(),
            tiers: vec![l1],
            policies: Vec::new(),
        }];
        snapshot.tasks.pending = 2;
        snapshot.tasks.running = 1;
        snapshot.rum.pages = vec![PageVitals {
            route: "/".into(),
            navigations: Vec::new(),
            metrics: Vec::new(),
            score: Some(97),
        }];
        snapshot.resources.bundle_brotli_bytes = 377_000;
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
