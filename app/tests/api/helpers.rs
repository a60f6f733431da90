//! `spawn_app`: the real server binary on a random port with a temp database.

use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
    time::Duration,
};

/// A running server, killed when dropped.
pub struct TestApp {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// A client with a timeout, signed in as [`WRITER`].
    pub http: reqwest::Client,
    /// A client with a timeout and no account: what a visitor, or a shared cache, sees.
    pub anon: reqwest::Client,
    child: Child,
    /// Holds the database directory until the app is dropped.
    _dir: tempfile::TempDir,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl TestApp {
    /// The URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// GET `path` and return status and body as JSON (`Null` for a non-JSON body).
    pub async fn get_json(&self, path: &str) -> (u16, serde_json::Value) {
        self.json_as(&self.http, path).await
    }

    async fn json_as(&self, http: &reqwest::Client, path: &str) -> (u16, serde_json::Value) {
        let res = http.get(self.url(path)).send().await.expect("request sent");
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(serde_json::Value::Null))
    }

    /// GET `path` as a visitor without an account (whose reads the shared caches keep).
    pub async fn anon_json(&self, path: &str) -> (u16, serde_json::Value) {
        self.json_as(&self.anon, path).await
    }

    /// Sends `method path` with a JSON body and returns status and JSON body.
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: serde_json::Value,
    ) -> (u16, serde_json::Value) {
        self.send_raw(method, path, body.to_string()).await
    }

    /// POSTs JSON; panics unless the answer is 200, and returns the body.
    pub async fn post_ok(&self, path: &str, body: serde_json::Value) -> serde_json::Value {
        let (status, json) = self.send(reqwest::Method::POST, path, body).await;
        assert_eq!(status, 200, "POST {path}: {json}");
        json
    }

    /// Creates a public story titled `title` (owned by [`WRITER`]) and returns its id.
    pub async fn create_story(&self, title: &str) -> String {
        let story = self
            .post_ok(
                "/api/stories",
                serde_json::json!({ "title": title, "visibility": "public" }),
            )
            .await;
        story["id"].as_str().expect("id").to_owned()
    }

    /// Creates a story titled `title` with one scene (so its reader page has something to
    /// show) and returns its id.
    pub async fn story_with_scene(&self, title: &str) -> String {
        let story = self.create_story(title).await;
        self.post_ok(
            &format!("/api/stories/{story}/nodes"),
            serde_json::json!({"kind": "scene", "title": "Opening scene", "content": "It begins."}),
        )
        .await;
        story
    }

    /// Every row of story `story`'s outline (its nodes without content, depth-first),
    /// following its pages: a large story's `/tree` comes in pages.
    pub async fn outline(&self, story: &str) -> Vec<serde_json::Value> {
        let mut rows = Vec::new();
        loop {
            let path = format!(
                "/api/stories/{story}/outline?limit=1000&offset={}",
                rows.len()
            );
            let (status, page) = self.get_json(&path).await;
            assert_eq!(status, 200, "{path}: {page}");
            let got = page["rows"].as_array().cloned().unwrap_or_default();
            let total = page["total"].as_u64().unwrap_or(0) as usize;
            let done = got.is_empty() || rows.len() + got.len() >= total;
            rows.extend(got);
            if done {
                return rows;
            }
        }
    }

    /// Renames story `story` to `title` (asserting the write succeeded).
    pub async fn retitle(&self, story: &str, title: &str) {
        let (status, body) = self
            .send(
                reqwest::Method::PATCH,
                &format!("/api/stories/{story}"),
                serde_json::json!({ "title": title }),
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }

    /// Sends `method path` with a raw body and returns status and JSON body.
    pub async fn send_raw(
        &self,
        method: reqwest::Method,
        path: &str,
        body: impl Into<reqwest::Body>,
    ) -> (u16, serde_json::Value) {
        let res = self
            .http
            .request(method, self.url(path))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("request sent");
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(serde_json::Value::Null))
    }
}

/// Starts the server with `AION_SEED_DEMO=0`, rate limits off, plus `env`.
pub async fn spawn_app_with(env: &[(&str, &str)]) -> TestApp {
    spawn_app_in(tempfile::tempdir().expect("temp dir"), env).await
}

impl TestApp {
    /// Kills the server process at once (SIGKILL, no shutdown) and hands back its directory,
    /// database included, for a restart.
    pub fn kill(mut self) -> tempfile::TempDir {
        let _ = self.child.kill();
        let _ = self.child.wait();
        std::mem::replace(&mut self._dir, tempfile::tempdir().expect("temp dir"))
    }

    /// The loopback port it listens on (what a balancer in front of it names).
    pub fn port(&self) -> u16 {
        self.base
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("port in the base URL")
    }

    /// Sends SIGTERM, as a service manager stops the server, and waits (at most `within`)
    /// for it to exit; its exit status and its directory, for a restart.
    pub fn terminate(mut self, within: Duration) -> (std::process::ExitStatus, tempfile::TempDir) {
        let sent = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .is_ok_and(|s| s.success());
        assert!(sent, "SIGTERM sent");
        let deadline = std::time::Instant::now() + within;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("the process can be waited on") {
                break status;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the server was still running {within:?} after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(10));
        };
        let dir = std::mem::replace(&mut self._dir, tempfile::tempdir().expect("temp dir"));
        (status, dir)
    }

    /// The server's working directory (database, files, backups).
    pub fn dir(&self) -> &std::path::Path {
        self._dir.path()
    }

    /// The server process's resident memory in KiB (Linux `/proc`).
    pub fn rss_kib(&self) -> u64 {
        self.status_kib("VmRSS:")
    }

    /// A memory figure of the server process from `/proc/<pid>/status`, in KiB.
    fn status_kib(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("the server process is alive");
        status
            .lines()
            .find_map(|l| l.strip_prefix(field))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or_else(|| panic!("{field} in /proc/<pid>/status"))
    }

    /// The most memory the server process has held since it started (`VmHWM`), in KiB.
    pub fn peak_rss_kib(&self) -> u64 {
        self.status_kib("VmHWM:")
    }

    /// `GET /metrics` as text.
    pub async fn metrics(&self) -> String {
        self.http
            .get(self.url("/metrics"))
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .expect("metrics text")
    }

    /// The value of the first Prometheus sample whose line starts with `series` (0 if none).
    pub async fn metric(&self, series: &str) -> f64 {
        self.metrics()
            .await
            .lines()
            .find(|l| l.starts_with(series))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0)
    }
}

/// Starts the server in `dir` (reusing a database left there), like [`spawn_app_with`].
pub async fn spawn_app_in(dir: tempfile::TempDir, env: &[(&str, &str)]) -> TestApp {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_app"));
    cmd.current_dir(dir.path())
        .env("IP", "127.0.0.1")
        .env("PORT", "0")
        .env("AION_DB_PATH", dir.path().join("aion.db"))
        .env("AION_SEED_DEMO", "0")
        // Tests send bursts no person would; the rate-limit tests turn limits back on.
        .env("AION_RATE_LIMIT_PER_MINUTE", "0")
        .env("AION_WRITE_RATE_LIMIT_PER_MINUTE", "0")
        .env("RUST_LOG", "info")
        .env_remove("DIOXUS_PUBLIC_PATH")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("server binary starts");
    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut sent = false;
        // `AION_TEST_ECHO=1` shows the servers' logs when a test needs looking into.
        let echo = std::env::var_os("AION_TEST_ECHO").is_some();
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if echo {
                eprintln!("{line}");
            }
            if !sent && let Some(at) = line.find("listening on http://") {
                let addr = line[at + "listening on ".len()..].trim().to_owned();
                let _ = tx.send(addr);
                sent = true;
            }
        }
    });
    let base = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("server logged its address within 30 s");
    let http = client();
    sign_up_or_in(&http, &base, WRITER).await;
    TestApp {
        base,
        http,
        anon: client(),
        child,
        _dir: dir,
    }
}

/// The writer every test app's `http` client is signed in as.
pub const WRITER: &str = "writer";
/// Every test account's password.
pub const PASSWORD: &str = "correct horse battery staple";

/// Signs `http` up as `handle` (or in, if the account exists from an earlier run on the
/// same database): its cookie jar then holds the sign-in cookie.
pub async fn sign_up_or_in(http: &reqwest::Client, base: &str, handle: &str) {
    let body = serde_json::json!({ "handle": handle, "password": PASSWORD });
    let up = http
        .post(format!("{base}/api/account/signup"))
        .json(&body)
        .send()
        .await
        .expect("sign-up sent");
    if up.status() == 201 {
        return;
    }
    assert_eq!(up.status(), 409, "sign-up of {handle}");
    let res = http
        .post(format!("{base}/api/account/signin"))
        .json(&body)
        .send()
        .await
        .expect("sign-in sent");
    assert_eq!(res.status(), 200, "sign-in of {handle}");
}

impl TestApp {
    /// A new client (its own cookie jar) signed in as `handle`, signed up if new.
    pub async fn writer(&self, handle: &str) -> reqwest::Client {
        let http = client();
        sign_up_or_in(&http, &self.base, handle).await;
        http
    }
}

/// An HTTP client with its own cookie jar: one client session, as one browser would be.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .cookie_store(true)
        .build()
        .expect("client")
}

/// Starts the server with defaults.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}
