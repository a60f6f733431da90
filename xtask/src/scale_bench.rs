//! `cargo xtask bench-http --only redis|cluster`: what sharing costs. One instance with and
//! without Redis side by side, and cached reads through HAProxy with 1, 2 and 3 instances
//! (the setup of `cargo xtask cluster`). Everything started here is stopped when its
//! scenario ends, also on failure.

use crate::{
    build,
    http_bench::{HEADER, load, row, start, story_paths},
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
    println!("\n### Redis on one instance: cached story reads, 50 connections, rate limits on\n");
    println!("{HEADER}");
    let mut rps = [Vec::new(), Vec::new()];
    for round in 1..=3 {
        for (i, (label, server)) in [("no Redis (default)", &local), ("AION_REDIS_URL", &shared)]
            .into_iter()
            .enumerate()
        {
            let paths = story_paths(server.port, "")?;
            load(server.port, &paths, 8, 1.0, &[])?;
            let r = load(server.port, &paths, 50, seconds, &[])?;
            println!(
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
    println!(
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
    println!("\n### Cached story reads through HAProxy, 50 connections\n");
    println!("{HEADER}");
    let direct = start(bundle, &[])?;
    let paths = story_paths(direct.port, "")?;
    load(direct.port, &paths, 8, 1.0, &[])?;
    let r = load(direct.port, &paths, 50, seconds, &[])?;
    println!(
        "{}",
        row("one instance, direct (no Redis, no balancer)", &r)
    );
    drop(direct);
    for n in 1..=3 {
        let dir =
            std::env::temp_dir().join(format!("aion-bench-cluster-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        // A port of our own for the balancer: the next one if it is taken.
        let mut started = Err(String::new());
        for port in 18_480 + 10 * n as u16..18_490 + 10 * n as u16 {
            // Limits off, as for every server here (the load comes from one address).
            let limits = [
                ("AION_RATE_LIMIT_PER_MINUTE", "0"),
                ("AION_WRITE_RATE_LIMIT_PER_MINUTE", "0"),
            ];
            started = crate::cluster::Cluster::start(bundle, n, port, &dir, &limits);
            if started.is_ok() {
                break;
            }
        }
        let cluster = started?;
        let paths = story_paths(cluster.port, "")?;
        load(cluster.port, &paths, 8, 1.0, &[])?;
        let r = load(cluster.port, &paths, 50, seconds, &[])?;
        println!(
            "{}",
            row(&format!("{n} instance(s) behind HAProxy, Redis shared"), &r)
        );
        drop(cluster);
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(())
}
