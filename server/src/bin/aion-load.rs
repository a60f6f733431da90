//! `aion-load`: the project's HTTP load generator (loopback only).
//!
//! ```text
//! aion-load --addr 127.0.0.1:8080 --path /api/stories --connections 50 --seconds 10 \
//!           [--requests 100000] [--path ...] [--header accept-encoding:br]
//! ```
//! Prints one JSON report (requests, rps, p50/p95/p99/max in ms, errors, body bytes).

use std::{net::SocketAddr, time::Duration};

use server::http::load::{LoadSpec, run};

fn main() {
    let spec = match parse(std::env::args().skip(1).collect()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("aion-load: {e}");
            std::process::exit(2);
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
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
