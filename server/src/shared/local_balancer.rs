//! An HAProxy of our own in front of instances on loopback ports, for tests: the
//! project's own configuration (`deploy/haproxy.cfg`, the one `cargo xtask cluster` uses)
//! on a free loopback port, killed when dropped. The binary is `haproxy` from `PATH` or
//! `/usr/sbin` (Debian's package; `cargo xtask setup --browser` installs it) or
//! `AION_TEST_HAPROXY`.

use std::{
    io::{Read, Write},
    net::{TcpListener, TcpStream},
    path::Path,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

/// The configuration template shared with `cargo xtask cluster`.
pub const HAPROXY_TEMPLATE: &str = include_str!("../../../deploy/haproxy.cfg");

/// `deploy/haproxy.cfg` with its frontend on `bind` and one server per port in `backends`.
pub fn haproxy_config(bind: &str, backends: &[u16]) -> String {
    let servers: Vec<String> = backends
        .iter()
        .enumerate()
        .map(|(i, p)| format!("    server instance{} 127.0.0.1:{p} check inter 1s", i + 1))
        .collect();
    HAPROXY_TEMPLATE
        .replace("{bind}", bind)
        .replace("{servers}", &servers.join("\n"))
}

/// A running HAProxy; stopped (killed) on drop.
pub struct LocalBalancer {
    child: Child,
    port: u16,
}

impl LocalBalancer {
    /// Starts one in front of `backends` with its configuration in `dir`, on a free loopback
    /// port (another if that one was taken meanwhile), and waits (at most 10 s) until it
    /// answers `/api/health`.
    pub fn start(dir: &Path, backends: &[u16]) -> Result<Self, String> {
        let mut last = String::new();
        for _ in 0..3 {
            let port = free_port()?;
            let config = dir.join(format!("haproxy-{port}.cfg"));
            std::fs::write(
                &config,
                haproxy_config(&format!("127.0.0.1:{port}"), backends),
            )
            .map_err(|e| format!("cannot write {}: {e}", config.display()))?;
            let log = dir.join(format!("haproxy-{port}.log"));
            let mut balancer = Self {
                child: spawn(&config, &log)?,
                port,
            };
            match balancer.wait_healthy() {
                Ok(()) => return Ok(balancer),
                Err(e) => {
                    let said = std::fs::read_to_string(&log).unwrap_or_default();
                    last = format!("{e}: {}", said.trim());
                }
            }
        }
        Err(last)
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn wait_healthy(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("haproxy exited ({status}) on port {}", self.port));
            }
            if health_ok(self.port) {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err("haproxy did not pass /api/health within 10 s".into());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for LocalBalancer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts HAProxy in the foreground on `config`, its messages going to `log`.
fn spawn(config: &Path, log: &Path) -> Result<Child, String> {
    let candidates = match std::env::var("AION_TEST_HAPROXY") {
        Ok(bin) => vec![bin],
        Err(_) => vec!["haproxy".to_owned(), "/usr/sbin/haproxy".to_owned()],
    };
    let mut last = String::new();
    for bin in candidates {
        let stderr = std::fs::File::create(log)
            .map_err(|e| format!("cannot create {}: {e}", log.display()))?;
        match Command::new(&bin)
            .arg("-db")
            .arg("-f")
            .arg(config)
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
        {
            Ok(child) => return Ok(child),
            Err(e) => {
                last = format!("cannot start {bin} (cargo xtask setup --browser installs it): {e}")
            }
        }
    }
    Err(last)
}

/// A loopback port nobody listens on right now.
fn free_port() -> Result<u16, String> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free loopback port: {e}"))
}

/// Whether `GET /api/health` through the port answers 200.
fn health_ok(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    let mut head = [0u8; 12];
    s.write_all(b"GET /api/health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .is_ok()
        && s.read_exact(&mut head).is_ok()
        && head.ends_with(b" 200")
}
