//! What the HTTP benchmarks share: a release server on a free loopback port with a fresh
//! database (stopped and removed when dropped), one bounded `aion-load` run, story paths to
//! read, and the Markdown row every scenario prints.

use std::{path::PathBuf, process::Command, time::Duration};

use crate::{
    build,
    process::{Guard, http_get, wait_for_http},
};

/// A release server on a free port with a fresh database.
pub(crate) struct Server {
    pub(crate) port: u16,
    _guard: Guard,
    dir: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Server {
    /// The server's process id (for its CPU time).
    pub(crate) fn pid(&self) -> u32 {
        self._guard.id()
    }
}

pub(crate) fn start(bundle: &build::Bundle, env: &[(&str, &str)]) -> Result<Server, String> {
    static RUNS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let run = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("aion-bench-{}-{run}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let mut cmd = Command::new(bundle.server());
    cmd.current_dir(&dir)
        .env("IP", "127.0.0.1")
        .env("PORT", "0")
        .env("AION_DB_PATH", dir.join("aion.db"))
        .env("AION_RATE_LIMIT_PER_MINUTE", "0")
        .env("AION_WRITE_RATE_LIMIT_PER_MINUTE", "0")
        .env("AION_ADMIN_TOKEN", OPERATOR)
        // No cover encoding beside the load (callers may turn it back on).
        .env("AION_DEMO_COVERS", "0")
        .env("RUST_LOG", "warn,app::serve=info");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let (mut guard, port) = Guard::spawn_server("bench server", &mut cmd, Duration::from_secs(60))?;
    wait_for_http(port, "/api/health", Duration::from_secs(60), &mut guard)?;
    Ok(Server {
        port,
        _guard: guard,
        dir,
    })
}

/// The operator's token benchmark servers start with: writes to the demo stories (which no
/// bench writer owns) are sent with it.
pub(crate) const OPERATOR: &str = "aion-bench-operator";

/// `method path` with `json` on 127.0.0.1:`port` as the operator ([`OPERATOR`]); status
/// and body.
pub(crate) fn as_operator(
    port: u16,
    method: &str,
    path: &str,
    json: Option<&str>,
) -> Result<(u16, String), String> {
    let bearer = format!("Authorization: Bearer {OPERATOR}");
    crate::process::http_exchange(port, method, path, json, Some(&bearer))
        .map(|(status, _, body)| (status, body))
}

pub(crate) fn load_bin() -> PathBuf {
    build::target_dir().join("release/aion-load")
}

/// One load run; returns the report as JSON.
pub(crate) fn load(
    port: u16,
    paths: &[String],
    connections: usize,
    seconds: f64,
    extra: &[&str],
) -> Result<serde_json::Value, String> {
    let mut cmd = Command::new(load_bin());
    cmd.args(["--addr", &format!("127.0.0.1:{port}")])
        .args(["--connections", &connections.to_string()])
        .args(["--seconds", &seconds.to_string()]);
    for p in paths {
        cmd.args(["--path", p]);
    }
    cmd.args(extra);
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run aion-load: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "aion-load failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    serde_json::from_slice(&out.stdout).map_err(|e| format!("aion-load output: {e}"))
}

pub(crate) fn row(name: &str, r: &serde_json::Value) -> String {
    let f = |k: &str| r[k].as_f64().unwrap_or(0.0);
    format!(
        "| {name} | {:.0} | {:.2} | {:.2} | {:.2} | {} |",
        f("rps"),
        f("p50_ms"),
        f("p95_ms"),
        f("p99_ms"),
        r["errors"].as_u64().unwrap_or(0)
    )
}

pub(crate) const HEADER: &str =
    "| scenario | req/s | p50 ms | p95 ms | p99 ms | errors |\n|---|---:|---:|---:|---:|---:|";

/// Story ids from the server's first page.
pub(crate) fn story_paths(port: u16, suffix: &str) -> Result<Vec<String>, String> {
    let page: serde_json::Value = serde_json::from_str(&http_get(port, "/api/stories?limit=50")?)
        .map_err(|e| format!("story list: {e}"))?;
    let ids: Vec<String> = page["items"]
        .as_array()
        .ok_or("story list has no items")?
        .iter()
        .filter_map(|s| {
            s["id"]
                .as_str()
                .map(|id| format!("/api/stories/{id}{suffix}"))
        })
        .collect();
    if ids.is_empty() {
        return Err("no demo stories to read".into());
    }
    Ok(ids)
}

/// The story ids of the first `n` of `paths` (as [`story_paths`] gives them).
pub(crate) fn story_ids(paths: &[String], n: usize) -> Vec<String> {
    paths
        .iter()
        .take(n)
        .filter_map(|p| p.rsplit('/').next().map(str::to_owned))
        .collect()
}
