//! `cargo xtask bench-http`: HTTP benchmarks against the release server, on loopback,
//! bounded in time, each next to its baseline, printed as Markdown tables for BENCHMARKS.md.
//!
//! Each server runs from a fresh temp directory with demo data and rate limits off, and is
//! stopped when its scenario ends (also on failure). What each scenario prints is also
//! recorded in `benchmarks/results.json` (see `results`).

use std::{process::Command, time::Duration};

use crate::{
    bench_server::{HEADER, load, load_bin, row, start, story_paths},
    build,
    process::{Guard, root, run, wait_for_http},
    results::out,
    setup,
};

/// Story reads through the HTTP API with the cache on and off, side by side.
fn cache_scenario(bundle: &build::Bundle, seconds: f64) -> Result<(), String> {
    out!("\n### Story reads through the HTTP API, cache on vs off\n");
    out!("{HEADER}");
    for (label, cache) in [("cache off (AION_CACHE=0)", "0"), ("cache on", "1")] {
        let server = start(bundle, &[("AION_CACHE", cache)])?;
        for (what, suffix) in [
            ("story", ""),
            ("tree", "/tree"),
            ("view", "/view"),
            ("outline", "/outline"),
        ] {
            let paths = story_paths(server.port, suffix)?;
            load(server.port, &paths, 8, 1.0, &[])?; // warm both (page cache, or the cache)
            for connections in [1, 50] {
                let r = load(server.port, &paths, connections, seconds, &[])?;
                out!(
                    "{}",
                    row(&format!("GET {what}, {connections} conn, {label}"), &r)
                );
            }
        }
    }
    Ok(())
}

/// The same route bare and through the full middleware stack, alternating three times so drift
/// on a shared machine hits both sides.
fn stack_scenario(seconds: f64) -> Result<(), String> {
    out!("\n### Middleware cost: GET /hello (600-byte JSON), 50 connections\n");
    out!("{HEADER}");
    let mut rps = [Vec::new(), Vec::new()];
    for round in 1..=3 {
        for (i, mode) in ["bare", "full"].into_iter().enumerate() {
            let (mut guard, port) = Guard::spawn_server(
                "stack server",
                Command::new(load_bin()).args(["serve", mode, "--port", "0"]),
                Duration::from_secs(30),
            )?;
            wait_for_http(port, "/hello", Duration::from_secs(30), &mut guard)?;
            load(port, &["/hello".into()], 8, 1.0, &[])?;
            let r = load(port, &["/hello".into()], 50, seconds / 2.0, &[])?;
            rps[i].push(r["rps"].as_f64().unwrap_or(0.0));
            let name = if mode == "bare" {
                "bare axum route"
            } else {
                "full AION stack"
            };
            out!("{}", row(&format!("{name}, round {round}"), &r));
        }
    }
    let mean = |v: &Vec<f64>| v.iter().sum::<f64>() / v.len().max(1) as f64;
    let (bare, full) = (mean(&rps[0]), mean(&rps[1]));
    out!(
        "\nthroughput: bare {bare:.0} req/s, full stack {full:.0} req/s: the stack costs {:.1} % (target: at most 15 %)",
        (1.0 - full / bare) * 100.0
    );
    Ok(())
}

/// Server-rendered pages at one keep-alive connection (guards TCP_NODELAY), cached reads at
/// 1,000 connections, and response sizes with and without compression.
fn app_scenarios(bundle: &build::Bundle, seconds: f64) -> Result<(), String> {
    let server = start(bundle, &[])?;
    let stories = story_paths(server.port, "")?;
    let first = stories[0].trim_start_matches("/api");
    out!("\n### Server-rendered pages, 1 keep-alive connection, browser-like accept-encoding\n");
    out!("{HEADER}");
    for path in ["/", "/stories", first] {
        let r = load(
            server.port,
            &[path.to_owned()],
            1,
            seconds,
            &["--header", "accept-encoding:br, gzip"],
        )?;
        out!(
            "{}",
            row(
                &format!(
                    "GET {}",
                    if path == first {
                        "/stories/{id} (reader)"
                    } else {
                        path
                    }
                ),
                &r
            )
        );
    }
    out!("\n### Cached reads at 1,000 concurrent connections\n");
    out!("{HEADER}");
    load(server.port, &stories, 50, 1.0, &[])?;
    let r = load(server.port, &stories, 1000, seconds, &[])?;
    out!(
        "{}",
        row("GET /api/stories/{id} (data cache), 1,000 conn", &r)
    );
    let trees = story_paths(server.port, "/tree")?;
    load(server.port, &trees, 50, 1.0, &[])?;
    let r = load(server.port, &trees, 1000, seconds, &[])?;
    out!(
        "{}",
        row(
            "GET /api/stories/{id}/tree (response cache), 1,000 conn",
            &r
        )
    );

    out!("\n### Response bytes by Accept-Encoding\n");
    out!("| response | identity | gzip | br | zstd |\n|---|---:|---:|---:|---:|");
    for (name, path) in [
        ("story page (HTML)", first.to_owned()),
        ("story list page (HTML)", "/stories".to_owned()),
        ("story list (JSON, 50 stories)", "/api/stories".to_owned()),
        ("story tree (JSON)", trees[0].clone()),
    ] {
        let mut cells = Vec::new();
        for enc in ["identity", "gzip", "br", "zstd"] {
            let header = format!("accept-encoding:{enc}");
            let r = load(
                server.port,
                std::slice::from_ref(&path),
                1,
                5.0,
                &["--requests", "3", "--header", &header],
            )?;
            cells.push(format!(
                "{:.0}",
                r["mean_body_bytes"].as_f64().unwrap_or(0.0)
            ));
        }
        out!("| {name} | {} |", cells.join(" | "));
    }
    Ok(())
}

/// Server-rendered pages with the page cache and without (`AION_PAGE_CACHE=0`), two servers
/// side by side in one run, next to the JSON read of the same data; then the cost of
/// compressing an uncached page against sending it plain.
fn pages_scenario(bundle: &build::Bundle, seconds: f64) -> Result<(), String> {
    let cached = start(bundle, &[])?;
    let uncached = start(bundle, &[("AION_PAGE_CACHE", "0")])?;
    // Each server has its own demo stories: the pages of its 50 newest, round-robin.
    let pages_of = |port: u16| -> Result<[(String, Vec<String>); 4], String> {
        let stories = story_paths(port, "")?;
        Ok([
            (
                "GET /stories/{id} (reader)".into(),
                stories
                    .iter()
                    .map(|p| p.trim_start_matches("/api").to_owned())
                    .collect(),
            ),
            ("GET /stories (list page)".into(), vec!["/stories".into()]),
            ("GET /".into(), vec!["/".into()]),
            ("GET /api/stories/{id} (JSON, same story)".into(), stories),
        ])
    };
    let (cached_pages, uncached_pages) = (pages_of(cached.port)?, pages_of(uncached.port)?);
    let json_list = (
        "GET /api/stories?limit=100 (JSON, same list)".to_owned(),
        vec!["/api/stories?limit=100".to_owned()],
    );
    let browser = ["--header", "accept-encoding:br, gzip"];
    out!(
        "\n### Server-rendered pages, cached and uncached, browser-like accept-encoding (br, gzip)\n"
    );
    out!("{HEADER}");
    let mut rps = std::collections::HashMap::new();
    for connections in [1, 50, 1000] {
        for (i, (name, paths)) in cached_pages.iter().chain([&json_list]).enumerate() {
            let is_json = name.contains("JSON");
            let sides: Vec<(&str, u16, &[String])> = if is_json {
                vec![("", cached.port, paths.as_slice())]
            } else {
                vec![
                    ("cached", cached.port, paths.as_slice()),
                    ("uncached", uncached.port, uncached_pages[i].1.as_slice()),
                ]
            };
            for (label, port, paths) in sides {
                load(port, paths, 8, 1.0, &browser)?; // warm
                let r = load(port, paths, connections, seconds, &browser)?;
                let label = if label.is_empty() {
                    String::new()
                } else {
                    format!(", {label}")
                };
                out!("{}", row(&format!("{name}{label}, {connections} conn"), &r));
                rps.insert((i, label, connections), r["rps"].as_f64().unwrap_or(0.0));
            }
        }
    }
    let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { 0.0 };
    let at50 = |i: usize, label: &str| rps.get(&(i, label.to_owned(), 50)).copied().unwrap_or(0.0);
    out!(
        "\nat 50 connections: cached reader page / JSON story read = {:.2}; cached list page / JSON list read = {:.2} (target: at least 0.5)",
        ratio(at50(0, ", cached"), at50(4, "")),
        ratio(at50(1, ", cached"), at50(5, "")),
    );

    out!("\n### Compressing uncached pages: br, gzip against identity, 50 connections\n");
    out!("{HEADER}");
    for (name, paths) in uncached_pages.iter().take(4) {
        let mut pair = [0.0; 2];
        for (j, accept) in ["identity", "br, gzip"].into_iter().enumerate() {
            let header = format!("accept-encoding:{accept}");
            load(uncached.port, paths, 8, 1.0, &["--header", &header])?;
            let r = load(uncached.port, paths, 50, seconds, &["--header", &header])?;
            out!("{}", row(&format!("{name}, uncached, {accept}"), &r));
            pair[j] = r["rps"].as_f64().unwrap_or(0.0);
        }
        out!(
            "| {name}: compression costs {:.0} % of identity throughput (target: at most 30 %) | | | | | |",
            (1.0 - ratio(pair[1], pair[0])) * 100.0
        );
    }
    Ok(())
}

/// Connections that hold the server's attention without finishing a request: half send
/// their request head a byte a second, half open and send nothing. Dropped (closed) when the
/// value is dropped; the server itself closes them after its header timeout.
struct Hanging {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Hanging {
    fn open(port: u16, count: usize) -> Result<Self, String> {
        use std::{io::Write, sync::atomic::Ordering::Relaxed};
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let mut conns = Vec::with_capacity(count);
        for _ in 0..count {
            conns.push(
                std::net::TcpStream::connect(("127.0.0.1", port))
                    .map_err(|e| format!("cannot open a slow connection: {e}"))?,
            );
        }
        let (slow, silent): (Vec<_>, Vec<_>) =
            conns.into_iter().enumerate().partition(|(i, _)| i % 2 == 0);
        let mut threads = Vec::new();
        let s = stop.clone();
        threads.push(std::thread::spawn(move || {
            let mut slow: Vec<std::net::TcpStream> = slow.into_iter().map(|(_, c)| c).collect();
            let head = b"GET /api/stories HTTP/1.1\r\nHost: x\r\nX-Slow: ";
            let mut sent = 0;
            while !s.load(Relaxed) {
                let b = head.get(sent).copied().unwrap_or(b'a');
                for c in &mut slow {
                    let _ = c.write_all(&[b]);
                }
                sent += 1;
                std::thread::sleep(Duration::from_secs(1));
            }
        }));
        let s = stop.clone();
        threads.push(std::thread::spawn(move || {
            let _silent = silent;
            while !s.load(Relaxed) {
                std::thread::sleep(Duration::from_millis(100));
            }
        }));
        Ok(Self { stop, threads })
    }
}

impl Drop for Hanging {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// Cached story reads at 50 connections, alone and while 400 slow or silent connections
/// hang on (within the server's 10 s header timeout), alternating so drift hits both.
fn slow_clients_scenario(bundle: &build::Bundle, seconds: f64) -> Result<(), String> {
    out!("\n### Normal reads while 400 connections send their head slowly or not at all\n");
    out!("{HEADER}");
    let server = start(bundle, &[])?;
    let stories = story_paths(server.port, "")?;
    load(server.port, &stories, 50, 1.0, &[])?;
    // Each measured run fits within the header timeout, so the hanging connections are
    // still open for all of it.
    let run_for = seconds.min(8.0);
    let mut p95 = [Vec::new(), Vec::new()];
    for round in 1..=3 {
        let r = load(server.port, &stories, 50, run_for, &[])?;
        p95[0].push(r["p95_ms"].as_f64().unwrap_or(0.0));
        out!(
            "{}",
            row(
                &format!("GET /api/stories/{{id}}, alone, round {round}"),
                &r
            )
        );
        let hanging = Hanging::open(server.port, 400)?;
        let r = load(server.port, &stories, 50, run_for, &[])?;
        drop(hanging);
        p95[1].push(r["p95_ms"].as_f64().unwrap_or(0.0));
        out!(
            "{}",
            row(
                &format!("GET /api/stories/{{id}}, 400 hanging, round {round}"),
                &r
            )
        );
    }
    let mean = |v: &Vec<f64>| v.iter().sum::<f64>() / v.len().max(1) as f64;
    out!(
        "\np95 of normal reads: alone {:.2} ms, with 400 hanging connections {:.2} ms (ratio {:.2})",
        mean(&p95[0]),
        mean(&p95[1]),
        mean(&p95[1]) / mean(&p95[0]).max(1e-9)
    );
    Ok(())
}

/// Runs every HTTP benchmark.
pub fn run_all(args: &[String]) -> Result<(), String> {
    let seconds: f64 = args
        .iter()
        .position(|a| a == "--seconds")
        .and_then(|i| args.get(i + 1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(10.0);
    setup::ensure(setup::Needs::default())?;
    let bundle = build::release()?;
    run(Command::new("cargo")
        .args(["build", "--release", "--package", "aion-load"])
        .current_dir(root()))?;
    let only = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1))
        .cloned();
    let want = |name: &str| only.as_deref().is_none_or(|o| o == name);
    let scenario = |name: &str, f: &dyn Fn() -> Result<(), String>| {
        if !want(name) {
            return Ok(());
        }
        let command = format!("cargo xtask bench-http --only {name} --seconds {seconds}");
        crate::results::record(name, &command, f)
    };
    scenario("stack", &|| stack_scenario(seconds))?;
    scenario("app", &|| app_scenarios(&bundle, seconds))?;
    scenario("cache", &|| cache_scenario(&bundle, seconds))?;
    scenario("pages", &|| pages_scenario(&bundle, seconds))?;
    scenario("redis", &|| {
        crate::scale_bench::redis_scenario(&bundle, seconds)
    })?;
    scenario("cluster", &|| {
        crate::scale_bench::cluster_scenario(&bundle, seconds)
    })?;
    scenario("shared", &|| {
        crate::scale_bench::shared_scenario(&bundle, seconds)
    })?;
    scenario("hosts", &|| {
        crate::hosts_bench::hosts_scenario(&bundle, seconds)
    })?;
    scenario("slow-clients", &|| slow_clients_scenario(&bundle, seconds))?;
    scenario("accounts", &|| {
        crate::accounts_bench::accounts_scenario(&bundle, seconds)
    })?;
    Ok(())
}
