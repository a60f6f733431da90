//! A small HTTP load generator for benchmarks: N keep-alive connections, each sending GET
//! requests one after another, for a fixed time or number of requests, whichever ends first.
//!
//! It measures what a client sees: latency of every request (HDR histogram, exact
//! percentiles), throughput, status classes and response bytes. Loopback only by intent:
//! benchmarks here never leave the machine.

use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering::Relaxed},
    },
    time::{Duration, Instant},
};

use http_body_util::{BodyExt, Empty};
use hyper::{Request, body::Bytes};
use hyper_util::rt::TokioIo;
use serde::Serialize;

/// What to send.
#[derive(Debug, Clone)]
pub struct LoadSpec {
    /// Server address.
    pub addr: SocketAddr,
    /// Paths, used round-robin (each connection starts at a different one).
    pub paths: Vec<String>,
    /// Concurrent keep-alive connections.
    pub connections: usize,
    /// Stop after this long...
    pub duration: Duration,
    /// ...or after this many requests in total.
    pub max_requests: u64,
    /// Extra request headers, e.g. `("accept-encoding", "br")`.
    pub headers: Vec<(String, String)>,
}

/// What was measured.
#[derive(Debug, Clone, Serialize)]
pub struct LoadReport {
    /// Requests completed.
    pub requests: u64,
    /// Requests per second.
    pub rps: f64,
    /// Responses with status 2xx/3xx.
    pub ok: u64,
    /// Responses with another status, or failed requests.
    pub errors: u64,
    /// Latency percentiles in milliseconds.
    pub p50_ms: f64,
    /// 95th percentile.
    pub p95_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// Slowest request.
    pub max_ms: f64,
    /// Mean response body size.
    pub mean_body_bytes: f64,
    /// Wall time of the run.
    pub seconds: f64,
}

/// Runs the load and reports.
pub async fn run(spec: LoadSpec) -> LoadReport {
    let stop = Arc::new(AtomicBool::new(false));
    let issued = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for c in 0..spec.connections {
        let (spec, stop, issued) = (spec.clone(), stop.clone(), issued.clone());
        tasks.spawn(async move { connection(c, &spec, &stop, &issued).await });
    }
    let deadline = tokio::time::sleep(spec.duration);
    tokio::pin!(deadline);
    let mut hist =
        hdrhistogram::Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("bounds");
    let (mut ok, mut errors, mut bytes) = (0u64, 0u64, 0u64);
    let mut merge = |r: Result<Conn, tokio::task::JoinError>| {
        if let Ok(c) = r {
            let _ = hist.add(&c.hist);
            ok += c.ok;
            errors += c.errors;
            bytes += c.bytes;
        }
    };
    loop {
        tokio::select! {
            () = &mut deadline, if !stop.load(Relaxed) => stop.store(true, Relaxed),
            next = tasks.join_next() => match next {
                Some(r) => merge(r),
                None => break,
            },
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    let ms = |q: f64| hist.value_at_quantile(q) as f64 / 1000.0;
    let requests = hist.len();
    LoadReport {
        requests,
        rps: requests as f64 / seconds,
        ok,
        errors,
        p50_ms: ms(0.5),
        p95_ms: ms(0.95),
        p99_ms: ms(0.99),
        max_ms: hist.max() as f64 / 1000.0,
        mean_body_bytes: if ok > 0 {
            bytes as f64 / ok as f64
        } else {
            0.0
        },
        seconds,
    }
}

struct Conn {
    hist: hdrhistogram::Histogram<u64>,
    ok: u64,
    errors: u64,
    bytes: u64,
}

async fn connection(index: usize, spec: &LoadSpec, stop: &AtomicBool, issued: &AtomicU64) -> Conn {
    let mut out = Conn {
        hist: hdrhistogram::Histogram::new_with_bounds(1, 60_000_000, 3).expect("bounds"),
        ok: 0,
        errors: 0,
        bytes: 0,
    };
    let mut sender = None;
    let mut i = index;
    while !stop.load(Relaxed) && issued.fetch_add(1, Relaxed) < spec.max_requests {
        if sender.is_none() {
            match open(spec.addr).await {
                Ok(s) => sender = Some(s),
                Err(_) => {
                    out.errors += 1;
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            }
        }
        let Some(s) = sender.as_mut() else { continue };
        let path = &spec.paths[i % spec.paths.len()];
        i += 1;
        let mut req = Request::get(path.as_str()).header("host", spec.addr.to_string());
        for (k, v) in &spec.headers {
            req = req.header(k.as_str(), v.as_str());
        }
        let Ok(req) = req.body(Empty::<Bytes>::new()) else {
            out.errors += 1;
            continue;
        };
        let t = Instant::now();
        let result = async {
            let res = s.send_request(req).await?;
            let status = res.status();
            let body = res.into_body().collect().await?.to_bytes();
            Ok::<_, hyper::Error>((status, body.len()))
        }
        .await;
        let took = t.elapsed();
        match result {
            Ok((status, len)) => {
                let _ = out.hist.record((took.as_micros() as u64).max(1));
                if status.is_success() || status.is_redirection() {
                    out.ok += 1;
                    out.bytes += len as u64;
                } else {
                    out.errors += 1;
                }
            }
            Err(_) => {
                out.errors += 1;
                sender = None;
            }
        }
    }
    out
}

async fn open(
    addr: SocketAddr,
) -> std::io::Result<hyper::client::conn::http1::SendRequest<Empty<Bytes>>> {
    let tcp = tokio::net::TcpStream::connect(addr).await?;
    tcp.set_nodelay(true)?;
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
        .await
        .map_err(std::io::Error::other)?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(sender)
}
