//! The crash soak (`cargo xtask soak`): a mixed load of reads, story creations, edits, node
//! batches and exports runs for a few minutes while the server is killed with SIGKILL at
//! random moments and started again on the same database. Every write the server
//! acknowledged is kept in a client-side ledger, which is checked at the end:
//!
//! - every acknowledged story and edit is there (an edit that got no answer may or may not
//!   be: the last title is the last acknowledged one or the one in flight);
//! - every node batch is there whole or not at all, and whole if it was acknowledged;
//! - every acknowledged export finished exactly once in effect: completed, one file, one
//!   notification;
//! - `PRAGMA integrity_check` says ok.
//!
//! Loopback only, bounded (`AION_SOAK_SECS`, default 300), and it stops by itself. Ignored
//! by `cargo test`; `cargo xtask soak` runs it and prints the report BENCHMARKS.md records.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex, RwLock,
        atomic::{AtomicBool, AtomicU64, Ordering::Relaxed},
    },
    time::{Duration, Instant},
};

use reqwest::{Client, Method};
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app_in};

/// What the server acknowledged (and what it was asked without answering).
#[derive(Default)]
struct Ledger {
    /// Stories created and acknowledged.
    stories: Vec<String>,
    /// Per story: (last acknowledged title, title of an edit that got no answer).
    titles: HashMap<String, (String, Option<String>)>,
    /// Node batches: (story, marker, size, acknowledged).
    batches: Vec<(String, String, usize, bool)>,
    /// Exports acknowledged (task ids).
    exports: Vec<String>,
}

#[derive(Default)]
struct Counts {
    requests: AtomicU64,
    acknowledged: AtomicU64,
    unanswered: AtomicU64,
    refused: AtomicU64,
}

struct Soak {
    base: RwLock<String>,
    http: Client,
    ledger: Mutex<Ledger>,
    counts: Counts,
    stop: AtomicBool,
}

/// How a request ended, for the ledger.
enum Outcome {
    /// The server answered 2xx with this body.
    Ok(Value),
    /// The server answered something else (or could not be reached): nothing was written.
    Refused,
    /// No answer: the write may or may not have been applied.
    Unanswered,
}

impl Soak {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base.read().expect("lock"))
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Outcome {
        self.counts.requests.fetch_add(1, Relaxed);
        let mut req = self
            .http
            .request(method, self.url(path))
            .timeout(Duration::from_secs(20));
        if let Some(b) = body {
            req = req.json(&b);
        }
        match req.send().await {
            Ok(res) if res.status().is_success() => match res.json().await {
                Ok(v) => {
                    self.counts.acknowledged.fetch_add(1, Relaxed);
                    Outcome::Ok(v)
                }
                Err(_) => {
                    self.counts.unanswered.fetch_add(1, Relaxed);
                    Outcome::Unanswered
                }
            },
            Ok(_) => {
                self.counts.refused.fetch_add(1, Relaxed);
                Outcome::Refused
            }
            Err(e) if e.is_connect() => {
                // Nothing reached a server: certainly not applied. Wait for the restart.
                self.counts.refused.fetch_add(1, Relaxed);
                tokio::time::sleep(Duration::from_millis(50)).await;
                Outcome::Refused
            }
            Err(_) => {
                self.counts.unanswered.fetch_add(1, Relaxed);
                tokio::time::sleep(Duration::from_millis(50)).await;
                Outcome::Unanswered
            }
        }
    }

    fn story(&self, n: u64) -> Option<String> {
        let l = self.ledger.lock().expect("lock");
        (!l.stories.is_empty()).then(|| l.stories[(n as usize) % l.stories.len()].clone())
    }

    /// One of the stories whose index is `w` modulo `of`: each editor has its own.
    fn own_story(&self, n: u64, w: usize, of: usize) -> Option<String> {
        let l = self.ledger.lock().expect("lock");
        let mine: Vec<&String> = l.stories.iter().skip(w).step_by(of).collect();
        (!mine.is_empty()).then(|| mine[(n as usize) % mine.len()].clone())
    }
}

async fn creator(s: Arc<Soak>) {
    let mut n = 0u64;
    while !s.stop.load(Relaxed) {
        n += 1;
        let title = format!("soak story {n}");
        if let Outcome::Ok(story) = s
            .call(
                Method::POST,
                "/api/stories",
                Some(json!({ "title": title })),
            )
            .await
        {
            let id = story["id"].as_str().unwrap_or_default().to_owned();
            let mut l = s.ledger.lock().expect("lock");
            l.titles.insert(id.clone(), (title, None));
            l.stories.push(id);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Edits its own stories (editor `w` of two takes every other one), one edit at a time, so
/// the ledger knows their order.
async fn editor(s: Arc<Soak>, w: usize) {
    let mut n = 0u64;
    while !s.stop.load(Relaxed) {
        n += 1;
        let Some(id) = s.own_story(n, w, 2) else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        if s.ledger
            .lock()
            .expect("lock")
            .titles
            .get(&id)
            .is_none_or(|t| t.1.is_some())
        {
            // An unanswered edit made its state unknown: leave it be.
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        }
        let title = format!("edit {w}-{n}");
        match s
            .call(
                Method::PATCH,
                &format!("/api/stories/{id}"),
                Some(json!({ "title": title })),
            )
            .await
        {
            Outcome::Ok(_) => {
                if let Some(t) = s.ledger.lock().expect("lock").titles.get_mut(&id) {
                    t.0 = title;
                }
            }
            Outcome::Unanswered => {
                if let Some(t) = s.ledger.lock().expect("lock").titles.get_mut(&id) {
                    t.1 = Some(title);
                }
            }
            Outcome::Refused => {}
        }
    }
}

async fn batcher(s: Arc<Soak>) {
    let mut n = 0u64;
    while !s.stop.load(Relaxed) {
        n += 1;
        let Some(id) = s.story(n * 7) else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let size = 20 + (n as usize % 5) * 40;
        let marker = format!("batch-{n}");
        let nodes: Vec<Value> = (0..size)
            .map(|i| {
                if i == 0 {
                    json!({"ref": "r0", "kind": "chapter", "title": format!("{marker} 0")})
                } else {
                    json!({"ref": format!("r{i}"), "parent_ref": format!("r{}", (i - 1) / 3),
                           "kind": "scene", "title": format!("{marker} {i}"),
                           "content": "她走进了森林。She walked into the forest. ".repeat(8)})
                }
            })
            .collect();
        let outcome = s
            .call(
                Method::POST,
                &format!("/api/stories/{id}/nodes/batch"),
                Some(json!({ "nodes": nodes })),
            )
            .await;
        let acked = match outcome {
            Outcome::Ok(_) => true,
            Outcome::Unanswered => false,
            Outcome::Refused => continue,
        };
        s.ledger
            .lock()
            .expect("lock")
            .batches
            .push((id, marker, size, acked));
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
}

async fn exporter(s: Arc<Soak>) {
    let mut n = 0u64;
    while !s.stop.load(Relaxed) {
        n += 1;
        tokio::time::sleep(Duration::from_millis(700)).await;
        let Some(id) = s.story(n * 3) else { continue };
        if let Outcome::Ok(task) = s
            .call(
                Method::POST,
                &format!("/api/stories/{id}/exports"),
                Some(json!({"format": "json"})),
            )
            .await
        {
            let task = task["id"].as_str().unwrap_or_default().to_owned();
            s.ledger.lock().expect("lock").exports.push(task);
        }
    }
}

async fn reader(s: Arc<Soak>, w: u64) {
    let mut n = w;
    while !s.stop.load(Relaxed) {
        n += 1;
        let path = match (n % 3, s.story(n)) {
            (0, Some(id)) => format!("/api/stories/{id}"),
            (1, Some(id)) => format!("/api/stories/{id}/view"),
            _ => "/api/stories?limit=20".to_owned(),
        };
        let _ = s.call(Method::GET, &path, None).await;
    }
}

/// Rows in the notifications table (admin statistics).
async fn notification_rows(app: &TestApp) -> i64 {
    let stats: Value = app
        .http
        .get(app.url("/api/admin/db/stats"))
        .header("authorization", "Bearer soak")
        .send()
        .await
        .expect("stats")
        .json()
        .await
        .expect("json");
    stats["database"]["tables"]
        .as_array()
        .and_then(|t| t.iter().find(|t| t["name"] == "notifications"))
        .and_then(|t| t["rows"].as_i64())
        .unwrap_or(-1)
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

const SERVER_ENV: [(&str, &str); 3] = [
    ("AION_TASK_LEASE_SECS", "2"),
    ("AION_ADMIN_TOKEN", "soak"),
    ("AION_TASK_RETENTION_SECS", "86400"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "several minutes long: run with `cargo xtask soak`"]
async fn crash_soak() {
    let seconds = env_u64("AION_SOAK_SECS", 300);
    let seed = env_u64("AION_SOAK_SEED", 1);
    fastrand::seed(seed);
    let mut app: TestApp = spawn_app_in(tempfile::tempdir().expect("dir"), &SERVER_ENV).await;
    let soak = Arc::new(Soak {
        base: RwLock::new(app.base.clone()),
        // Signed in as the test writer (writes need an account since issue 26: an anonymous
        // client had every write refused, and the checks below passed on an empty ledger).
        // The session lives in the database, so it outlasts every restart.
        http: app.http.clone(),
        ledger: Mutex::default(),
        counts: Counts::default(),
        stop: AtomicBool::new(false),
    });
    let mut workers = vec![
        tokio::spawn(creator(soak.clone())),
        tokio::spawn(editor(soak.clone(), 0)),
        tokio::spawn(editor(soak.clone(), 1)),
        tokio::spawn(batcher(soak.clone())),
        tokio::spawn(exporter(soak.clone())),
    ];
    for w in 0..3 {
        workers.push(tokio::spawn(reader(soak.clone(), w)));
    }
    let started = Instant::now();
    let mut kills = 0u32;
    let mut restart_ms = Vec::new();
    while started.elapsed() < Duration::from_secs(seconds) {
        tokio::time::sleep(Duration::from_millis(2_000 + fastrand::u64(0..6_000))).await;
        let dir = app.kill();
        kills += 1;
        let t = Instant::now();
        app = spawn_app_in(dir, &SERVER_ENV).await;
        restart_ms.push(t.elapsed().as_millis() as u64);
        *soak.base.write().expect("lock") = app.base.clone();
    }
    soak.stop.store(true, Relaxed);
    for w in workers {
        let _ = w.await;
    }

    // Verify against the ledger on the last server, once its queue has drained.
    let ledger = std::mem::take(&mut *soak.ledger.lock().expect("lock"));
    let http = &soak.http;
    let get = |path: String| {
        let url = app.url(&path);
        async move {
            let res = http.get(url).send().await.expect("verification request");
            (
                res.status().as_u16(),
                res.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };
    let mut missing_stories = 0;
    let mut wrong_titles = 0;
    for id in &ledger.stories {
        let (status, story) = get(format!("/api/stories/{id}")).await;
        if status != 200 {
            missing_stories += 1;
            continue;
        }
        let (acked, inflight) = &ledger.titles[id];
        let title = story["title"].as_str().unwrap_or_default();
        if title != acked && Some(title) != inflight.as_deref() {
            wrong_titles += 1;
            eprintln!(
                "story {id}: title {title:?}, acknowledged {acked:?}, in flight {inflight:?}"
            );
        }
    }
    let mut trees: HashMap<String, Value> = HashMap::new();
    let mut half_batches = 0;
    let mut lost_batches = 0;
    let (mut whole_unacked, mut absent_unacked) = (0, 0);
    for (story, marker, size, acked) in &ledger.batches {
        if !trees.contains_key(story) {
            // The whole outline (a large story's tree comes in pages).
            let rows = app.outline(story).await;
            trees.insert(story.clone(), Value::Array(rows));
        }
        let prefix = format!("{marker} ");
        let found = trees[story].as_array().map_or(0, |n| {
            n.iter()
                .filter(|n| n["title"].as_str().is_some_and(|t| t.starts_with(&prefix)))
                .count()
        });
        if found != 0 && found != *size {
            half_batches += 1;
            eprintln!("batch {marker} in {story}: {found} of {size} nodes");
        }
        if *acked && found != *size {
            lost_batches += 1;
        }
        if !acked {
            if found == *size {
                whole_unacked += 1;
            } else if found == 0 {
                absent_unacked += 1;
            }
        }
    }
    let deadline = Instant::now() + Duration::from_secs(180);
    let mut bad_exports = 0;
    let unfinished = loop {
        let mut pending = 0;
        for task in &ledger.exports {
            let (_, t) = get(format!("/api/tasks/{task}")).await;
            if !t["status"]
                .as_str()
                .is_some_and(|s| matches!(s, "completed" | "failed" | "cancelled"))
            {
                pending += 1;
            }
        }
        if pending == 0 || Instant::now() > deadline {
            break pending;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    // Notifications are made by a listener after the task's own commit, and recovered at
    // start for tasks that ended just before a kill: give the last ones a moment.
    let waited = Instant::now();
    while (notification_rows(&app).await as usize) < ledger.exports.len() - unfinished
        && waited.elapsed() < Duration::from_secs(10)
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let stats: Value = http
        .get(app.url("/api/admin/db/stats"))
        .header("authorization", "Bearer soak")
        .send()
        .await
        .expect("stats")
        .json()
        .await
        .expect("json");
    let rows = |name: &str| {
        stats["database"]["tables"]
            .as_array()
            .and_then(|t| t.iter().find(|t| t["name"] == name))
            .and_then(|t| t["rows"].as_i64())
            .unwrap_or(-1)
    };
    let mut completed = 0;
    for task in &ledger.exports {
        let (_, t) = get(format!("/api/tasks/{task}")).await;
        if t["status"] == "completed" {
            completed += 1;
            let res = http
                .get(app.url(&format!("/api/tasks/{task}/result")))
                .send()
                .await
                .expect("download");
            if res.status() != 200 {
                bad_exports += 1;
            }
        } else {
            bad_exports += 1;
            eprintln!("export {task}: {t}");
        }
    }
    let files = std::fs::read_dir(app.dir().join("files"))
        .map(|d| {
            d.flatten()
                .filter(|e| e.file_name().to_string_lossy().ends_with(".json"))
                .count()
        })
        .unwrap_or(0);
    let partial_files = std::fs::read_dir(app.dir().join("files"))
        .map(|d| {
            d.flatten()
                .filter(|e| e.file_name().to_string_lossy().ends_with(".part"))
                .count()
        })
        .unwrap_or(0);
    let integrity: Value = http
        .post(app.url("/api/admin/db/integrity-check"))
        .header("authorization", "Bearer soak")
        .send()
        .await
        .expect("integrity")
        .json()
        .await
        .expect("json");
    let c = &soak.counts;
    println!(
        "\nSOAK REPORT seed={seed} duration={seconds}s kills={kills} restart_ms(max)={}\n\
         requests={} acknowledged={} unanswered={} refused={}\n\
         stories: acknowledged={} missing={missing_stories}; edits with a wrong title={wrong_titles}\n\
         node batches: {} (acknowledged {}), half-applied={half_batches}, acknowledged but lost={lost_batches}, \
         unanswered whole={whole_unacked} absent={absent_unacked}\n\
         exports: acknowledged={} completed={completed} unfinished={unfinished} bad={bad_exports}; \
         json files={files} partial files={partial_files}; notifications rows={} tasks rows={}\n\
         integrity_check={}",
        restart_ms.iter().max().unwrap_or(&0),
        c.requests.load(Relaxed),
        c.acknowledged.load(Relaxed),
        c.unanswered.load(Relaxed),
        c.refused.load(Relaxed),
        ledger.stories.len(),
        ledger.batches.len(),
        ledger.batches.iter().filter(|b| b.3).count(),
        ledger.exports.len(),
        rows("notifications"),
        rows("tasks"),
        integrity["result"],
    );
    assert!(kills > 0);
    // An empty ledger would pass every check below: the run must have done real work.
    assert!(
        ledger.stories.len() >= 20,
        "too few stories acknowledged to prove anything"
    );
    assert!(
        ledger.batches.iter().filter(|b| b.3).count() >= 5,
        "too few node batches acknowledged to prove anything"
    );
    assert!(
        ledger.exports.len() >= 5,
        "too few exports acknowledged to prove anything"
    );
    // Every acknowledged export has its task row (one a kill interrupted before its answer
    // may have one too).
    assert!(
        rows("tasks") >= ledger.exports.len() as i64,
        "{} task rows for {} acknowledged exports",
        rows("tasks"),
        ledger.exports.len()
    );
    assert_eq!(missing_stories, 0, "every acknowledged story survives");
    assert_eq!(wrong_titles, 0, "every acknowledged edit survives");
    assert_eq!(half_batches, 0, "no batch is half applied");
    assert_eq!(lost_batches, 0, "every acknowledged batch survives");
    assert_eq!(unfinished, 0, "every accepted export finishes");
    assert_eq!(
        bad_exports, 0,
        "every accepted export completes with its file"
    );
    assert_eq!(
        files, completed,
        "one file per completed export, no duplicates"
    );
    assert_eq!(partial_files, 0, "no half-written file is left");
    // One per completed export, no duplicates, and the writer keeps its newest 200
    // (notifications::KEEP_PER_OWNER): trimmed ones are not made again at a restart. (The
    // table also holds operators' alerts, which have no task.)
    let store =
        server::store::Store::open(server::store::StoreConfig::new(app.dir().join("aion.db")))
            .await
            .expect("the database opens beside the server");
    let conn = store.read().await.expect("reader");
    let of_tasks = conn
        .query_i64(
            "soak.task_notes",
            "SELECT count(*) FROM notifications WHERE task_uid IS NOT NULL",
            (),
        )
        .await
        .expect("count");
    let distinct = conn
        .query_i64(
            "soak.task_notes_distinct",
            "SELECT count(DISTINCT task_uid) FROM notifications WHERE task_uid IS NOT NULL",
            (),
        )
        .await
        .expect("count");
    assert_eq!(of_tasks, distinct, "no task has two notifications");
    assert_eq!(
        of_tasks,
        (completed as i64).min(200),
        "one notification per completed export (the newest 200 kept)"
    );
    assert_eq!(integrity["result"], "ok");
}
