//! One queue for everyone (issue 27, finding 8): a client could fill every pending place
//! with exports, so that every other client's exports and the operator's backups got 503,
//! and its exports ran at the operators' priority. Now a client has a share of the pending
//! places, operators have places of their own and go first.

use reqwest::Method;
use serde_json::{Value, json};

use crate::{
    helpers::{TestApp, client, spawn_app_with},
    tasks::{add_chapters, big_story, export, wait_task},
};

/// Starts an export of `story` for `http`'s session: status and answer.
async fn export_as(app: &TestApp, http: &reqwest::Client, story: &str) -> (u16, Value) {
    let res = http
        .post(app.url(&format!("/api/stories/{story}/exports")))
        .json(&json!({ "format": "json" }))
        .send()
        .await
        .expect("sent");
    (res.status().as_u16(), res.json().await.expect("JSON"))
}

async fn backup(app: &TestApp) -> (u16, Value) {
    let res = app
        .http
        .post(app.url("/api/admin/backups"))
        .header("authorization", "Bearer secret")
        .send()
        .await
        .expect("sent");
    (res.status().as_u16(), res.json().await.expect("JSON"))
}

#[tokio::test]
async fn a_client_has_a_share_of_the_queue_and_operators_keep_their_places_and_go_first() {
    let app = spawn_app_with(&[
        ("AION_WORKERS", "1"),
        ("AION_TASK_MAX_PENDING", "6"),
        ("AION_TASK_RESERVED_PENDING", "2"),
        ("AION_TASK_MAX_PENDING_PER_CALLER", "2"),
        ("AION_ADMIN_TOKEN", "secret"),
    ])
    .await;
    let big = big_story(&app).await;
    // About five seconds of PDF against the ~50 ms the requests below take.
    for _ in 0..4 {
        add_chapters(&app, &big).await;
    }
    // The only worker renders a long PDF: everything after it waits.
    let running = export(&app, &big, "pdf").await;
    wait_task(&app, &running, |t| t["status"] == "running").await;

    let hog = client();
    for _ in 0..2 {
        let (status, task) = export_as(&app, &hog, &big).await;
        assert_eq!(status, 200, "{task}");
    }
    let (status, refused) = export_as(&app, &hog, &big).await;
    assert_eq!(
        status, 429,
        "a third waiting export of one client: {refused}"
    );
    assert_eq!(refused["error"]["code"], "rate_limited");
    assert!(
        refused["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("2 tasks waiting already")),
        "{refused}"
    );
    // Another client still gets its exports in, up to the places everyone shares (6 - 2).
    let other = client();
    let mut others = Vec::new();
    for _ in 0..2 {
        let (status, task) = export_as(&app, &other, &big).await;
        assert_eq!(status, 200, "{task}");
        others.push(task["id"].as_str().expect("id").to_owned());
    }
    let (status, full) = export_as(&app, &client(), &big).await;
    assert_eq!(status, 503, "the shared places are taken: {full}");
    assert!(
        full["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("queue is full")),
        "{full}"
    );
    // The operator's backups take the reserved places.
    let mut backups = Vec::new();
    for _ in 0..2 {
        let (status, task) = backup(&app).await;
        assert_eq!(
            status, 200,
            "a backup while clients filled the queue: {task}"
        );
        assert_eq!(task["priority"], "urgent", "{task}");
        backups.push(task["id"].as_str().expect("id").to_owned());
    }
    let (status, _) = backup(&app).await;
    assert_eq!(status, 503, "the reserve is bounded too");
    let pdf = wait_task(&app, &running, |t| t["status"] == "running").await;
    assert_eq!(
        pdf["status"], "running",
        "the PDF held the worker throughout"
    );

    // When the worker is free, the backups run before the exports queued before them.
    app.send(
        Method::POST,
        &format!("/api/tasks/{running}/cancel"),
        json!({}),
    )
    .await;
    let mut backup_done = Vec::new();
    for id in &backups {
        let done = wait_task(&app, id, |t| t["status"] == "completed").await;
        backup_done.push(done["finished_at"].as_str().expect("finished").to_owned());
    }
    for id in &others {
        let res = other
            .get(app.url(&format!("/api/tasks/{id}")))
            .send()
            .await
            .expect("sent");
        let task: Value = res.json().await.expect("JSON");
        if let Some(started) = task["started_at"].as_str() {
            assert!(
                backup_done.iter().all(|b| b.as_str() <= started),
                "an export started before a backup ended: {task}"
            );
        }
    }
}

/// Reads `aion_task_blocking_running` until it is `want`; panics after `within`.
async fn blocking_jobs_reach(app: &TestApp, want: f64, within: std::time::Duration) {
    let deadline = std::time::Instant::now() + within;
    loop {
        let now = app.metric("aion_task_blocking_running").await;
        if now == want {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "blocking jobs stayed at {now}, not {want}, for {within:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn a_cancelled_pdf_export_stops_its_thread_within_a_page() {
    let app = spawn_app_with(&[("AION_WORKERS", "1")]).await;
    // A short chapter, then one of 8,000 scenes: once the first is done, the render is
    // seconds inside the second, where the old check between chapters never came.
    let story = app.create_story("One long chapter").await;
    let text = "A long paragraph of the one chapter that goes on and on. ".repeat(30);
    let mut chapter = String::new();
    for title in ["A short chapter", "The long chapter"] {
        let made = app
            .post_ok(
                &format!("/api/stories/{story}/nodes"),
                json!({ "kind": "chapter", "title": title, "content": text }),
            )
            .await;
        chapter = made["id"].as_str().expect("id").to_owned();
    }
    for b in 0..4 {
        let nodes: Vec<Value> = (0..2_000)
            .map(|i| {
                json!({ "ref": format!("n{b}-{i}"), "parent_id": chapter, "kind": "scene",
                        "title": format!("Scene {b}-{i}"), "content": text })
            })
            .collect();
        app.post_ok(
            &format!("/api/stories/{story}/nodes/batch"),
            json!({ "nodes": nodes }),
        )
        .await;
    }
    let task = export(&app, &story, "pdf").await;
    wait_task(&app, &task, |t| {
        t["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("chapter 1 of 2"))
    })
    .await;
    blocking_jobs_reach(&app, 1.0, std::time::Duration::from_secs(1)).await;
    let cancelled = app
        .post_ok(&format!("/api/tasks/{task}/cancel"), json!({}))
        .await;
    assert!(
        matches!(cancelled["status"].as_str(), Some("running" | "cancelled")),
        "{cancelled}"
    );
    // The render stops at its next node or page, not at the end of the chapter.
    blocking_jobs_reach(&app, 0.0, std::time::Duration::from_secs(1)).await;
    let done = wait_task(&app, &task, |t| t["status"] != "running").await;
    assert_eq!(done["status"], "cancelled", "{done}");
}
