//! `cargo xtask cluster N`: N release instances sharing one database file and one Redis,
//! behind HAProxy on 127.0.0.1:8080 (`--port P` for another), for running AION the way
//! several machines would, on one.
//!
//! Redis (Debian's `redis-server`) listens on a Unix socket in the cluster's directory;
//! each instance listens on a port of its own choosing (port 0, reported in its log);
//! HAProxy (Debian's 2.6) runs the project's `deploy/haproxy.cfg`: round-robin, checks
//! `/api/health` every second, retries a refused connection on another instance, passes
//! the client address in `X-Forwarded-For` (the instances trust it for rate limits) and
//! streams server-sent events unbuffered. Everything is
//! stopped when the command ends, on Ctrl-C or on failure. The benchmark through it is
//! `cargo xtask bench-http --only cluster`.

use std::{
    path::{Path, PathBuf},
    process::Command,
    time::Duration,
};

use crate::{
    build,
    process::{Guard, root, wait_for_http},
    setup,
};

/// A running cluster; dropping it stops every part.
pub struct Cluster {
    /// The load balancer's port.
    pub port: u16,
    /// The instances' own ports.
    pub instances: Vec<u16>,
    // Dropped first: the balancer, then the instances, then Redis.
    lb: Guard,
    servers: Vec<Guard>,
    _redis: Guard,
}

impl Cluster {
    /// Starts Redis, `n` instances on `dir/aion.db` and HAProxy on 127.0.0.1:`port`, with
    /// `env` given to every instance.
    pub fn start(
        bundle: &build::Bundle,
        n: usize,
        port: u16,
        dir: &Path,
        env: &[(&str, &str)],
    ) -> Result<Self, String> {
        let (redis, url) = start_redis(dir)?;
        let mut servers = Vec::new();
        let mut ports = Vec::new();
        for _ in 0..n.max(1) {
            // One at a time: the first migrates and seeds the demo data.
            let mut cmd = Command::new(bundle.server());
            cmd.current_dir(dir)
                .env("IP", "127.0.0.1")
                .env("PORT", "0")
                .env("AION_DB_PATH", dir.join("aion.db"))
                .env("AION_FILES_DIR", dir.join("files"))
                .env("AION_BACKUP_DIR", dir.join("backups"))
                .env("AION_REDIS_URL", &url)
                .env("AION_TRUSTED_PROXY_HEADER", "x-forwarded-for");
            for (k, v) in env {
                cmd.env(k, v);
            }
            let (mut guard, p) =
                Guard::spawn_server("instance", &mut cmd, Duration::from_secs(60))?;
            wait_for_http(p, "/api/health", Duration::from_secs(60), &mut guard)?;
            servers.push(guard);
            ports.push(p);
        }
        let config = dir.join("haproxy.cfg");
        std::fs::write(&config, haproxy_config(port, &ports))
            .map_err(|e| format!("cannot write {}: {e}", config.display()))?;
        let mut lb = Guard::spawn(
            "haproxy",
            Command::new("haproxy").arg("-db").arg("-f").arg(&config),
        )?;
        wait_for_http(port, "/api/health", Duration::from_secs(20), &mut lb)?;
        Ok(Self {
            port,
            instances: ports,
            lb,
            servers,
            _redis: redis,
        })
    }

    /// Waits until the balancer or any instance exits, then stops the rest (on drop). Ctrl-C
    /// reaches every process of the group; the instances exit on it (after their grace
    /// period), HAProxy in the foreground does not, so it is stopped here.
    pub fn wait(mut self) -> Result<(), String> {
        loop {
            if self.lb.ensure_running().is_err() {
                return Err("haproxy exited".into());
            }
            if self.servers.iter_mut().any(|s| s.ensure_running().is_err()) {
                println!("an instance stopped: stopping the cluster");
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

/// Starts `redis-server` on `dir/redis.sock` (creating `dir`); its guard and URL once the
/// socket is there.
pub fn start_redis(dir: &Path) -> Result<(Guard, String), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let socket = dir.join("redis.sock");
    let _ = std::fs::remove_file(&socket);
    let redis = Guard::spawn(
        "redis-server",
        Command::new("redis-server")
            .args([
                "--port",
                "0",
                "--save",
                "",
                "--appendonly",
                "no",
                "--unixsocket",
            ])
            .arg(&socket)
            .current_dir(dir)
            .stdout(std::process::Stdio::null()),
    )?;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !socket.exists() {
        if std::time::Instant::now() > deadline {
            return Err("redis-server did not open its socket within 10 s".into());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok((redis, format!("unix://{}", socket.display())))
}

/// The project's HAProxy configuration (`deploy/haproxy.cfg`, also used by the tests) with
/// its frontend on 127.0.0.1:`port` and one server per instance.
fn haproxy_config(port: u16, instances: &[u16]) -> String {
    let servers: Vec<String> = instances
        .iter()
        .enumerate()
        .map(|(i, p)| format!("    server instance{} 127.0.0.1:{p} check inter 1s", i + 1))
        .collect();
    include_str!("../../deploy/haproxy.cfg")
        .replace("{bind}", &format!("127.0.0.1:{port}"))
        .replace("{servers}", &servers.join("\n"))
}

/// Installs Redis and HAProxy if missing.
pub fn ensure_tools() -> Result<(), String> {
    setup::debian_packages(&[
        ("redis-server", "/usr/bin/redis-server"),
        ("haproxy", "/usr/sbin/haproxy"),
    ])
}

/// `cargo xtask cluster [N] [--port P]`.
pub fn run_cluster(args: &[String]) -> Result<(), String> {
    let n: usize = args
        .first()
        .and_then(|a| a.parse().ok())
        .unwrap_or(2)
        .clamp(1, 16);
    let port: u16 = args
        .iter()
        .position(|a| a == "--port")
        .and_then(|i| args.get(i + 1))
        .and_then(|p| p.parse().ok())
        .unwrap_or(8080);
    setup::ensure(setup::Needs::default())?;
    ensure_tools()?;
    let bundle = build::release()?;
    let dir: PathBuf = root().join("data/cluster");
    let cluster = Cluster::start(&bundle, n, port, &dir, &[])?;
    println!(
        "\n{n} instances ({:?}) behind http://127.0.0.1:{port}, sharing {} and Redis; Ctrl-C stops them all",
        cluster.instances,
        dir.join("aion.db").display()
    );
    cluster.wait()
}
