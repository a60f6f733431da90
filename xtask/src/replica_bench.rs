//! `cargo xtask bench-replica`: what continuous replication costs and gives, on the release
//! server with the real Litestream, loopback only, bounded (about eight minutes, five of
//! them seeding the 100,000-story database).
//!
//! - Write throughput of `POST /api/stories` without and with Litestream replicating, in
//!   alternating rounds of the same length (the machine is shared: ratios, not absolutes).
//! - Replication lag under a steady write load (20 writes/s): for each acknowledged write,
//!   the time until the next file appears in the replica (a new L0 file holds every change
//!   Litestream has read from the WAL; polled every 2 ms).
//! - Restore time of the 100,000-story demo database from its replica, with and without
//!   Litestream's full integrity check.

use std::{
    io::{Read, Write},
    path::{Path, PathBuf},
    process::{Command, Stdio},
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering::Relaxed},
    },
    time::{Duration, Instant},
};

use crate::{
    build, litestream,
    process::{Guard, run, wait_for_http, without_cargo_env},
    setup,
};

const ROUND: Duration = Duration::from_secs(8);
const WRITERS: usize = 8;

/// A scratch directory removed at the end, also on failure.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A running server (and its Litestream, if replicated); both stopped when dropped.
struct Node {
    port: u16,
    litestream_guard: Option<Guard>,
    server_guard: Guard,
}

fn config(db: &Path, replica: &Path, socket: &Path) -> String {
    litestream::Replication {
        db,
        replica_url: &format!("file://{}", replica.display()),
        sync_interval: "1s",
        socket,
    }
    .config()
}

fn start(bundle: &build::Bundle, dir: &Path, replicated: bool) -> Result<Node, String> {
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let db = dir.join("aion.db");
    let socket = dir.join("ls.sock");
    let bin = litestream::binary();
    let mut cmd = Command::new(bundle.server());
    cmd.current_dir(dir)
        .env("IP", "127.0.0.1")
        .env("PORT", "0")
        .env("AION_DB_PATH", &db)
        .env("AION_SEED_DEMO", "0")
        .env("AION_RATE_LIMIT_PER_MINUTE", "0")
        .env("AION_WRITE_RATE_LIMIT_PER_MINUTE", "0")
        .env("RUST_LOG", "warn,app::serve=info");
    if replicated {
        cmd.env("AION_LITESTREAM_BIN", &bin)
            .env("AION_LITESTREAM_SOCKET", &socket);
    }
    let (mut server, port) =
        Guard::spawn_server("bench server", &mut cmd, Duration::from_secs(60))?;
    wait_for_http(port, "/api/health", Duration::from_secs(60), &mut server)?;
    let litestream = if replicated {
        let yml = dir.join("litestream.yml");
        std::fs::write(&yml, config(&db, &dir.join("replica"), &socket))
            .map_err(|e| e.to_string())?;
        Some(litestream::replicate(&yml)?)
    } else {
        None
    };
    Ok(Node {
        port,
        litestream_guard: litestream,
        server_guard: server,
    })
}

/// One `POST /api/stories` (HTTP/1.0, a connection per request); true on 200.
fn create(port: u16, n: u64) -> bool {
    let body = format!("{{\"title\":\"Replication bench {n}\"}}");
    let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_nodelay(true);
    let req = format!(
        "POST /api/stories HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let mut reply = Vec::new();
    s.write_all(req.as_bytes()).is_ok()
        && s.read_to_end(&mut reply).is_ok()
        && reply.get(8..12) == Some(b" 200")
}

/// Writes with `WRITERS` threads for `ROUND`; acknowledged writes per second.
fn throughput(port: u16) -> f64 {
    let done = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let threads: Vec<_> = (0..WRITERS)
        .map(|t| {
            let done = done.clone();
            std::thread::spawn(move || {
                let mut n = t as u64 * 1_000_000;
                while start.elapsed() < ROUND {
                    if create(port, n) {
                        done.fetch_add(1, Relaxed);
                    }
                    n += 1;
                }
            })
        })
        .collect();
    for t in threads {
        let _ = t.join();
    }
    done.load(Relaxed) as f64 / start.elapsed().as_secs_f64()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// Lag of each write of a steady load until a new replica file appears, in ms.
fn lag(port: u16, replica: &Path) -> Result<Vec<f64>, String> {
    let l0 = replica.join("ltx").join("0");
    let stop = Arc::new(AtomicBool::new(false));
    let epoch = Instant::now();
    let watcher = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            // Arrival times (since `epoch`) of new replica files.
            let mut seen = std::collections::HashSet::new();
            let mut arrivals = Vec::new();
            while !stop.load(Relaxed) {
                if let Ok(dir) = std::fs::read_dir(&l0) {
                    for e in dir.flatten() {
                        let name = e.file_name();
                        if name.to_string_lossy().ends_with(".ltx") && seen.insert(name) {
                            arrivals.push(epoch.elapsed().as_secs_f64() * 1000.0);
                        }
                    }
                }
                std::thread::sleep(Duration::from_millis(2));
            }
            arrivals
        })
    };
    std::thread::sleep(Duration::from_secs(2)); // files already there are not arrivals
    let mut acks = Vec::new();
    for n in 0..400u64 {
        let next = Duration::from_millis(2_000 + 50 * n);
        if let Some(wait) = next.checked_sub(epoch.elapsed()) {
            std::thread::sleep(wait);
        }
        if create(port, 9_000_000 + n) {
            acks.push(epoch.elapsed().as_secs_f64() * 1000.0);
        }
    }
    std::thread::sleep(Duration::from_secs(3));
    stop.store(true, Relaxed);
    if acks.len() < 390 {
        return Err(format!(
            "only {} of 400 writes were acknowledged",
            acks.len()
        ));
    }
    let arrivals = watcher.join().map_err(|_| "watcher failed")?;
    let mut lags: Vec<f64> = acks
        .iter()
        .filter_map(|a| arrivals.iter().find(|t| *t > a).map(|t| t - a))
        .collect();
    if lags.len() < acks.len() {
        return Err(format!(
            "{} of {} writes never reached the replica",
            acks.len() - lags.len(),
            acks.len()
        ));
    }
    lags.sort_by(f64::total_cmp);
    Ok(lags)
}

/// Seeds 100,000 stories, replicates them once, and times restores of the replica.
fn restore_times(bundle: &build::Bundle, dir: &Path) -> Result<(f64, f64, u64), String> {
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let db = dir.join("aion.db");
    let seeded = Instant::now();
    run(without_cargo_env(&mut Command::new(bundle.server()))
        .env("AION_DB_PATH", &db)
        .args(["seed", "--stories", "100000"]))?;
    println!("seeded 100,000 stories in {:.1?}", seeded.elapsed());
    let replica = dir.join("replica");
    let socket = dir.join("ls.sock");
    let yml = dir.join("litestream.yml");
    std::fs::write(&yml, config(&db, &replica, &socket)).map_err(|e| e.to_string())?;
    let bin = litestream::binary();
    {
        let mut ls = litestream::replicate(&yml)?;
        let deadline = Instant::now() + Duration::from_secs(120);
        while !run_quiet(
            Command::new(&bin)
                .args(["sync", "-wait", "-timeout", "60", "-socket"])
                .arg(&socket)
                .arg(&db),
        ) {
            ls.ensure_running()?;
            if Instant::now() > deadline {
                return Err("the replica did not take the database within 120 s".into());
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }
    let bytes = std::fs::metadata(&db).map(|m| m.len()).unwrap_or(0);
    let timed = |name: &str, check: &str| -> Result<f64, String> {
        let out = dir.join(name);
        let t = Instant::now();
        run(Command::new(&bin)
            .args(["restore", "-integrity-check", check, "-o"])
            .arg(&out)
            .arg(format!("file://{}", replica.display())))?;
        Ok(t.elapsed().as_secs_f64())
    };
    let (plain, checked) = (timed("plain.db", "none")?, timed("checked.db", "full")?);
    // The restore holds every story (python3's sqlite3 reads it; the setup needs python3).
    let count = Command::new("python3")
        .arg("-c")
        .arg("import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('SELECT count(*) FROM stories').fetchone()[0])")
        .arg(dir.join("checked.db"))
        .output()
        .map_err(|e| format!("python3: {e}"))?;
    let count = String::from_utf8_lossy(&count.stdout).trim().to_owned();
    if count != "100000" {
        return Err(format!(
            "the restored database holds {count:?} stories, not 100000"
        ));
    }
    Ok((plain, checked, bytes))
}

/// User + system CPU seconds of a process so far (Linux `/proc`).
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces) start at the state, field 3.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<f64> = rest
        .split_whitespace()
        .filter_map(|v| v.parse().ok())
        .collect();
    // utime and stime are fields 14 and 15, i.e. 11 and 12 after the state (not numeric).
    (f.get(10).copied().unwrap_or(0.0) + f.get(11).copied().unwrap_or(0.0)) / 100.0
}

fn run_quiet(cmd: &mut Command) -> bool {
    cmd.stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Runs the measurements (`--only writes|restore`: one half) and prints the table
/// BENCHMARKS.md records.
pub fn run_bench(args: &[String]) -> Result<(), String> {
    let only = match args {
        [] => None,
        [flag, what] if flag == "--only" && (what == "writes" || what == "restore") => {
            Some(what.as_str())
        }
        _ => return Err("usage: cargo xtask bench-replica [--only writes|restore]".into()),
    };
    setup::ensure(setup::Needs::default())?;
    litestream::ensure()?;
    let bundle = build::release()?;
    let scratch =
        Scratch(std::env::temp_dir().join(format!("aion-replica-bench-{}", std::process::id())));
    let _ = std::fs::remove_dir_all(&scratch.0);
    let mut table = vec![
        "| measurement | value |".to_owned(),
        "|---|---:|".to_owned(),
    ];
    if only != Some("restore") {
        writes(&bundle, &scratch.0, &mut table)?;
    }
    if only != Some("writes") {
        let (plain_s, checked_s, bytes) = restore_times(&bundle, &scratch.0.join("restore"))?;
        table.push(format!(
            "| restore of the 100,000-story demo database ({:.1} MB): no check / full integrity check | {plain_s:.1} s / {checked_s:.1} s |",
            bytes as f64 / 1e6
        ));
    }
    println!("\n{}", table.join("\n"));
    Ok(())
}

/// Throughput with and without replication in alternating rounds, then the lag.
fn writes(bundle: &build::Bundle, scratch: &Path, table: &mut Vec<String>) -> Result<(), String> {
    let plain = start(bundle, &scratch.join("plain"), false)?;
    let replicated = start(bundle, &scratch.join("replicated"), true)?;
    let (mut without, mut with) = (Vec::new(), Vec::new());
    for round in 0..3 {
        without.push(throughput(plain.port));
        with.push(throughput(replicated.port));
        println!(
            "round {round}: {:.0} writes/s without, {:.0} with replication",
            without[round], with[round]
        );
    }
    drop(plain);
    if without.iter().chain(&with).any(|r| *r < 1.0) {
        return Err("a round acknowledged no writes".into());
    }
    let lags = lag(replicated.port, &scratch.join("replicated").join("replica"))?;
    let cpu = |g: &Option<Guard>| g.as_ref().map_or(0.0, |g| cpu_seconds(g.id()));
    let (ls_cpu, server_cpu) = (
        cpu(&replicated.litestream_guard),
        cpu_seconds(replicated.server_guard.id()),
    );
    drop(replicated);
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    table.push(format!(
        "| `POST /api/stories`, {WRITERS} writers, 3 × {} s alternating: without replication | {:.0} writes/s |",
        ROUND.as_secs(),
        mean(&without)
    ));
    table.push(format!(
        "| the same with Litestream replicating (sync 1 s) | {:.0} writes/s |",
        mean(&with)
    ));
    table.push(format!(
        "| ratio with / without | {:.2} |",
        mean(&with) / mean(&without)
    ));
    table.push(format!(
        "| CPU time of the replicated server / of Litestream over its rounds and the lag run | {server_cpu:.1} s / {ls_cpu:.1} s |"
    ));
    table.push(format!(
        "| replication lag, 20 writes/s for 20 s ({} writes): p50 / p99 / max | {:.0} / {:.0} / {:.0} ms |",
        lags.len(),
        percentile(&lags, 0.5),
        percentile(&lags, 0.99),
        percentile(&lags, 1.0)
    ));
    Ok(())
}
