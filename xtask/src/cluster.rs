//! `cargo xtask cluster N`: N release instances sharing one database file and one Redis,
//! behind HAProxy on 127.0.0.1:8080 (`--port P` for another), for running AION the way
//! several machines would, on one. With `--store sqld`, as several hosts run it: a libsql
//! server (sqld) as the primary, and each instance with a directory and an embedded
//! replica file of its own (`AION_DB_URL`; SCALING.md).
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

/// Where the instances keep their data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Store {
    /// One database file in the cluster's directory, shared by every instance.
    SharedFile,
    /// A sqld primary; each instance an embedded replica of it in its own directory.
    Sqld,
}

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
    _primary: Option<Guard>,
}

impl Cluster {
    /// Starts Redis, `n` instances with their data in `store` (one `dir/aion.db`, or each
    /// its own replica of a sqld primary in `dir/sqld`) and HAProxy on 127.0.0.1:`port`,
    /// with `env` given to every instance.
    pub fn start_with(
        bundle: &build::Bundle,
        n: usize,
        port: u16,
        dir: &Path,
        env: &[(&str, &str)],
        store: Store,
    ) -> Result<Self, String> {
        let (redis, url) = start_redis(dir)?;
        let (primary, primary_url) = match store {
            Store::SharedFile => (None, None),
            Store::Sqld => {
                let (guard, url) = crate::sqld::primary(dir)?;
                (Some(guard), Some(url))
            }
        };
        let mut servers = Vec::new();
        let mut ports = Vec::new();
        for i in 0..n.max(1) {
            // One at a time: the first migrates and seeds the demo data.
            let mut cmd = Command::new(bundle.server());
            let home = match store {
                Store::SharedFile => dir.to_path_buf(),
                // A host of its own: its replica file is never opened by another process.
                Store::Sqld => dir.join(format!("instance{}", i + 1)),
            };
            std::fs::create_dir_all(&home)
                .map_err(|e| format!("cannot create {}: {e}", home.display()))?;
            cmd.current_dir(&home)
                .env("IP", "127.0.0.1")
                .env("PORT", "0")
                .env("AION_DB_PATH", home.join("aion.db"))
                // Task results and backups in one directory every instance reads, as a
                // shared file system would be across hosts.
                .env("AION_FILES_DIR", dir.join("files"))
                .env("AION_BACKUP_DIR", dir.join("backups"))
                .env("AION_REDIS_URL", &url)
                .env("AION_TRUSTED_PROXY_HEADER", "x-forwarded-for");
            if let Some(primary) = &primary_url {
                cmd.env("AION_DB_URL", primary);
            }
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
            _primary: primary,
        })
    }

    /// Waits until the balancer or any instance exits, then stops the rest (on drop). Ctrl-C
    /// reaches every process of the group; the instances exit on it (after their grace
    /// period), HAProxy in the foreground does not, so it is stopped here.
    /// The instances' process ids, then the balancer's (for their CPU time).
    pub fn pids(&self) -> (Vec<u32>, u32) {
        (self.servers.iter().map(Guard::id).collect(), self.lb.id())
    }

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

/// `cargo xtask cluster [N] [--port P] [--store file|sqld]`.
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
    let store = match args
        .iter()
        .position(|a| a == "--store")
        .and_then(|i| args.get(i + 1))
        .map(String::as_str)
    {
        None | Some("file") => Store::SharedFile,
        Some("sqld") => Store::Sqld,
        Some(other) => return Err(format!("--store {other}: file or sqld")),
    };
    setup::ensure(setup::Needs::default())?;
    ensure_tools()?;
    let bundle = build::release()?;
    // Apart: the primary's data and the replicas of it are kept between runs.
    let dir: PathBuf = root().join(match store {
        Store::SharedFile => "data/cluster",
        Store::Sqld => "data/cluster-sqld",
    });
    let cluster = Cluster::start_with(&bundle, n, port, &dir, &[], store)?;
    let shared = match store {
        Store::SharedFile => dir.join("aion.db").display().to_string(),
        Store::Sqld => "a sqld primary (each its own replica)".to_owned(),
    };
    println!(
        "\n{n} instances ({:?}) behind http://127.0.0.1:{port}, sharing {shared} and Redis; Ctrl-C stops them all",
        cluster.instances,
    );
    cluster.wait()
}
