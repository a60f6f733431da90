//! `cargo xtask bench-http --only hosts`: what running as embedded replicas of a libsql server
//! (sqld on loopback) costs against one database file, side by side in one run: story reads
//! cached and uncached, write latency, how long a write stays stale on another instance
//! under a steady write load, and reads through HAProxy with 1, 2 and 3 replicas with the CPU
//! each request costs (so a reader can project to more cores: on 2 shared cores more
//! instances only add overhead). Everything started here is stopped when its part ends,
//! also on failure.

use std::{
    path::Path,
    time::{Duration, Instant},
};

use crate::{
    bench_server::{HEADER, Server, as_operator, load, row, start, story_paths},
    build,
    cluster::Store,
    results::out,
    scale_bench::{reads_under_writes, start_cluster},
};

/// CPU seconds (user + system) `pid` has used so far.
fn cpu_seconds(pid: u32) -> Result<f64, String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map_err(|e| format!("cannot read the CPU time of {pid}: {e}"))?;
    // The fields after the command name (which may hold spaces) in parentheses.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name; the
    // kernel counts them in USER_HZ, 100 on Linux.
    Ok((ticks(11) + ticks(12)) / 100.0)
}

/// The sum of [`cpu_seconds`] over `pids`.
fn cpu_of(pids: &[u32]) -> Result<f64, String> {
    pids.iter().map(|&p| cpu_seconds(p)).sum()
}

/// Sorted latencies of `n` sequential retitles of `id` on `port`.
fn write_latencies(port: u16, id: &str, n: usize, tag: &str) -> Result<Vec<Duration>, String> {
    let path = format!("/api/stories/{id}");
    let mut took = Vec::with_capacity(n);
    for i in 0..n {
        let body = serde_json::json!({ "title": format!("Hosts bench {tag} {i}") }).to_string();
        let asked = Instant::now();
        let (status, reply) = as_operator(port, "PATCH", &path, Some(&body))?;
        took.push(asked.elapsed());
        if status != 200 {
            return Err(format!("PATCH {path} on {port}: {status} {reply}"));
        }
    }
    took.sort();
    Ok(took)
}

/// The `q` quantile of sorted durations, in milliseconds.
fn ms(sorted: &[Duration], q: f64) -> f64 {
    sorted
        .get(((sorted.len() as f64 - 1.0) * q).round() as usize)
        .map_or(0.0, |d| d.as_secs_f64() * 1e3)
}

/// One instance on a file and one embedded replica of a fresh sqld primary in `dir`, with
/// `env`; the primary's guard comes first so that it outlives the replica.
fn pair(
    bundle: &build::Bundle,
    dir: &Path,
    env: &[(&str, &str)],
) -> Result<(crate::process::Guard, Server, Server), String> {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let (primary, url) = crate::sqld::primary(dir)?;
    let file = start(bundle, env)?;
    let mut with_url = env.to_vec();
    with_url.push(("AION_DB_URL", url.as_str()));
    let replica = start(bundle, &with_url)?;
    Ok((primary, file, replica))
}

/// Reads (cached, then with `AION_CACHE=0`) and writes on a file instance and a replica,
/// alternating three rounds.
fn one_instance(bundle: &build::Bundle, dir: &Path, seconds: f64) -> Result<(), String> {
    out!("\n### One instance: a database file vs an embedded replica of sqld, 50 connections\n");
    out!("| scenario | req/s | p50 ms | p95 ms | p99 ms | errors | CPU µs/request |");
    out!("|---|---:|---:|---:|---:|---:|---:|");
    // Uncached: the operator's story list with the data cache off. A personal list is never
    // kept in the response cache, so each request runs its query on the store.
    let bearer = format!("authorization:Bearer {}", crate::bench_server::OPERATOR);
    let uncached = ["--header", bearer.as_str()];
    for (what, cache) in [
        ("GET /api/stories/{id}, cached", "1"),
        (
            "GET /api/stories?limit=20 as the operator, AION_CACHE=0 (a store query each)",
            "0",
        ),
    ] {
        let (_primary, file, replica) = pair(bundle, dir, &[("AION_CACHE", cache)])?;
        let extra: &[&str] = if cache == "1" { &[] } else { &uncached };
        let mut rps = [Vec::new(), Vec::new()];
        for round in 1..=3 {
            for (i, (label, server)) in [("file", &file), ("replica", &replica)]
                .into_iter()
                .enumerate()
            {
                let paths = if cache == "1" {
                    story_paths(server.port, "")?
                } else {
                    vec!["/api/stories?limit=20".to_owned()]
                };
                load(server.port, &paths, 8, 1.0, extra)?;
                let cpu = cpu_seconds(server.pid())?;
                let r = load(server.port, &paths, 50, seconds, extra)?;
                let cpu = cpu_seconds(server.pid())? - cpu;
                let requests = r["requests"].as_f64().unwrap_or(0.0).max(1.0);
                let line = row(&format!("{what}, {label}, round {round}"), &r);
                out!("{line} {:.0} |", cpu / requests * 1e6);
                rps[i].push(r["rps"].as_f64().unwrap_or(0.0));
            }
        }
        let mean = |v: &Vec<f64>| v.iter().sum::<f64>() / v.len().max(1) as f64;
        out!(
            "\n{} reads/s, replica / file: {:.2}\n",
            if cache == "1" { "cached" } else { "uncached" },
            mean(&rps[1]) / mean(&rps[0]).max(1.0)
        );
        if cache == "1" {
            writes(&file, &replica)?;
            out!("| scenario | req/s | p50 ms | p95 ms | p99 ms | errors | CPU µs/request |");
            out!("|---|---:|---:|---:|---:|---:|---:|");
        }
    }
    Ok(())
}

/// Sequential retitles on each, 100 per round, three alternating rounds.
fn writes(file: &Server, replica: &Server) -> Result<(), String> {
    out!("| writes (PATCH a story's title, one at a time) | round | p50 ms | p99 ms | max ms |");
    out!("|---|---:|---:|---:|---:|");
    let first = |s: &Server| -> Result<String, String> {
        crate::bench_server::story_ids(&story_paths(s.port, "")?, 1)
            .pop()
            .ok_or_else(|| "no story id".to_owned())
    };
    let ids = [first(file)?, first(replica)?];
    let mut p50 = [Vec::new(), Vec::new()];
    for round in 1..=3 {
        for (i, (label, server)) in [
            ("file (local)", file),
            ("replica (through the primary)", replica),
        ]
        .into_iter()
        .enumerate()
        {
            let took = write_latencies(server.port, &ids[i], 100, &format!("{round}"))?;
            out!(
                "| {label} | {round} | {:.2} | {:.2} | {:.2} |",
                ms(&took, 0.5),
                ms(&took, 0.99),
                ms(&took, 1.0)
            );
            p50[i].push(ms(&took, 0.5));
        }
    }
    let mean = |v: &Vec<f64>| v.iter().sum::<f64>() / v.len().max(1) as f64;
    out!(
        "\nwrite p50, replica / file: {:.2}\n",
        mean(&p50[1]) / mean(&p50[0]).max(1e-9)
    );
    Ok(())
}

/// Two instances behind HAProxy under 50 connections of reads while ten writes a second go
/// through the balancer: how long each write is stale on some instance, on one file and on
/// replicas of sqld, two alternating rounds.
fn lag_under_writes(bundle: &build::Bundle, dir: &Path, seconds: f64) -> Result<(), String> {
    out!("\n### Two instances behind HAProxy: reads with ten writes a second, file vs replicas\n");
    out!(
        "| store, round | reads/s | read p99 ms | errors | writes | stale anywhere p50 ms | p99 ms | max ms |"
    );
    out!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for round in 1..=2 {
        for (label, store) in [
            ("one file", Store::SharedFile),
            ("sqld replicas", Store::Sqld),
        ] {
            let cluster = start_cluster(bundle, 2, dir, &[], store)?;
            let paths = story_paths(cluster.port, "")?;
            load(cluster.port, &paths, 8, 1.0, &[])?;
            let (r, stale) = reads_under_writes(&cluster, &paths, seconds)?;
            let f = |k: &str| r[k].as_f64().unwrap_or(0.0);
            out!(
                "| {label}, {round} | {:.0} | {:.2} | {} | {} | {:.2} | {:.2} | {:.2} |",
                f("rps"),
                f("p99_ms"),
                r["errors"].as_u64().unwrap_or(0),
                stale.len(),
                ms(&stale, 0.5),
                ms(&stale, 0.99),
                ms(&stale, 1.0),
            );
            drop(cluster);
            let _ = std::fs::remove_dir_all(dir);
        }
    }
    Ok(())
}

/// Cached reads through HAProxy with 1, 2 and 3 replicas of one sqld primary, with the CPU
/// each request cost the instances and the balancer.
fn replicas_behind_haproxy(bundle: &build::Bundle, dir: &Path, seconds: f64) -> Result<(), String> {
    out!("\n### Cached story reads through HAProxy, 1 to 3 sqld replicas, 50 connections\n");
    out!("{HEADER}");
    let mut cpu_rows = Vec::new();
    for n in 1..=3 {
        let cluster = start_cluster(bundle, n, dir, &[], Store::Sqld)?;
        let (instances, balancer) = cluster.pids();
        let paths = story_paths(cluster.port, "")?;
        load(cluster.port, &paths, 8, 1.0, &[])?;
        let (cpu_i, cpu_b) = (cpu_of(&instances)?, cpu_seconds(balancer)?);
        let r = load(cluster.port, &paths, 50, seconds, &[])?;
        let (cpu_i, cpu_b) = (cpu_of(&instances)? - cpu_i, cpu_seconds(balancer)? - cpu_b);
        let requests = r["requests"].as_f64().unwrap_or(0.0).max(1.0);
        out!("{}", row(&format!("{n} replica(s) behind HAProxy"), &r));
        cpu_rows.push(format!(
            "| {n} | {:.0} | {:.0} |",
            cpu_i / requests * 1e6,
            cpu_b / requests * 1e6
        ));
        drop(cluster);
        let _ = std::fs::remove_dir_all(dir);
    }
    out!("\n| replicas | instances' CPU µs/request | HAProxy's CPU µs/request |");
    out!("|---:|---:|---:|");
    for line in cpu_rows {
        out!("{line}");
    }
    Ok(())
}

/// The whole scenario (see the module comment).
pub fn hosts_scenario(bundle: &build::Bundle, seconds: f64) -> Result<(), String> {
    crate::cluster::ensure_tools()?;
    crate::sqld::ensure()?;
    let dir = std::env::temp_dir().join(format!("aion-bench-hosts-{}", std::process::id()));
    let result = one_instance(bundle, &dir, seconds)
        .and_then(|()| lag_under_writes(bundle, &dir, seconds))
        .and_then(|()| replicas_behind_haproxy(bundle, &dir, seconds));
    let _ = std::fs::remove_dir_all(&dir);
    result
}
