//! A libsql server (sqld) of our own on free loopback ports, for tests: the primary that
//! instances are embedded replicas of (`AION_DB_URL`). Killed when dropped; stopped and
//! started again on the same ports and data to test an unreachable primary. The binary is
//! `AION_TEST_SQLD`, else where `cargo xtask setup --browser` installs it
//! (`~/.cache/aion-tools/sqld-0.24.32/sqld`), else `sqld` from `PATH`.

use std::{
    io::{Read, Write},
    net::{TcpListener, TcpStream},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

/// A running sqld primary; killed on drop.
pub struct LocalSqld {
    child: Option<Child>,
    dir: PathBuf,
    http: u16,
    grpc: u16,
}

impl LocalSqld {
    /// Starts one with its data in `dir/sqld` on free loopback ports (others if those were
    /// taken meanwhile) and waits (at most 10 s) until `GET /health` answers.
    pub fn start(dir: &Path) -> Result<Self, String> {
        let mut last = String::new();
        for _ in 0..3 {
            let mut sqld = Self {
                child: None,
                dir: dir.to_path_buf(),
                http: free_port()?,
                grpc: free_port()?,
            };
            match sqld.run() {
                Ok(()) => return Ok(sqld),
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    /// Starts one whose database is `backup` (a file the backup task wrote), as an operator
    /// restores a lost primary (SCALING.md): the file is copied to sqld's database path
    /// (`dir/sqld/dbs/default/data`, which must not exist yet) and sqld builds its
    /// replication log from it.
    pub fn start_from_backup(dir: &Path, backup: &Path) -> Result<Self, String> {
        let data = dir.join("sqld/dbs/default");
        if data.exists() {
            return Err(format!(
                "{} exists: restore into a new directory",
                data.display()
            ));
        }
        std::fs::create_dir_all(&data)
            .and_then(|()| std::fs::copy(backup, data.join("data")))
            .map_err(|e| {
                format!(
                    "cannot place {} in {}: {e}",
                    backup.display(),
                    data.display()
                )
            })?;
        Self::start(dir)
    }

    /// `http://127.0.0.1:<port>`: what `AION_DB_URL` names.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.http)
    }

    /// Kills it (the primary is gone; its data stays for [`Self::restart`]).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Freezes it (SIGSTOP): its connections stay open and nothing answers, a primary
    /// that silently stopped rather than one that is gone.
    pub fn pause(&self) {
        self.signal("-STOP");
    }

    /// Lets a paused primary run again (SIGCONT).
    pub fn resume(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, which: &str) {
        let Some(child) = &self.child else { return };
        let sent = Command::new("kill")
            .arg(which)
            .arg(child.id().to_string())
            .status()
            .is_ok_and(|s| s.success());
        assert!(sent, "kill {which} sqld");
    }

    /// Starts it again on the same ports with the same data.
    pub fn restart(&mut self) -> Result<(), String> {
        self.stop();
        self.run()
    }

    /// The first column of the first row of `sql`, run on the primary itself (its HTTP
    /// API), as an integer.
    pub fn query_i64(&self, sql: &str) -> Result<i64, String> {
        let body = serde_json::json!({ "statements": [sql] }).to_string();
        let answer = http(self.http, "POST", "/", &body)?;
        let v: serde_json::Value =
            serde_json::from_str(&answer).map_err(|e| format!("{e}: {answer}"))?;
        v[0]["results"]["rows"][0][0]
            .as_i64()
            .ok_or_else(|| format!("no integer in {answer}"))
    }

    fn run(&mut self) -> Result<(), String> {
        let log = self.dir.join(format!("sqld-{}.log", self.http));
        let stderr = std::fs::File::create(&log)
            .map_err(|e| format!("cannot create {}: {e}", log.display()))?;
        let bin = binary();
        let child = Command::new(&bin)
            .arg("-d")
            .arg(self.dir.join("sqld"))
            .arg("--http-listen-addr")
            .arg(format!("127.0.0.1:{}", self.http))
            .arg("--grpc-listen-addr")
            .arg(format!("127.0.0.1:{}", self.grpc))
            .arg("--no-welcome")
            .current_dir(&self.dir)
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .map_err(|e| {
                format!(
                    "cannot start {} (cargo xtask setup --browser installs it): {e}",
                    bin.display()
                )
            })?;
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
                self.child = None;
                let said = std::fs::read_to_string(&log).unwrap_or_default();
                return Err(format!("sqld exited ({status}): {}", said.trim()));
            }
            if http(self.http, "GET", "/health", "").is_ok() {
                return Ok(());
            }
            if Instant::now() > deadline {
                self.stop();
                return Err("sqld did not answer /health within 10 s".into());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for LocalSqld {
    fn drop(&mut self) {
        self.stop();
    }
}

fn binary() -> PathBuf {
    if let Some(bin) = std::env::var_os("AION_TEST_SQLD") {
        return PathBuf::from(bin);
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")));
    match cache.map(|c| c.join("aion-tools/sqld-0.24.32/sqld")) {
        Some(installed) if installed.exists() => installed,
        _ => PathBuf::from("sqld"),
    }
}

/// A loopback port nobody listens on right now.
fn free_port() -> Result<u16, String> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free loopback port: {e}"))
}

/// `method path` with `body` on the loopback port; the body of a 200 answer.
fn http(port: u16, method: &str, path: &str, body: &str) -> Result<String, String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    let request = format!(
        "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(request.as_bytes()).map_err(|e| e.to_string())?;
    let mut answer = String::new();
    s.read_to_string(&mut answer).map_err(|e| e.to_string())?;
    let (head, body) = answer
        .split_once("\r\n\r\n")
        .ok_or_else(|| format!("no answer to {method} {path}"))?;
    if !head.starts_with("HTTP/1.1 200") && !head.starts_with("HTTP/1.0 200") {
        return Err(format!(
            "{method} {path}: {}",
            head.lines().next().unwrap_or("")
        ));
    }
    Ok(body.to_owned())
}
