//! `cargo xtask bench-http --only redis|cluster`: what sharing costs. One instance with and
//! without Redis side by side, and cached reads through HAProxy with 1, 2 and 3 instances
//! (the setup of `cargo xtask cluster`), and (`--only shared`) three instances under read
//! load and writes with the shared cache tier off and on: store loads, hit ratio and how
//! long a write stays stale anywhere. Everything started here is stopped when its scenario
//! ends, also on failure.

use std::{
    path::Path,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use crate::{
    bench_server::{HEADER, load, row, start, story_paths},
    build,
    cluster::{Cluster, Store},
    process::http_get,
    results::out,
};

/// What Redis costs one instance: cached reads with rate limits kept locally (the default)
/// against the same with `AION_REDIS_URL` (limits checked in Redis, invalidations
/// listened for), three alternating rounds on two servers side by side.
pub fn redis_scenario(bundle: &build::Bundle, seconds: f64) -> Result<(), String> {
    let dir = std::env::temp_dir().join(format!("aion-bench-redis-{}", std::process::id()));
    let (redis, url) = crate::cluster::start_redis(&dir)?;
    let limits = [
        ("AION_RATE_LIMIT_PER_MINUTE", "60000000"),
        ("AION_RATE_LIMIT_BURST", "10000000"),
    ];
    let local = start(bundle, &limits)?;
    let mut with_redis = limits.to_vec();
    with_redis.push(("AION_REDIS_URL", url.as_str()));
    let shared = start(bundle, &with_redis)?;
    out!("\n### Redis on one instance: cached story reads, 50 connections, rate limits on\n");
    out!("{HEADER}");
    let mut rps = [Vec::new(), Vec::new()];
    for round in 1..=3 {
        for (i, (label, server)) in [("no Redis (default)", &local), ("AION_REDIS_URL", &shared)]
            .into_iter()
            .enumerate()
        {
            let paths = story_paths(server.port, "")?;
            load(server.port, &paths, 8, 1.0, &[])?;
            let r = load(server.port, &paths, 50, seconds, &[])?;
            out!(
                "{}",
                row(
                    &format!("GET /api/stories/{{id}}, {label}, round {round}"),
                    &r
                )
            );
            rps[i].push(r["rps"].as_f64().unwrap_or(0.0));
        }
    }
    let mean = |v: &Vec<f64>| v.iter().sum::<f64>() / v.len().max(1) as f64;
    out!(
        "\nthroughput with Redis / without: {:.2} (each request's rate-limit check is a Redis round trip)",
        mean(&rps[1]) / mean(&rps[0]).max(1.0)
    );
    drop((local, shared, redis));
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// Cached story reads straight to one instance, then through HAProxy with 1, 2 and 3
/// instances behind it (`cargo xtask cluster`'s setup). On 2 shared cores more instances
/// cannot be faster: this shows what the balancer and the shared parts cost, and that the
/// cluster answers correctly under load.
pub fn cluster_scenario(bundle: &build::Bundle, seconds: f64) -> Result<(), String> {
    crate::cluster::ensure_tools()?;
    out!("\n### Cached story reads through HAProxy, 50 connections\n");
    out!("{HEADER}");
    let direct = start(bundle, &[])?;
    let paths = story_paths(direct.port, "")?;
    load(direct.port, &paths, 8, 1.0, &[])?;
    let r = load(direct.port, &paths, 50, seconds, &[])?;
    out!(
        "{}",
        row("one instance, direct (no Redis, no balancer)", &r)
    );
    drop(direct);
    for n in 1..=3 {
        let dir =
            std::env::temp_dir().join(format!("aion-bench-cluster-{}-{n}", std::process::id()));
        let cluster = start_cluster(bundle, n, &dir, &[], Store::SharedFile)?;
        let paths = story_paths(cluster.port, "")?;
        load(cluster.port, &paths, 8, 1.0, &[])?;
        let r = load(cluster.port, &paths, 50, seconds, &[])?;
        out!(
            "{}",
            row(&format!("{n} instance(s) behind HAProxy, Redis shared"), &r)
        );
        drop(cluster);
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(())
}

/// `n` instances behind HAProxy in `dir` (made fresh), rate limits off (the load comes from
/// one address), plus `env`; the balancer on a port of our own, the next one if taken.
pub(crate) fn start_cluster(
    bundle: &build::Bundle,
    n: usize,
    dir: &Path,
    env: &[(&str, &str)],
    store: crate::cluster::Store,
) -> Result<Cluster, String> {
    let _ = std::fs::remove_dir_all(dir);
    let mut env = env.to_vec();
    env.extend([
        ("AION_RATE_LIMIT_PER_MINUTE", "0"),
        ("AION_WRITE_RATE_LIMIT_PER_MINUTE", "0"),
        ("AION_DEMO_COVERS", "0"),
        ("AION_ADMIN_TOKEN", crate::bench_server::OPERATOR),
    ]);
    let mut started = Err(String::new());
    for port in 18_480 + 10 * n as u16..18_490 + 10 * n as u16 {
        started = Cluster::start_with(bundle, n, port, dir, &env, store);
        if started.is_ok() {
            break;
        }
    }
    started
}

/// The sum of every sample on `port`'s `/metrics` whose line starts with `prefix`.
pub(crate) fn metric_sum(port: u16, prefix: &str) -> Result<f64, String> {
    Ok(http_get(port, "/metrics")?
        .lines()
        .filter(|l| l.starts_with(prefix))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum())
}

/// Data-cache counters summed over a cluster's instances.
#[derive(Default, Clone, Copy)]
struct DataCache {
    lookups: f64,
    loads: f64,
    shared_hits: f64,
}

impl DataCache {
    fn read(cluster: &Cluster) -> Result<Self, String> {
        let mut c = Self::default();
        for &port in &cluster.instances {
            c.lookups += metric_sum(port, "aion_cache_hits_total{cache=\"data\",tier=\"l1\"}")?
                + metric_sum(port, "aion_cache_misses_total{cache=\"data\",tier=\"l1\"}")?;
            c.loads += metric_sum(port, "aion_cache_policy_loads_total{cache=\"data\"")?;
            c.shared_hits += metric_sum(
                port,
                "aion_cache_hits_total{cache=\"data\",tier=\"shared\"}",
            )?;
        }
        Ok(c)
    }
}

/// Retitles stories through the balancer ten times a second until `stop`; after each
/// acknowledged write, reads the story on every instance directly until all show it. How
/// long each write stayed stale somewhere.
fn writer(
    cluster: &Cluster,
    ids: Vec<String>,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<Result<Vec<Duration>, String>> {
    let (lb, instances) = (cluster.port, cluster.instances.clone());
    std::thread::spawn(move || {
        let mut stale = Vec::new();
        for i in 0.. {
            if stop.load(Ordering::Relaxed) {
                break;
            }
            let id = &ids[i % ids.len()];
            let path = format!("/api/stories/{id}");
            let title = format!("Shared bench {i}");
            let body = serde_json::json!({ "title": title }).to_string();
            let (status, reply) =
                crate::bench_server::as_operator(lb, "PATCH", &path, Some(&body))?;
            if status != 200 {
                return Err(format!("PATCH {path}: {status} {reply}"));
            }
            let acked = Instant::now();
            for &port in &instances {
                while !http_get(port, &path)?.contains(&title) {
                    if acked.elapsed() > Duration::from_secs(5) {
                        return Err(format!("{path} stale on port {port} 5 s after the write"));
                    }
                }
            }
            stale.push(acked.elapsed());
            // A pace, not a wait for anything: ten writes a second.
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(stale)
    })
}

/// 50 connections reading `paths` through the balancer for `seconds` while [`writer`]
/// retitles the first five of them: the load's report, and how long each write stayed
/// stale somewhere (sorted).
pub(crate) fn reads_under_writes(
    cluster: &Cluster,
    paths: &[String],
    seconds: f64,
) -> Result<(serde_json::Value, Vec<Duration>), String> {
    let ids = crate::bench_server::story_ids(paths, 5);
    let stop = Arc::new(AtomicBool::new(false));
    let writes = writer(cluster, ids, stop.clone());
    let r = load(cluster.port, paths, 50, seconds, &[]);
    stop.store(true, Ordering::Relaxed);
    let mut stale = writes.join().map_err(|_| "the writer panicked")??;
    stale.sort();
    Ok((r?, stale))
}

/// Three instances behind HAProxy, 50 connections reading demo stories while a writer
/// retitles some of them through the balancer, with the shared tier off and on, two
/// alternating rounds. Each run starts cold (the first reads on every instance miss).
pub fn shared_scenario(bundle: &build::Bundle, seconds: f64) -> Result<(), String> {
    crate::cluster::ensure_tools()?;
    out!(
        "\n### Three instances behind HAProxy: reads with ten writes a second, shared tier off and on\n"
    );
    out!(
        "| shared tier, round | reads/s | read p99 ms | errors | data-cache lookups | store loads | hit ratio | shared-tier hits | writes | stale anywhere p50 ms | p99 ms | max ms | bus delay p50 ms | p99 ms |"
    );
    out!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let dir = std::env::temp_dir().join(format!("aion-bench-shared-{}", std::process::id()));
    for round in 1..=2 {
        for (label, flag) in [("off", "0"), ("on", "1")] {
            let cluster = start_cluster(
                bundle,
                3,
                &dir,
                &[("AION_SHARED_CACHE", flag)],
                Store::SharedFile,
            )?;
            let paths = story_paths(cluster.port, "")?;
            let before = DataCache::read(&cluster)?;
            let (r, stale) = reads_under_writes(&cluster, &paths, seconds)?;
            let after = DataCache::read(&cluster)?;
            // The highest of the instances' own quantiles.
            let (mut bus_p50, mut bus_p99) = (0.0f64, 0.0f64);
            for &port in &cluster.instances {
                let q = |q: &str| {
                    metric_sum(
                        port,
                        &format!("aion_shared_invalidation_delay_seconds{{quantile=\"{q}\"}}"),
                    )
                };
                bus_p50 = bus_p50.max(q("0.5")?);
                bus_p99 = bus_p99.max(q("0.99")?);
            }
            let ms = |q: f64| {
                stale
                    .get(((stale.len() as f64 - 1.0) * q).round() as usize)
                    .map_or(0.0, |d| d.as_secs_f64() * 1e3)
            };
            let lookups = after.lookups - before.lookups;
            let loads = after.loads - before.loads;
            let f = |k: &str| r[k].as_f64().unwrap_or(0.0);
            out!(
                "| {label}, {round} | {:.0} | {:.2} | {} | {lookups:.0} | {loads:.0} | {:.4} | {:.0} | {} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} |",
                f("rps"),
                f("p99_ms"),
                r["errors"].as_u64().unwrap_or(0),
                1.0 - loads / lookups.max(1.0),
                after.shared_hits - before.shared_hits,
                stale.len(),
                ms(0.5),
                ms(0.99),
                ms(1.0),
                bus_p50 * 1e3,
                bus_p99 * 1e3,
            );
            drop(cluster);
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
    Ok(())
}
