//! Watching a Litestream replica: is the database's WAL reaching it, and how far is it?
//!
//! Litestream (<https://litestream.io>) streams the WAL to a replica and runs as its own
//! process (`litestream replicate`, started by the project's commands around the server).
//! Its metrics endpoint does not show a failing replica (with a `file://` replica an
//! unwritable directory leaves `litestream_sync_error_count` at 0; verified with 0.5.17),
//! so the monitor asks it directly: every `interval` it runs
//! `litestream sync -wait -json DB` through Litestream's control socket, which syncs now and
//! answers with the local and the replica position, or fails with the reason. A failure is
//! logged at error level once per change of reason (and again every 60 checks while it
//! lasts), counted, and shown in the status; it never reaches a client request.
//!
//! ```no_run
//! # async fn f() {
//! use server::replica::{ReplicaConfig, ReplicaMonitor};
//! let (monitor, task) =
//!     ReplicaMonitor::spawn(ReplicaConfig::new("litestream", "/run/ls.sock", "data/aion.db"));
//! let status = monitor.status(); // healthy, last sync, positions, errors
//! # }
//! ```

use std::{
    path::PathBuf,
    sync::{Arc, Mutex},
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use serde::Serialize;

use crate::metrics::Exposition;

/// Where Litestream is and how often to check.
#[derive(Debug, Clone)]
pub struct ReplicaConfig {
    /// The `litestream` binary.
    pub litestream: PathBuf,
    /// Litestream's control socket (`socket.path` in its config).
    pub socket: PathBuf,
    /// The database file as Litestream's config names it.
    pub db: PathBuf,
    /// Time between checks (default 5 s).
    pub interval: Duration,
    /// Longest a check may take before it counts as failed (default 10 s).
    pub timeout: Duration,
}

impl ReplicaConfig {
    /// Defaults for `db` replicated by the Litestream at `litestream` listening on `socket`.
    pub fn new(
        litestream: impl Into<PathBuf>,
        socket: impl Into<PathBuf>,
        db: impl Into<PathBuf>,
    ) -> Self {
        Self {
            litestream: litestream.into(),
            socket: socket.into(),
            db: db.into(),
            interval: Duration::from_secs(5),
            timeout: Duration::from_secs(10),
        }
    }
}

/// What the last checks found.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct ReplicaStatus {
    /// The last check reached the replica.
    pub healthy: bool,
    /// Checks run.
    pub checks: u64,
    /// Checks that failed.
    pub errors_total: u64,
    /// Failed checks since the last good one.
    pub consecutive_errors: u64,
    /// Why the last failed check failed.
    pub last_error: Option<String>,
    /// When the replica last confirmed a sync (Unix milliseconds).
    pub last_sync_unix_ms: Option<u64>,
    /// How long that sync took, in milliseconds: new writes reach the replica within the
    /// sync interval plus about this.
    pub last_sync_ms: f64,
    /// Litestream's position of the local database (its transaction id).
    pub txid: u64,
    /// The replica's position; equal to `txid` once a sync is done.
    pub replica_txid: u64,
}

impl ReplicaStatus {
    /// Seconds since the replica last confirmed a sync (`None` before the first).
    pub fn since_last_sync_secs(&self) -> Option<f64> {
        let last = self.last_sync_unix_ms?;
        Some(unix_ms().saturating_sub(last) as f64 / 1000.0)
    }

    /// Adds the status to a `/metrics` document.
    pub fn expose(&self, e: &mut Exposition) {
        e.gauge(
            "aion_replica_healthy",
            "1 if the last check reached the Litestream replica.",
            &[],
            f64::from(u8::from(self.healthy)),
        );
        e.counter(
            "aion_replica_checks_total",
            "Replica checks run.",
            &[],
            self.checks as f64,
        );
        e.counter(
            "aion_replica_errors_total",
            "Replica checks that failed.",
            &[],
            self.errors_total as f64,
        );
        e.gauge(
            "aion_replica_seconds_since_sync",
            "Seconds since the replica last confirmed a sync (-1 before the first).",
            &[],
            self.since_last_sync_secs().unwrap_or(-1.0),
        );
        e.gauge(
            "aion_replica_sync_seconds",
            "How long the last confirmed sync took.",
            &[],
            self.last_sync_ms / 1000.0,
        );
        e.gauge(
            "aion_replica_txid",
            "Litestream's position of the local database.",
            &[],
            self.txid as f64,
        );
        e.gauge(
            "aion_replica_replica_txid",
            "The replica's position.",
            &[],
            self.replica_txid as f64,
        );
    }
}

/// Runs the checks in the background; cheap to clone.
#[derive(Clone)]
pub struct ReplicaMonitor {
    status: Arc<Mutex<ReplicaStatus>>,
}

impl ReplicaMonitor {
    /// Starts checking on the current tokio runtime; abort the returned task to stop.
    pub fn spawn(config: ReplicaConfig) -> (Self, tokio::task::JoinHandle<()>) {
        let monitor = Self {
            status: Arc::new(Mutex::new(ReplicaStatus::default())),
        };
        let m = monitor.clone();
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(config.interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let started = Instant::now();
                let result = check(&config).await;
                m.record(result, started.elapsed());
            }
        });
        (monitor, task)
    }

    /// The latest status.
    pub fn status(&self) -> ReplicaStatus {
        self.status
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn record(&self, result: Result<(u64, u64), String>, took: Duration) {
        let mut s = self.status.lock().unwrap_or_else(|p| p.into_inner());
        s.checks += 1;
        match result {
            Ok((txid, replica_txid)) => {
                if s.consecutive_errors > 0 {
                    tracing::info!(
                        failed_checks = s.consecutive_errors,
                        "replica reachable again"
                    );
                }
                s.healthy = true;
                s.consecutive_errors = 0;
                s.last_sync_unix_ms = Some(unix_ms());
                s.last_sync_ms = took.as_secs_f64() * 1000.0;
                s.txid = txid;
                s.replica_txid = replica_txid;
            }
            Err(why) => {
                if s.last_error.as_deref() != Some(why.as_str())
                    || s.consecutive_errors.is_multiple_of(60)
                {
                    tracing::error!(
                        error = %why,
                        consecutive = s.consecutive_errors + 1,
                        "replication failing: new writes are not reaching the replica"
                    );
                }
                s.healthy = false;
                s.errors_total += 1;
                s.consecutive_errors += 1;
                s.last_error = Some(why);
            }
        }
    }
}

/// One `litestream sync -wait -json`: the local and the replica position, or why not.
async fn check(config: &ReplicaConfig) -> Result<(u64, u64), String> {
    let secs = config.timeout.as_secs().max(1).to_string();
    let run = tokio::process::Command::new(&config.litestream)
        .arg("sync")
        .args(["-wait", "-json", "-timeout", &secs, "-socket"])
        .arg(&config.socket)
        .arg(&config.db)
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(config.timeout + Duration::from_secs(2), run)
        .await
        .map_err(|_| format!("litestream sync gave no answer within {secs} s"))?
        .map_err(|e| format!("cannot run {}: {e}", config.litestream.display()))?;
    if !out.status.success() {
        let text = String::from_utf8_lossy(&out.stderr);
        let why = text.lines().rfind(|l| !l.trim().is_empty()).unwrap_or("");
        return Err(format!("litestream sync failed ({}): {why}", out.status));
    }
    parse_sync(&out.stdout)
}

/// The positions in `litestream sync -json` output.
fn parse_sync(stdout: &[u8]) -> Result<(u64, u64), String> {
    let v: serde_json::Value = serde_json::from_slice(stdout)
        .map_err(|e| format!("unexpected litestream sync output: {e}"))?;
    let field = |name: &str| {
        v.get(name)
            .and_then(serde_json::Value::as_u64)
            .ok_or_else(|| format!("litestream sync output has no {name}"))
    };
    Ok((field("txid")?, field("replica_txid")?))
}

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_positions_and_refuses_other_output() {
        let out = br#"{"db_path":"/d/aion.db","txid":7,"replica_txid":6,"duration_ms":2}"#;
        assert_eq!(parse_sync(out), Ok((7, 6)));
        assert!(parse_sync(b"txid: 7").is_err());
        assert!(parse_sync(br#"{"txid":7}"#).is_err());
    }

    #[test]
    fn failures_are_counted_until_a_check_succeeds() {
        let m = ReplicaMonitor {
            status: Arc::new(Mutex::new(ReplicaStatus::default())),
        };
        m.record(
            Err("write ltx file: permission denied".into()),
            Duration::ZERO,
        );
        m.record(
            Err("write ltx file: permission denied".into()),
            Duration::ZERO,
        );
        let s = m.status();
        assert!(!s.healthy);
        assert_eq!((s.checks, s.errors_total, s.consecutive_errors), (2, 2, 2));
        m.record(Ok((9, 9)), Duration::from_millis(3));
        let s = m.status();
        assert!(s.healthy);
        assert_eq!(
            (s.errors_total, s.consecutive_errors, s.replica_txid),
            (2, 0, 9)
        );
        assert!(s.last_sync_unix_ms.is_some());
        let mut e = Exposition::default();
        s.expose(&mut e);
        assert!(e.finish().contains("aion_replica_errors_total 2"));
    }
}
