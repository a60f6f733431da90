//! `aion-load`: the project's HTTP load generator (loopback only).
//!
//! ```text
//! aion-load --addr 127.0.0.1:8080 --path /api/stories --connections 50 --seconds 10 \
//!           [--requests 100000] [--path ...] [--header accept-encoding:br]
//! ```
//! Prints one JSON report (requests, rps, p50/p95/p99/max in ms, errors, body bytes).
//!
//! ```text
//! aion-load serve <bare|full> --port N
//! ```
//! Serves `GET /hello` (a 600-byte JSON answer) either on a bare axum router or through the
//! full AION middleware stack, for the side-by-side overhead benchmark.

use std::{net::SocketAddr, sync::Arc, time::Duration};

// The AION server runs on mimalloc; so do both sides of the stack benchmark.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod client;

use axum::{Router, http::header, routing::get};
use client::{LoadSpec, run};
use server::{
    cache::{CachePolicy, TieredCache},
    http::{
        HttpStack,
        rate_limit::{Limit, RateLimits},
        response_cache::{CacheDecision, ResponseCache},
    },
    metrics::RequestMetrics,
};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("serve") {
        if let Err(e) = serve(&args[1..]) {
            eprintln!("aion-load serve: {e}");
            std::process::exit(2);
        }
        return;
    }
    let spec = match parse(args) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("aion-load: {e}");
            std::process::exit(2);
        }
    };
    // One thread: the load generator shares the machine with the server, and every cycle it
    // spends is one the server does not get (a second thread measured slower, not faster).
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("the operating system can start a tokio runtime");
    let report = runtime.block_on(run(spec));
    println!(
        "{}",
        serde_json::to_string(&report).expect("report serialises")
    );
}

fn parse(args: Vec<String>) -> Result<LoadSpec, String> {
    let mut spec = LoadSpec {
        addr: "127.0.0.1:8080".parse().expect("literal"),
        paths: Vec::new(),
        connections: 1,
        duration: Duration::from_secs(10),
        max_requests: u64::MAX,
        headers: Vec::new(),
    };
    let mut it = args.into_iter();
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--addr" => {
                let addr: SocketAddr = value.parse().map_err(|_| format!("bad --addr {value}"))?;
                if !addr.ip().is_loopback() {
                    return Err("load tests only target loopback addresses".into());
                }
                spec.addr = addr;
            }
            "--path" => spec.paths.push(value),
            "--connections" => spec.connections = value.parse().map_err(|_| "bad --connections")?,
            "--seconds" => {
                spec.duration = Duration::from_secs_f64(value.parse().map_err(|_| "bad --seconds")?)
            }
            "--requests" => spec.max_requests = value.parse().map_err(|_| "bad --requests")?,
            "--header" => {
                let (k, v) = value.split_once(':').ok_or("--header takes name:value")?;
                spec.headers
                    .push((k.trim().to_owned(), v.trim().to_owned()));
            }
            other => return Err(format!("unknown option {other}")),
        }
    }
    if spec.paths.is_empty() {
        return Err("give at least one --path".into());
    }
    Ok(spec)
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Kind {
    Api,
}

impl CachePolicy for Kind {
    const ALL: &'static [Self] = &[Kind::Api];
    fn ttl(&self) -> Duration {
        Duration::from_secs(300)
    }
    fn name(&self) -> &'static str {
        "api"
    }
}

/// Serves `/hello` bare or through the full stack (every layer active: metrics, request ids,
/// panic guard, security headers, a rate limit high enough never to refuse, compression,
/// timeout, body limit, and the response cache deciding per request).
fn serve(args: &[String]) -> Result<(), String> {
    let mode = args.first().ok_or("serve needs bare or full")?.clone();
    let port: u16 = match args.get(1).map(String::as_str) {
        Some("--port") => args
            .get(2)
            .and_then(|p| p.parse().ok())
            .ok_or("bad --port")?,
        _ => 0,
    };
    let body = format!(
        "{{\"items\":[{}]}}",
        (0..12)
            .map(|i| format!("{{\"id\":{i},\"title\":\"story {i}\"}}"))
            .collect::<Vec<_>>()
            .join(",")
    );
    let router = Router::new().route(
        "/hello",
        get(move || {
            let body = body.clone();
            async move { ([(header::CONTENT_TYPE, "application/json")], body) }
        }),
    );
    let router = match mode.as_str() {
        "bare" => router,
        "full" => {
            let limit = Limit {
                per_minute: 100_000_000,
                burst: 1_000_000,
            };
            HttpStack {
                metrics: Arc::new(RequestMetrics::default()),
                rate_limits: Some(Arc::new(RateLimits::new(limit, limit, None, vec![]))),
                response_cache: Some(Arc::new(ResponseCache::new(
                    TieredCache::<String, _, Kind>::builder().build(),
                    1 << 20,
                    |_: &axum::extract::Request| CacheDecision::Pass,
                ))),
                body_limit: 64 << 20,
                timeout: Duration::from_secs(30),
                page_policy: server::http::security::page_policy(&[]),
            }
            .apply(router)
        }
        other => return Err(format!("unknown mode {other}")),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("the operating system can start a tokio runtime");
    runtime.block_on(async move {
        server::http::serve(
            SocketAddr::from(([127, 0, 0, 1], port)),
            router,
            |addr| println!("listening on http://{addr}"),
            server::http::shutdown_signal(),
            server::http::ServeOptions {
                grace: Duration::from_secs(1),
                ..server::http::ServeOptions::default()
            },
        )
        .await
        .map_err(|e| e.to_string())
    })
}
