//! A `redis-server` of our own on a Unix socket in a directory we choose, for tests and
//! local runs: no port to race for, killed when dropped. The binary is `redis-server` from
//! `PATH` (Debian's package; `cargo xtask setup --browser` installs it) or `AION_TEST_REDIS`.

use std::{
    io::{Read, Write},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

/// A running `redis-server`; stopped (killed) on drop.
pub struct LocalRedis {
    child: Child,
    socket: PathBuf,
}

impl LocalRedis {
    /// Starts one with its socket at `dir/redis.sock` and waits (at most 10 s) for PING.
    pub fn start(dir: &Path) -> Result<Self, String> {
        let socket = dir.join("redis.sock");
        let bin = std::env::var("AION_TEST_REDIS").unwrap_or_else(|_| "redis-server".into());
        let child = Command::new(&bin)
            .args(["--port", "0", "--save", "", "--appendonly", "no"])
            .arg("--unixsocket")
            .arg(&socket)
            .args(["--unixsocketperm", "700"])
            .current_dir(dir)
            .stdout(Stdio::null())
            .spawn()
            .map_err(|e| {
                format!("cannot start {bin} (cargo xtask setup --browser installs it): {e}")
            })?;
        let redis = Self { child, socket };
        let deadline = Instant::now() + Duration::from_secs(10);
        while !redis.ping() {
            if Instant::now() > deadline {
                return Err("redis-server did not answer PING within 10 s".into());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(redis)
    }

    /// Whether it answers PING now.
    pub fn ping(&self) -> bool {
        let Ok(mut s) = std::os::unix::net::UnixStream::connect(&self.socket) else {
            return false;
        };
        let mut pong = [0u8; 7];
        s.write_all(b"PING\r\n").is_ok() && s.read_exact(&mut pong).is_ok() && &pong == b"+PONG\r\n"
    }

    /// Its URL for `AION_REDIS_URL`.
    pub fn url(&self) -> String {
        format!("unix://{}", self.socket.display())
    }

    /// Freezes it (SIGSTOP): connections stay open and nothing answers, a Redis that is
    /// slow rather than down.
    pub fn pause(&self) {
        self.signal("-STOP");
    }

    /// Lets a paused Redis run again (SIGCONT).
    pub fn resume(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, which: &str) {
        let sent = Command::new("kill")
            .arg(which)
            .arg(self.child.id().to_string())
            .status()
            .is_ok_and(|s| s.success());
        assert!(sent, "kill {which} redis-server");
    }

    /// Kills it now (a Redis outage); its socket file goes too.
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.socket);
    }
}

impl Drop for LocalRedis {
    fn drop(&mut self) {
        self.stop();
    }
}
