//! Background tasks end to end: exports (JSON round trip, PDF text), reports, backups,
//! notifications and the live stream, cancel, the queue bound, and crash recovery.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app, spawn_app_in, spawn_app_with};

/// Polls a task until `done` holds (bounded); the task then.
pub(crate) async fn wait_task(app: &TestApp, id: &str, done: impl Fn(&Value) -> bool) -> Value {
    let start = Instant::now();
    loop {
        let (status, task) = app.get_json(&format!("/api/tasks/{id}")).await;
        assert_eq!(status, 200, "{task}");
        if done(&task) {
            return task;
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "task {id} never got there: {task}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn finished(app: &TestApp, id: &str) -> Value {
    wait_task(app, id, |t| {
        matches!(
            t["status"].as_str(),
            Some("completed" | "failed" | "cancelled")
        )
    })
    .await
}

pub(crate) async fn export(app: &TestApp, story: &str, format: &str) -> String {
    let task = app
        .post_ok(
            &format!("/api/stories/{story}/exports"),
            json!({ "format": format }),
        )
        .await;
    task["id"].as_str().expect("task id").to_owned()
}

async fn download(app: &TestApp, task: &str) -> (String, String, Vec<u8>) {
    let res = app
        .http
        .get(app.url(&format!("/api/tasks/{task}/result")))
        .send()
        .await
        .expect("download");
    assert_eq!(res.status(), 200);
    let header = |name: &str| {
        res.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    let (ctype, disposition) = (header("content-type"), header("content-disposition"));
    (
        ctype,
        disposition,
        res.bytes().await.expect("body").to_vec(),
    )
}

/// A story with a three-level tree in Chinese and English, choices included.
async fn small_story(app: &TestApp) -> String {
    let story = app
        .post_ok(
            "/api/stories",
            json!({"title": "龙之谷 Dragon Valley", "summary": "一个关于勇气的故事 about courage",
                   "tags": ["奇幻", "demo"], "status": "in_progress", "visibility": "public"}),
        )
        .await;
    let id = story["id"].as_str().expect("id").to_owned();
    app.post_ok(
        &format!("/api/stories/{id}/nodes/batch"),
        json!({"nodes": [
            {"ref": "c1", "kind": "chapter", "title": "第一章 The Gate", "content": "城门紧闭。The gate is shut; \"quotes\" and 'apostrophes' survive."},
            {"ref": "s1", "parent_ref": "c1", "kind": "scene", "title": "守卫 The Guard", "content": "守卫拦住了你。A guard blocks the way.\nSecond paragraph 第二段。"},
            {"ref": "k1", "parent_ref": "s1", "kind": "choice", "title": "Bribe", "choice_label": "贿赂守卫 Bribe the guard"},
            {"ref": "k2", "parent_ref": "s1", "kind": "choice", "title": "Fight", "choice_label": "拔剑 Draw your sword"},
            {"ref": "e1", "parent_ref": "k1", "kind": "ending", "title": "富有的结局 Rich ending", "content": "你进城了。You are in."},
            {"ref": "c2", "kind": "chapter", "title": "第二章 The River", "content": "河水很急 The river runs fast."}
        ]}),
    )
    .await;
    id
}

#[tokio::test]
async fn a_json_export_imports_back_to_the_same_story() {
    let app = spawn_app().await;
    let story = small_story(&app).await;
    let task = export(&app, &story, "json").await;
    let done = finished(&app, &task).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["progress"], 100);
    assert_eq!(done["story_id"], story.as_str());
    assert_eq!(done["download"], format!("/api/tasks/{task}/result"));
    let (ctype, disposition, body) = download(&app, &task).await;
    assert_eq!(ctype, "application/json");
    assert!(disposition.starts_with("attachment;"), "{disposition}");
    assert!(disposition.contains(".aion.json"), "{disposition}");
    let doc: Value = serde_json::from_slice(&body).expect("export is JSON");
    assert_eq!(doc["format"], "aion.story");
    assert_eq!(doc["version"], 1);
    assert_eq!(doc["story"]["title"], "龙之谷 Dragon Valley");
    assert_eq!(doc["nodes"].as_array().map(Vec::len), Some(6));

    let imported = app.post_ok("/api/stories/import", doc.clone()).await;
    let new_id = imported["id"].as_str().expect("id");
    assert_ne!(new_id, story);
    assert_eq!(imported["title"], "龙之谷 Dragon Valley");
    assert_eq!(imported["node_count"], 6);
    assert_eq!(imported["tags"], json!(["奇幻", "demo"]));
    assert_eq!(imported["status"], "in_progress");
    // Same tree: same nodes in the same order under the same parents.
    let shape = |tree: &Value| -> Vec<Value> {
        let nodes = tree["nodes"].as_array().expect("nodes");
        let index = |id: &Value| nodes.iter().position(|n| &n["id"] == id);
        nodes
            .iter()
            .map(|n| {
                json!([
                    n["kind"],
                    n["title"],
                    n["content"],
                    n["choice_label"],
                    n["position"],
                    index(&n["parent_id"])
                ])
            })
            .collect()
    };
    let (_, old_tree) = app.get_json(&format!("/api/stories/{story}/tree")).await;
    let (_, new_tree) = app.get_json(&format!("/api/stories/{new_id}/tree")).await;
    assert_eq!(shape(&old_tree), shape(&new_tree));

    // A second export of the import is the same document but for ids and times.
    let again = export(&app, new_id, "json").await;
    finished(&app, &again).await;
    let (_, _, body2) = download(&app, &again).await;
    let doc2: Value = serde_json::from_slice(&body2).expect("JSON");
    let strip = |d: &Value| {
        d["nodes"]
            .as_array()
            .expect("nodes")
            .iter()
            .map(|n| {
                json!([
                    n["kind"],
                    n["title"],
                    n["content"],
                    n["choice_label"],
                    n["position"]
                ])
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(strip(&doc), strip(&doc2));
}

#[tokio::test]
async fn a_bad_import_is_refused_naming_the_field_and_creates_nothing() {
    let app = spawn_app().await;
    let story = small_story(&app).await;
    let task = export(&app, &story, "json").await;
    finished(&app, &task).await;
    let (_, _, body) = download(&app, &task).await;
    let doc: Value = serde_json::from_slice(&body).expect("JSON");
    let (_, before) = app.get_json("/api/stories").await;

    let mut wrong_format = doc.clone();
    wrong_format["format"] = json!("something.else");
    let mut wrong_version = doc.clone();
    wrong_version["version"] = json!(99);
    let mut dangling = doc.clone();
    dangling["nodes"][1]["parent_ref"] = json!("no-such-ref");
    let mut bad_title = doc.clone();
    bad_title["nodes"][2]["title"] = json!("");
    for (body, field) in [
        (wrong_format, "format"),
        (wrong_version, "version"),
        (dangling, "nodes[1].parent_ref"),
        (bad_title, "nodes[2].title"),
    ] {
        let (status, err) = app.send(Method::POST, "/api/stories/import", body).await;
        assert_eq!(status, 400, "{err}");
        assert_eq!(err["error"]["field"], field, "{err}");
    }
    let (status, err) = app
        .send_raw(Method::POST, "/api/stories/import", "{not json")
        .await;
    assert_eq!(status, 400, "{err}");
    let (_, after) = app.get_json("/api/stories").await;
    assert_eq!(
        before["items"].as_array().map(Vec::len),
        after["items"].as_array().map(Vec::len),
        "a refused import leaves no story behind"
    );
}

#[tokio::test]
async fn an_import_appears_whole_or_not_at_all() {
    let app = spawn_app().await;
    let story = small_story(&app).await;
    let task = export(&app, &story, "json").await;
    finished(&app, &task).await;
    let (_, _, body) = download(&app, &task).await;
    let mut doc: Value = serde_json::from_slice(&body).expect("JSON");
    // 20,000 nodes: two of the batches the import writes, a second or so of writing.
    const NODES: usize = 20_000;
    let template = doc["nodes"][0].clone();
    let nodes: Vec<Value> = (0..NODES)
        .map(|i| {
            let mut n = template.clone();
            n["ref"] = json!(format!("r{i}"));
            n["parent_ref"] = if i == 0 { Value::Null } else { json!("r0") };
            n["kind"] = json!(if i == 0 { "chapter" } else { "scene" });
            n["title"] = json!(format!("Part {i}"));
            n["content"] = json!("Text of a part of the story that is imported whole.");
            n
        })
        .collect();
    doc["nodes"] = json!(nodes);
    doc["story"]["title"] = json!("Whole or nothing");
    let mut bad = doc.clone();
    bad["nodes"][NODES - 1]["title"] = json!("");

    // A reader watches the writer's own stories while the import runs.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watcher = {
        let (http, url, stop) = (
            app.http.clone(),
            app.url("/api/stories?scope=mine&limit=100"),
            stop.clone(),
        );
        tokio::spawn(async move {
            let mut seen = Vec::new();
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                let list: Value = http
                    .get(&url)
                    .send()
                    .await
                    .expect("list")
                    .json()
                    .await
                    .expect("JSON");
                for s in list["items"].as_array().expect("items") {
                    if s["title"] == "Whole or nothing" {
                        seen.push(s["node_count"].as_u64().unwrap_or(0));
                    }
                }
            }
            seen
        })
    };
    let (_, before) = app.get_json("/api/stories?scope=mine&limit=100").await;
    let (status, err) = app.send(Method::POST, "/api/stories/import", bad).await;
    assert_eq!(status, 400, "{err}");
    assert_eq!(
        err["error"]["field"],
        format!("nodes[{}].title", NODES - 1),
        "{err}"
    );
    let (_, after) = app.get_json("/api/stories?scope=mine&limit=100").await;
    assert_eq!(
        before["items"], after["items"],
        "a refused import leaves nothing"
    );
    let imported = app.post_ok("/api/stories/import", doc).await;
    assert_eq!(imported["node_count"], NODES);
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let seen = watcher.await.expect("watcher");
    assert!(
        seen.iter().all(|&n| n == NODES as u64),
        "a reader saw the story half imported: node counts {:?}",
        seen.iter()
            .filter(|&&n| n != NODES as u64)
            .take(10)
            .collect::<Vec<_>>()
    );
}

/// Runs a poppler tool on `pdf` and returns what it printed.
fn poppler(tool: &str, args: &[&str], pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("x.pdf");
    std::fs::write(&path, pdf).expect("write pdf");
    let out = std::process::Command::new(tool)
        .args(args)
        .arg(&path)
        .args(if tool == "pdftotext" {
            &["-"][..]
        } else {
            &[][..]
        })
        .output()
        .unwrap_or_else(|e| panic!("{tool} (poppler-utils) runs: {e}"));
    assert!(
        out.status.success(),
        "{tool}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

fn pdftotext(pdf: &[u8]) -> String {
    poppler("pdftotext", &["-enc", "UTF-8"], pdf)
}

#[tokio::test]
async fn a_pdf_export_carries_the_chinese_and_english_text_in_an_embedded_subset_font() {
    let app = spawn_app().await;
    let story = small_story(&app).await;
    let task = export(&app, &story, "pdf").await;
    let done = finished(&app, &task).await;
    assert_eq!(done["status"], "completed", "{done}");
    let (ctype, disposition, pdf) = download(&app, &task).await;
    assert_eq!(ctype, "application/pdf");
    assert!(disposition.contains(".pdf"), "{disposition}");
    assert!(pdf.starts_with(b"%PDF-"));
    let text = pdftotext(&pdf);
    for expected in [
        "龙之谷 Dragon Valley",
        "一个关于勇气的故事 about courage",
        "第一章 The Gate",
        "城门紧闭。The gate is shut;",
        "守卫拦住了你。A guard blocks the way.",
        "Second paragraph 第二段。",
        "贿赂守卫 Bribe the guard",
        "拔剑 Draw your sword",
        "富有的结局 Rich ending",
        "第二章 The River",
    ] {
        assert!(
            text.contains(expected),
            "{expected:?} missing from:\n{text}"
        );
    }
    // Choices are numbered branches pointing at numbered sections.
    assert!(text.contains("1. 贿赂守卫 Bribe the guard → §2"), "{text}");
    assert!(text.contains("§4"), "{text}");
    let fonts = poppler("pdffonts", &[], &pdf);
    assert!(fonts.contains("WenQuanYi"), "{fonts}");
    let font_line = fonts
        .lines()
        .find(|l| l.contains("WenQuanYi"))
        .unwrap_or("");
    // pdffonts columns: ... emb sub uni ...
    assert!(
        font_line.contains("yes yes yes"),
        "embedded, subset, unicode: {fonts}"
    );
    assert!(
        pdf.len() < 400_000,
        "a subset font keeps the file small: {} bytes",
        pdf.len()
    );
}

#[tokio::test]
async fn reports_of_a_story_and_of_the_library_are_downloadable() {
    let app = spawn_app().await;
    let story = small_story(&app).await;
    let one = app
        .post_ok("/api/reports", json!({ "story_id": story }))
        .await;
    let all = app.post_ok("/api/reports", json!({})).await;
    for (task, must) in [
        (
            one["id"].as_str().expect("id"),
            vec![
                "# Report: 龙之谷 Dragon Valley",
                "| nodes | 6 |",
                "| deepest level | 4 |",
                "| ending | 1 |",
            ],
        ),
        (
            all["id"].as_str().expect("id"),
            vec![
                "# Library report",
                "| stories | 1 |",
                "| nodes | 6 |",
                "龙之谷 Dragon Valley",
            ],
        ),
    ] {
        let done = finished(&app, task).await;
        assert_eq!(done["status"], "completed", "{done}");
        let (ctype, _, body) = download(&app, task).await;
        assert!(ctype.starts_with("text/markdown"), "{ctype}");
        let text = String::from_utf8(body).expect("utf-8");
        for m in must {
            assert!(text.contains(m), "{m:?} missing from:\n{text}");
        }
    }
    let (status, err) = app
        .send(Method::POST, "/api/reports", json!({ "story_id": "nope" }))
        .await;
    assert_eq!(
        (status, err["error"]["field"].as_str()),
        (400, Some("story_id"))
    );
}

#[tokio::test]
async fn backups_are_verified_listed_and_rotated() {
    let app = spawn_app_with(&[("AION_ADMIN_TOKEN", "secret"), ("AION_BACKUP_KEEP", "2")]).await;
    small_story(&app).await;
    let admin = |m: Method, path: &str| {
        app.http
            .request(m, app.url(path))
            .header("authorization", "Bearer secret")
    };
    let mut files = Vec::new();
    for _ in 0..3 {
        let res = admin(Method::POST, "/api/admin/backups")
            .send()
            .await
            .expect("post");
        assert_eq!(res.status(), 200);
        let task: Value = res.json().await.expect("json");
        let done = finished(&app, task["id"].as_str().expect("id")).await;
        assert_eq!(done["status"], "completed", "{done}");
        files.push(done["id"].clone());
    }
    let res = admin(Method::GET, "/api/admin/backups")
        .send()
        .await
        .expect("get");
    let list: Value = res.json().await.expect("json");
    let list = list.as_array().expect("list");
    assert_eq!(list.len(), 2, "keeps the newest two: {list:?}");
    for b in list {
        assert_eq!(b["integrity"], "ok");
        assert_eq!(b["present"], true);
        let stories = b["tables"]
            .as_array()
            .expect("tables")
            .iter()
            .find(|t| t["name"] == "stories")
            .cloned()
            .unwrap_or_default();
        assert_eq!(stories["rows"], 1, "{b}");
    }
    let on_disk = std::fs::read_dir(app.dir().join("backups"))
        .expect("backup dir")
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.file_name().to_string_lossy().ends_with(".db"))
        })
        .count();
    assert_eq!(on_disk, 2);
    // Without the token, nothing.
    let res = app
        .http
        .post(app.url("/api/admin/backups"))
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 401);
}

#[tokio::test]
async fn finished_tasks_notify_and_the_live_stream_reports_progress() {
    let app = spawn_app().await;
    let story = small_story(&app).await;
    let mut stream = app
        .http
        .get(app.url("/api/events"))
        .send()
        .await
        .expect("event stream");
    assert_eq!(stream.status(), 200);
    assert!(
        stream
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/event-stream"))
    );
    assert!(
        stream.headers().get("content-encoding").is_none(),
        "SSE is never compressed"
    );
    let task = export(&app, &story, "pdf").await;
    let mut seen = String::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !(seen.contains("\"type\":\"notification\"") && seen.contains("\"status\":\"completed\""))
    {
        assert!(Instant::now() < deadline, "no completion seen in:\n{seen}");
        match tokio::time::timeout(Duration::from_secs(30), stream.chunk()).await {
            Ok(Ok(Some(chunk))) => seen.push_str(&String::from_utf8_lossy(&chunk)),
            other => panic!("stream ended: {other:?}\n{seen}"),
        }
    }
    assert!(seen.contains(&format!("\"id\":\"{task}\"")), "{seen}");
    assert!(seen.contains("\"status\":\"running\""), "{seen}");
    assert!(
        seen.contains("chapter 1 of 2"),
        "progress per chapter: {seen}"
    );

    let (_, list) = app.get_json("/api/notifications").await;
    assert_eq!(list["unread"], 1, "{list}");
    let n = &list["items"][0];
    assert_eq!(n["level"], "success");
    assert_eq!(n["title"], "PDF export of “龙之谷 Dragon Valley” is ready");
    assert_eq!(n["link"], format!("/api/tasks/{task}/result"));
    let read = app.post_ok("/api/notifications/read", json!({})).await;
    assert_eq!(read["unread"], 0);
    assert_eq!(read["items"][0]["read"], true);
}

/// A story big enough that its PDF takes a while: 20 chapters of 100 nodes with long text.
pub(crate) async fn big_story(app: &TestApp) -> String {
    let id = app.create_story("长篇 Long Story").await;
    add_chapters(app, &id).await;
    id
}

/// Adds 20 chapters of 100 nodes with long text to `id` (a PDF of them takes about a
/// second in a release build).
pub(crate) async fn add_chapters(app: &TestApp, id: &str) {
    let text = "很久很久以前，在一个遥远的王国里，住着一位勇敢的骑士。Once upon a time, in a \
                faraway kingdom, there lived a brave knight who feared nothing at all. "
        .repeat(6);
    let mut nodes = Vec::new();
    for c in 0..20 {
        nodes.push(json!({"ref": format!("c{c}"), "kind": "chapter",
                          "title": format!("第{c}章 Chapter {c}"), "content": text}));
        for s in 0..99 {
            let parent = if s == 0 {
                format!("c{c}")
            } else {
                format!("s{c}-{}", s - 1)
            };
            nodes.push(json!({"ref": format!("s{c}-{s}"), "parent_ref": parent,
                              "kind": "scene", "title": format!("Scene {s} 场景"), "content": text}));
        }
    }
    app.post_ok(
        &format!("/api/stories/{id}/nodes/batch"),
        json!({ "nodes": nodes }),
    )
    .await;
}

#[tokio::test]
async fn cancel_stops_pending_and_running_tasks_and_a_full_queue_says_503() {
    let app = spawn_app_with(&[("AION_WORKERS", "1"), ("AION_TASK_MAX_PENDING", "1")]).await;
    let big = big_story(&app).await;
    let running = export(&app, &big, "pdf").await;
    wait_task(&app, &running, |t| t["status"] == "running").await;
    let pending = export(&app, &big, "json").await;
    let (status, err) = app
        .send(
            Method::POST,
            &format!("/api/stories/{big}/exports"),
            json!({"format": "json"}),
        )
        .await;
    assert_eq!(status, 503, "{err}");
    assert!(
        err["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("queue is full (1 tasks waiting)")),
        "{err}"
    );

    let cancelled = app
        .post_ok(&format!("/api/tasks/{pending}/cancel"), json!({}))
        .await;
    assert_eq!(cancelled["status"], "cancelled");
    let stopped = app
        .post_ok(&format!("/api/tasks/{running}/cancel"), json!({}))
        .await;
    assert!(matches!(
        stopped["status"].as_str(),
        Some("running" | "cancelled")
    ));
    let done = finished(&app, &running).await;
    assert_eq!(done["status"], "cancelled", "{done}");
    assert_eq!(done["download"], Value::Null);
    let res = app
        .http
        .get(app.url(&format!("/api/tasks/{running}/result")))
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), 409);
    // Nothing is notified for what the user cancelled.
    let (_, list) = app.get_json("/api/notifications").await;
    assert_eq!(list["unread"], 0, "{list}");

    let (_, cancelled_list) = app.get_json("/api/tasks?status=cancelled").await;
    assert_eq!(cancelled_list["items"].as_array().map(Vec::len), Some(2));
    for (path, status, field) in [
        ("/api/tasks/abc", 400, Some("id")),
        ("/api/tasks/999999", 400, Some("id")),
        ("/api/tasks/0190c2a4-8f1e-7c3b-9a2d-4e5f60718293", 404, None),
        ("/api/tasks?status=done", 400, Some("status")),
        ("/api/tasks?limit=0", 400, Some("limit")),
    ] {
        let (s, e) = app.get_json(path).await;
        assert_eq!(
            (s, e["error"]["field"].as_str()),
            (status, field),
            "{path}: {e}"
        );
    }
    let (s, e) = app
        .send(
            Method::POST,
            &format!("/api/stories/{big}/exports"),
            json!({"format": "docx"}),
        )
        .await;
    assert_eq!((s, e["error"]["field"].as_str()), (400, Some("format")));
}

#[tokio::test]
async fn a_task_interrupted_by_a_killed_server_runs_to_completion_once_after_restart() {
    let env = [("AION_TASK_LEASE_SECS", "2")];
    let app = spawn_app_with(&env).await;
    let big = big_story(&app).await;
    let task = export(&app, &big, "pdf").await;
    wait_task(&app, &task, |t| {
        t["status"] == "running" && t["progress"].as_u64().is_some_and(|p| p >= 5)
    })
    .await;
    // The same client (its session cookie) after the restart.
    let http = app.http.clone();
    let dir = app.kill();

    let mut app = spawn_app_in(dir, &env).await;
    app.http = http;
    let done = finished(&app, &task).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(
        done["attempts"], 2,
        "claimed again after the lease ran out: {done}"
    );
    let (_, _, pdf) = download(&app, &task).await;
    let text = pdftotext(&pdf);
    assert!(
        text.contains("第19章 Chapter 19"),
        "the whole story is in the PDF"
    );
    let (_, list) = app.get_json("/api/notifications").await;
    let about_it = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|n| n["task_id"] == task.as_str())
        .count();
    assert_eq!(about_it, 1, "completed once, notified once: {list}");
    let (_, metrics) = app.get_json("/api/tasks/stats").await;
    assert_eq!(metrics["completed"], 1, "{metrics}");
    // The queue is on /metrics too.
    let text = app
        .http
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    let line = |name: &str| {
        text.lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("{name} missing from /metrics"))
            .to_owned()
    };
    assert!(
        line("aion_tasks{status=\"completed\"}").ends_with(" 1"),
        "{text}"
    );
    assert!(line("aion_task_queue_depth").ends_with(" 0"), "{text}");
}

#[tokio::test]
async fn tasks_and_notifications_are_never_kept_by_a_cache() {
    let app = spawn_app().await;
    let story = small_story(&app).await;
    let task = export(&app, &story, "json").await;
    finished(&app, &task).await;
    for path in [
        "/api/tasks".to_owned(),
        format!("/api/tasks/{task}"),
        "/api/notifications".to_owned(),
    ] {
        let res = app.http.get(app.url(&path)).send().await.expect("sent");
        assert_eq!(res.status(), 200, "{path}");
        assert_eq!(
            res.headers()
                .get("cache-control")
                .and_then(|v| v.to_str().ok()),
            Some("private, no-store"),
            "{path}"
        );
    }
}

/// SIGTERM with a request in flight and a task running: the request is answered, the
/// process exits 0 within the grace (`AION_SHUTDOWN_GRACE_MS`), and the task, released
/// rather than lost or failed, runs to its end at the next start.
#[tokio::test]
async fn sigterm_finishes_requests_releases_the_running_task_and_exits_0() {
    let app = spawn_app_with(&[("AION_WORKERS", "1"), ("AION_SHUTDOWN_GRACE_MS", "3000")]).await;
    let big = big_story(&app).await;
    for _ in 0..4 {
        add_chapters(&app, &big).await;
    }
    let running = export(&app, &big, "pdf").await;
    wait_task(&app, &running, |t| t["status"] == "running").await;
    // A request in flight: a batch of 10,000 nodes, a few hundred milliseconds of work.
    let other = app.create_story("Written during shutdown").await;
    let nodes: Vec<Value> = (0..10_000)
        .map(|i| json!({"kind": "scene", "title": format!("n{i}"), "content": "text ".repeat(20)}))
        .collect();
    let batch = app
        .http
        .post(app.url(&format!("/api/stories/{other}/nodes/batch")))
        .json(&json!({ "nodes": nodes }))
        .send();
    let in_flight = "aion_http_in_flight{route=\"POST /api/stories/{id}/nodes/batch\"} 1";
    let (batch, app) = tokio::join!(batch, async move {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !app.metrics().await.lines().any(|l| l == in_flight) {
            assert!(Instant::now() < deadline, "the batch never arrived");
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        app
    });
    let started = Instant::now();
    let (status, dir) = tokio::task::spawn_blocking(move || app.terminate(Duration::from_secs(10)))
        .await
        .expect("terminated");
    let batch = batch.expect("the request in flight was answered");
    assert_eq!(batch.status(), 200, "and finished its work");
    assert!(status.success(), "exit status {status:?}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?} (grace 3 s)",
        started.elapsed()
    );
    // The next start runs the released task to its end.
    let app = crate::helpers::spawn_app_in(dir, &[("AION_WORKERS", "1")]).await;
    let done = wait_task(&app, &running, |t| t["status"] == "completed").await;
    assert!(done["attempts"].as_u64() >= Some(1), "{done}");
    let (_, outline) = app
        .get_json(&format!("/api/stories/{other}/outline?limit=1"))
        .await;
    assert_eq!(outline["total"], 10_000, "the batch was kept");
}
