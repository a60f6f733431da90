//! Continuous replication with Litestream (`AION_REPLICA_URL`), against the real server and
//! the real Litestream binary (installed by `cargo xtask setup`/`test`; the tests name it
//! with `AION_TEST_LITESTREAM` or find it where setup puts it). File replicas in temp
//! directories, loopback only, every process stopped when the test ends.
//!
//! - Writes acknowledged before a SIGKILL of both the server and Litestream are all in a
//!   restore, except those of the last moments: every write acknowledged before a confirmed
//!   sync is there, and none acknowledged more than three sync intervals before the kill is
//!   lost (asserted); the window is printed (BENCHMARKS.md).
//! - Run as production runs it (`litestream replicate -exec <server>`), a SIGTERM reaches
//!   the server, everything exits 0 and the last write is shipped after the exit.
//! - A point-in-time restore between two writes gives exactly the earlier state.
//! - Checkpoint, optimize, vacuum and backup while replicating leave a restorable replica.
//! - A replica that stops accepting writes shows in `/metrics` and the admin API while the
//!   app keeps serving, and recovers by itself.

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use reqwest::Method;
use serde_json::json;
use server::store::{Store, StoreConfig};

use crate::helpers::{TestApp, spawn_app_in};

const ADMIN: &str = "replication-test-token";

fn litestream() -> PathBuf {
    let bin = std::env::var_os("AION_TEST_LITESTREAM")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            // Where `cargo xtask setup` puts it (xtask/src/litestream.rs).
            let cache = std::env::var_os("XDG_CACHE_HOME")
                .map(PathBuf::from)
                .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
                .unwrap_or_default();
            cache.join("aion-tools/litestream-0.5.17/bin/litestream")
        });
    assert!(
        bin.exists(),
        "Litestream is not installed at {}: run `cargo xtask setup` (or set AION_TEST_LITESTREAM)",
        bin.display()
    );
    bin
}

/// A `litestream replicate` process for the app's database; killed when dropped.
struct Replicator {
    child: Child,
    replica: PathBuf,
    socket: PathBuf,
    db: PathBuf,
}

impl Drop for Replicator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Replicator {
    fn url(&self) -> String {
        format!("file://{}", self.replica.display())
    }

    /// Ships everything written so far (Litestream's `sync -wait`).
    fn sync(&self) {
        let out = Command::new(litestream())
            .args(["sync", "-wait", "-timeout", "20", "-socket"])
            .arg(&self.socket)
            .arg(&self.db)
            .output()
            .expect("litestream sync runs");
        assert!(
            out.status.success(),
            "sync: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Starts the server in a fresh directory and Litestream beside it; the server checks the
/// replica every `check_ms` (each check makes Litestream sync at once).
async fn replicated_app(check_ms: &str) -> (TestApp, Replicator) {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = std::fs::canonicalize(dir.path())
        .expect("temp dir path")
        .join("aion.db");
    let socket = dir.path().join("ls.sock");
    let replica = dir.path().join("replica");
    let bin = litestream();
    let env = [
        ("AION_LITESTREAM_BIN", bin.to_str().expect("utf-8 path")),
        (
            "AION_LITESTREAM_SOCKET",
            socket.to_str().expect("utf-8 path"),
        ),
        ("AION_REPLICA_CHECK_MS", check_ms),
        ("AION_ADMIN_TOKEN", ADMIN),
    ];
    let app = spawn_app_in(dir, &env).await;
    let config = app.dir().join("litestream.yml");
    std::fs::write(
        &config,
        format!(
            "logging: {{level: warn, type: text, stderr: true}}\n\
             socket: {{enabled: true, path: \"{}\"}}\n\
             dbs:\n  - path: \"{}\"\n    replica:\n      url: \"file://{}\"\n      sync-interval: 1s\n",
            socket.display(),
            db.display(),
            replica.display()
        ),
    )
    .expect("config written");
    let child = Command::new(&bin)
        .arg("replicate")
        .arg("-config")
        .arg(&config)
        .stdout(Stdio::null())
        .spawn()
        .expect("litestream starts");
    let replicator = Replicator {
        child,
        replica,
        socket,
        db,
    };
    wait_for(&app, "aion_replica_healthy", |v| v == 1.0).await;
    (app, replicator)
}

/// Polls a `/metrics` series until `ok` holds (at most 60 s).
async fn wait_for(app: &TestApp, series: &str, ok: impl Fn(f64) -> bool) -> f64 {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let v = app.metric(series).await;
        if ok(v) {
            return v;
        }
        assert!(Instant::now() < deadline, "{series} stayed at {v}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Restores the replica into `out` (optionally as of `at`); an error says why not.
fn restore(replicator: &Replicator, out: &Path, at: Option<&str>) -> Result<(), String> {
    let mut cmd = Command::new(litestream());
    cmd.args(["restore", "-integrity-check", "full", "-o"])
        .arg(out);
    if let Some(at) = at {
        cmd.args(["-timestamp", at]);
    }
    let res = cmd
        .arg(replicator.url())
        .output()
        .expect("litestream restore runs");
    if res.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&res.stderr).into_owned())
    }
}

/// The story ids in a restored database, after its integrity check passed.
async fn story_ids(db: &Path) -> Vec<String> {
    let store = Store::open(StoreConfig::new(db))
        .await
        .expect("restored db opens");
    assert_eq!(store.integrity_check().await.expect("check"), "ok");
    let conn = store.read().await.expect("reader");
    conn.query("t.ids", "SELECT id FROM stories", (), |r| {
        r.get::<String>(0)
    })
    .await
    .expect("ids")
}

#[tokio::test]
async fn acknowledged_writes_survive_killing_server_and_litestream() {
    // The default check interval (5 s), so that Litestream's own 1 s sync decides the loss.
    let (app, replicator) = replicated_app("5000").await;
    let mut acked: Vec<(String, Instant)> = Vec::new();
    let start = Instant::now();
    let mut synced_at = None;
    let mut i = 0;
    while start.elapsed() < Duration::from_secs(10) {
        if synced_at.is_none() && start.elapsed() > Duration::from_secs(3) {
            // Everything acknowledged before this moment must survive whatever follows.
            synced_at = Some(Instant::now());
            replicator.sync();
        }
        let id = app.create_story(&format!("ledger {i}")).await;
        acked.push((id, Instant::now()));
        i += 1;
    }
    let synced_at = synced_at.expect("the sync ran");
    // Both die at once: nothing gets a chance to sync on the way out.
    let mut replicator = replicator;
    let _ = replicator.child.kill();
    let killed = Instant::now();
    let dir = app.kill();
    let _ = replicator.child.wait();
    let out = dir.path().join("restored.db");
    restore(&replicator, &out, None).expect("restore after the kill");
    let present: std::collections::HashSet<String> = story_ids(&out).await.into_iter().collect();
    let lost: Vec<Duration> = acked
        .iter()
        .filter(|(id, _)| !present.contains(id))
        .map(|(_, at)| killed.duration_since(*at))
        .collect();
    let window = lost.iter().max().copied().unwrap_or_default();
    println!(
        "replication ledger: {} acknowledged, {} restored, {} lost, all within the last {:?}",
        acked.len(),
        acked.len() - lost.len(),
        lost.len(),
        window
    );
    assert!(acked.len() > 50, "the load ran ({} writes)", acked.len());
    // Nothing acknowledged before a confirmed sync is ever lost.
    let before_sync: Vec<_> = acked
        .iter()
        .filter(|(id, at)| *at < synced_at && !present.contains(id))
        .collect();
    assert!(
        before_sync.is_empty(),
        "lost after a confirmed sync: {before_sync:?}"
    );
    // README: writes acknowledged more than about one sync interval (1 s here) before a
    // crash are in the replica. Held to three intervals, a margin for a shared machine.
    assert!(
        window <= Duration::from_secs(3),
        "a write acknowledged {window:?} before the kill was lost (sync interval 1 s)"
    );
}

/// Litestream as production runs it (`litestream replicate -exec <server>`): a SIGTERM to
/// Litestream reaches the server, which exits 0, and Litestream syncs once more after it
/// exits, so a write acknowledged just before the stop is in the replica.
#[tokio::test]
async fn under_litestream_exec_sigterm_stops_the_server_cleanly_and_syncs_last() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().expect("temp dir");
    let root = std::fs::canonicalize(dir.path()).expect("path");
    let (db, socket, replica) = (
        root.join("aion.db"),
        root.join("ls.sock"),
        root.join("replica"),
    );
    let bin = litestream();
    let config = root.join("litestream.yml");
    // A long sync interval: only the sync after the server's exit can ship the last write.
    std::fs::write(
        &config,
        format!(
            "logging: {{level: warn, type: text, stderr: true}}\n\
             socket: {{enabled: true, path: \"{}\"}}\n\
             dbs:\n  - path: \"{}\"\n    replica:\n      url: \"file://{}\"\n      sync-interval: 1h\n",
            socket.display(),
            db.display(),
            replica.display()
        ),
    )
    .expect("config");
    let mut child = Command::new(&bin)
        .args(["replicate", "-config"])
        .arg(&config)
        .arg("-exec")
        .arg(format!("\"{}\"", env!("CARGO_BIN_EXE_app")))
        .current_dir(&root)
        .env("IP", "127.0.0.1")
        .env("PORT", "0")
        .env("AION_DB_PATH", &db)
        .env("AION_SEED_DEMO", "0")
        .env("AION_LITESTREAM_BIN", &bin)
        .env("AION_LITESTREAM_SOCKET", &socket)
        .env("AION_REPLICA_CHECK_MS", "3600000")
        .env("AION_RATE_LIMIT_PER_MINUTE", "0")
        .env("AION_WRITE_RATE_LIMIT_PER_MINUTE", "0")
        .stdout(Stdio::piped())
        .spawn()
        .expect("litestream starts the server");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(at) = line.find("listening on http://") {
                let _ = tx.send(line[at + "listening on ".len()..].trim().to_owned());
            }
        }
    });
    let base = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("the server under Litestream logged its address");
    let http = crate::helpers::client();
    crate::helpers::sign_up_or_in(&http, &base, "under-litestream").await;
    let created: serde_json::Value = http
        .post(format!("{base}/api/stories"))
        .json(&json!({"title": "The last write"}))
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("story");
    let id = created["id"].as_str().expect("id").to_owned();
    let sent = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .is_ok_and(|s| s.success());
    assert!(sent, "SIGTERM to Litestream");
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().expect("waitable") {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "Litestream still running 30 s after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(
        status.success(),
        "Litestream (and the server it ran) exited 0: {status:?}"
    );
    let out = root.join("restored.db");
    let restored = Command::new(&bin)
        .args(["restore", "-o"])
        .arg(&out)
        .arg(format!("file://{}", replica.display()))
        .output()
        .expect("restore runs");
    assert!(
        restored.status.success(),
        "{}",
        String::from_utf8_lossy(&restored.stderr)
    );
    assert!(
        story_ids(&out).await.contains(&id),
        "the last write was shipped after the exit"
    );
}

#[tokio::test]
async fn point_in_time_restore_gives_the_earlier_state() {
    let (app, replicator) = replicated_app("250").await;
    let first = app.create_story("before the moment").await;
    replicator.sync();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let moment = jiff::Timestamp::now().to_string();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let second = app.create_story("after the moment").await;
    replicator.sync();

    let then = app.dir().join("then.db");
    restore(&replicator, &then, Some(&moment)).expect("restore as of the moment");
    let ids = story_ids(&then).await;
    assert!(ids.contains(&first) && !ids.contains(&second), "{ids:?}");
    let now = app.dir().join("now.db");
    restore(&replicator, &now, None).expect("restore the latest");
    let ids = story_ids(&now).await;
    assert!(ids.contains(&first) && ids.contains(&second));
    // A restore never writes over a database.
    assert!(restore(&replicator, &now, None).is_err());
}

#[tokio::test]
async fn maintenance_while_replicating_leaves_a_restorable_replica() {
    let (app, replicator) = replicated_app("250").await;
    let mut ids = Vec::new();
    for op in ["checkpoint", "optimize", "vacuum", "analyze"] {
        ids.push(app.create_story(&format!("before {op}")).await);
        let res = app
            .http
            .post(app.url(&format!("/api/admin/db/{op}")))
            .bearer_auth(ADMIN)
            .send()
            .await
            .expect("admin call");
        assert_eq!(
            res.status(),
            200,
            "{op}: {}",
            res.text().await.unwrap_or_default()
        );
    }
    let backup = app
        .http
        .post(app.url("/api/admin/backups"))
        .bearer_auth(ADMIN)
        .send()
        .await
        .expect("backup");
    assert_eq!(backup.status(), 200);
    let task: serde_json::Value = backup.json().await.expect("task");
    let task_id = task["id"].as_str().expect("task id").to_owned();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (_, t) = app.get_json(&format!("/api/tasks/{task_id}")).await;
        if t["status"] == "completed" {
            break;
        }
        assert!(t["status"] != "failed" && Instant::now() < deadline, "{t}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    ids.push(app.create_story("after the backup").await);
    replicator.sync();
    let out = app.dir().join("after-maintenance.db");
    restore(&replicator, &out, None).expect("restore");
    let restored = story_ids(&out).await;
    for id in &ids {
        assert!(restored.contains(id), "{id} missing after maintenance");
    }
}

#[tokio::test]
async fn a_failing_replica_is_reported_while_the_app_keeps_serving() {
    let (app, replicator) = replicated_app("250").await;
    // The replica's directory becomes a file: Litestream can no longer write to it.
    let aside = replicator.replica.with_extension("moved");
    std::fs::rename(&replicator.replica, &aside).expect("move replica");
    std::fs::write(&replicator.replica, b"not a directory").expect("file in its place");
    app.create_story("written while the replica fails").await;
    wait_for(&app, "aion_replica_healthy", |v| v == 0.0).await;
    assert!(app.metric("aion_replica_errors_total").await >= 1.0);
    let status = app
        .http
        .get(app.url("/api/admin/replica"))
        .bearer_auth(ADMIN)
        .send()
        .await
        .expect("admin replica")
        .json::<serde_json::Value>()
        .await
        .expect("json");
    assert_eq!(status["healthy"], false);
    assert!(
        status["last_error"].as_str().is_some_and(|e| !e.is_empty()),
        "{status}"
    );
    // Clients notice nothing.
    let (code, _) = app
        .send(
            Method::POST,
            "/api/stories",
            json!({ "title": "still writing" }),
        )
        .await;
    assert_eq!(code, 200);
    assert_eq!(app.get_json("/api/stories?limit=5").await.0, 200);
    // The directory comes back: the replica catches up by itself.
    std::fs::remove_file(&replicator.replica).expect("remove file");
    std::fs::rename(&aside, &replicator.replica).expect("restore replica");
    wait_for(&app, "aion_replica_healthy", |v| v == 1.0).await;
}
