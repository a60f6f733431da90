//! The defects a hostile review found, one test each (issue 10): every one of these failed
//! before its fix.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, client, spawn_app, spawn_app_with};

/// The distinct `route` labels on `/metrics`.
async fn route_labels(app: &TestApp) -> BTreeSet<String> {
    app.metrics()
        .await
        .lines()
        .filter(|l| l.starts_with("aion_http_requests_total{"))
        .filter_map(|l| l.split("route=\"").nth(1))
        .filter_map(|l| l.split('"').next())
        .map(str::to_owned)
        .collect()
}

/// 1. Request metrics are keyed by a closed set: a thousand invented methods add one key
///    (`OTHER`) and no memory to speak of (each used to cost 1.5 MiB).
#[tokio::test]
async fn invented_methods_count_under_one_key_and_cost_no_memory() {
    let app = spawn_app().await;
    let id = app.create_story("Counted").await;
    // Reading /metrics is a request too: its own key exists from here on.
    app.metrics().await;
    let before = route_labels(&app).await;
    let rss_before = app.rss_kib();
    for i in 0..1000 {
        let method = Method::from_bytes(format!("X{i}").as_bytes()).expect("token");
        let path = if i % 2 == 0 {
            format!("/api/stories/{id}")
        } else {
            format!("/api/no/such/{i}")
        };
        let res = app
            .http
            .request(method, app.url(&path))
            .send()
            .await
            .expect("sent");
        assert!(res.status().is_client_error(), "{path}: {}", res.status());
    }
    let rss_after = app.rss_kib();
    let after = route_labels(&app).await;
    let added: Vec<&String> = after.difference(&before).collect();
    assert!(
        added.iter().all(|r| r.starts_with("OTHER ")) && added.len() <= 2,
        "only the OTHER keys of the two templates are new: {added:?}"
    );
    assert!(
        rss_after < rss_before + 16 * 1024,
        "memory grew from {rss_before} KiB to {rss_after} KiB"
    );
}

/// Every spelling of `id` the router accepts: letter case and percent-encoding.
fn spellings(id: &str) -> Vec<String> {
    let upper = id.to_uppercase();
    let mixed: String = id
        .chars()
        .enumerate()
        .map(|(i, c)| {
            if i % 2 == 0 {
                c.to_ascii_uppercase()
            } else {
                c
            }
        })
        .collect();
    let encoded: String = id.bytes().map(|b| format!("%{b:02X}")).collect();
    let first_encoded = format!("%{:02x}{}", id.as_bytes()[0], &upper[1..]);
    vec![id.to_owned(), upper, mixed, encoded, first_encoded]
}

/// 2. One canonical form of an id before anything is cached or tagged: after an edit, every
///    accepted spelling reads the edit (an upper-case id used to serve the old story for 300 s).
#[tokio::test]
async fn an_edit_is_read_back_in_every_spelling_of_the_id() {
    let app = spawn_app().await;
    let id = app.create_story("Before").await;
    let all = spellings(&id);
    for s in &all {
        let (status, story) = app.get_json(&format!("/api/stories/{s}")).await;
        assert_eq!(
            (status, story["title"].as_str()),
            (200, Some("Before")),
            "{s}"
        );
        let (status, tree) = app.get_json(&format!("/api/stories/{s}/tree")).await;
        assert_eq!(status, 200, "{s}: {tree}");
        assert_eq!(tree["nodes"].as_array().map(Vec::len), Some(0), "{s}");
    }
    let (status, edited) = app
        .send(
            Method::PATCH,
            &format!("/api/stories/{id}"),
            json!({"title": "After"}),
        )
        .await;
    assert_eq!(status, 200, "{edited}");
    app.post_ok(
        &format!("/api/stories/{id}/nodes"),
        json!({"kind": "chapter", "title": "One"}),
    )
    .await;
    for s in &all {
        let (status, story) = app.get_json(&format!("/api/stories/{s}")).await;
        assert_eq!(
            (status, story["title"].as_str()),
            (200, Some("After")),
            "{s}"
        );
        assert_eq!(story["id"], id.as_str(), "{s}: the canonical id comes back");
        let (_, tree) = app.get_json(&format!("/api/stories/{s}/tree")).await;
        assert_eq!(tree["nodes"].as_array().map(Vec::len), Some(1), "{s}");
    }
}

/// 3. A read counts only when the client got a story, after the rate limit: unknown ids and
///    429s count nothing, so a flood of ids cannot turn into writes.
#[tokio::test]
async fn only_reads_that_returned_a_story_are_counted() {
    let app = spawn_app_with(&[
        ("AION_RATE_LIMIT_PER_MINUTE", "60"),
        ("AION_RATE_LIMIT_BURST", "40"),
    ])
    .await;
    let id = app.create_story("Popular").await;
    for n in 0..10u32 {
        let unknown = format!("0190c2a4-8f1e-7c3b-9a2d-{n:012x}");
        let (status, _) = app.get_json(&format!("/api/stories/{unknown}")).await;
        assert_eq!(status, 404);
        let (status, _) = app.get_json(&format!("/stories/{unknown}")).await;
        assert_ne!(status, 200, "the reader page of an unknown story");
    }
    let mut ok = 0;
    let mut limited = 0;
    for _ in 0..30 {
        let (status, _) = app.get_json(&format!("/api/stories/{id}")).await;
        match status {
            200 => ok += 1,
            429 => limited += 1,
            other => panic!("unexpected {other}"),
        }
    }
    assert!(limited > 0, "the burst of 40 is used up");
    assert!(ok > 0);
    assert_eq!(app.metric("aion_story_reads_total").await, f64::from(ok));
    // One story at most waits to be written (none once the 5 s flush has run).
    assert!(app.metric("aion_story_reads_pending").await <= 1.0);
}

/// 4. Marking notifications read takes a bounded list, in one statement.
#[tokio::test]
async fn marking_notifications_read_takes_a_bounded_list_in_one_statement() {
    let app = spawn_app().await;
    // A session, as a page that follows its tasks has.
    let (status, _) = app.send(Method::POST, "/api/reports", json!({})).await;
    assert_eq!(status, 200);
    let ids = |n: usize| -> Vec<String> {
        (0..n)
            .map(|i| format!("0190c2a4-8f1e-7c3b-9a2d-{i:012x}"))
            .collect()
    };
    let (status, err) = app
        .send(
            Method::POST,
            "/api/notifications/read",
            json!({ "ids": ids(501) }),
        )
        .await;
    assert_eq!(
        (status, err["error"]["field"].as_str()),
        (400, Some("ids")),
        "{err}"
    );
    let statements = "aion_db_query_duration_seconds_count{query=\"notification.read\"}";
    let before = app.metric(statements).await;
    let (status, list) = app
        .send(
            Method::POST,
            "/api/notifications/read",
            json!({ "ids": ids(500) }),
        )
        .await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(app.metric(statements).await, before + 1.0, "one statement");
}

/// Waits until the task (as this client sees it) satisfies `done`.
async fn wait_task(app: &TestApp, id: &str, done: impl Fn(&Value) -> bool) -> Value {
    let start = Instant::now();
    loop {
        let (status, task) = app.get_json(&format!("/api/tasks/{id}")).await;
        assert_eq!(status, 200, "{task}");
        if done(&task) {
            return task;
        }
        assert!(start.elapsed() < Duration::from_secs(60), "{task}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// 5. A failed task says what failed in words a user can act on; paths and raw errors stay
///    in the server log.
#[tokio::test]
async fn task_errors_name_no_paths_or_internals() {
    let dir = tempfile::tempdir().expect("dir");
    let font = dir.path().join("secret-fonts").join("missing.ttc");
    let backups = dir.path().join("secret-backups");
    std::fs::write(&backups, b"a file where a directory should be").expect("file");
    let app = spawn_app_with(&[
        ("AION_PDF_FONT", font.to_str().expect("utf-8")),
        ("AION_BACKUP_DIR", backups.to_str().expect("utf-8")),
        ("AION_ADMIN_TOKEN", "t0ken"),
    ])
    .await;
    let story = app.create_story("Leaky").await;
    let mut events = app
        .http
        .get(app.url("/api/events"))
        .send()
        .await
        .expect("events");
    let pdf = app
        .post_ok(
            &format!("/api/stories/{story}/exports"),
            json!({"format": "pdf"}),
        )
        .await;
    let pdf = pdf["id"].as_str().expect("id").to_owned();
    let failed = wait_task(&app, &pdf, |t| t["status"] == "failed").await;
    let error = failed["error"].as_str().expect("an error");
    assert!(error.contains("font"), "says what is missing: {error}");
    let backup: Value = app
        .http
        .post(app.url("/api/admin/backups"))
        .header("authorization", "Bearer t0ken")
        .send()
        .await
        .expect("backup")
        .json()
        .await
        .expect("task");
    let backup = backup["id"].as_str().expect("id").to_owned();
    let attempt = wait_task(&app, &backup, |t| !t["error"].is_null()).await;

    let mut seen = String::new();
    while !seen.contains("\"type\":\"notification\"") {
        match tokio::time::timeout(Duration::from_secs(30), events.chunk()).await {
            Ok(Ok(Some(chunk))) => seen.push_str(&String::from_utf8_lossy(&chunk)),
            other => panic!("stream ended: {other:?}\n{seen}"),
        }
    }
    let (_, notifications) = app.get_json("/api/notifications").await;
    let (_, tasks) = app.get_json("/api/tasks").await;
    let root = dir.path().to_string_lossy().into_owned();
    for (what, text) in [
        ("pdf task", failed.to_string()),
        ("backup task", attempt.to_string()),
        ("events", seen),
        ("notifications", notifications.to_string()),
        ("task list", tasks.to_string()),
    ] {
        for secret in [
            root.as_str(),
            "secret-fonts",
            "secret-backups",
            "os error",
            "Os {",
        ] {
            assert!(!text.contains(secret), "{what} leaks {secret:?}: {text}");
        }
    }
}

/// 6. Task ids are opaque, and a task and its result belong to the session that started it:
///    another client can neither list, read, cancel nor download it.
#[tokio::test]
async fn task_results_are_private_to_the_session_that_started_them() {
    let app = spawn_app_with(&[("AION_ADMIN_TOKEN", "t0ken")]).await;
    let story = app.create_story("Private").await;
    let task = app
        .post_ok(
            &format!("/api/stories/{story}/exports"),
            json!({"format": "json"}),
        )
        .await;
    let id = task["id"].as_str().expect("id").to_owned();
    assert!(
        id.len() == 36 && id.parse::<u64>().is_err(),
        "an opaque UUID, not a counter: {id}"
    );
    wait_task(&app, &id, |t| t["status"] == "completed").await;
    let mine = app
        .http
        .get(app.url(&format!("/api/tasks/{id}/result")))
        .send()
        .await
        .expect("download");
    assert_eq!(mine.status(), 200);
    assert!(mine.bytes().await.expect("body").starts_with(b"{"));

    let stranger = client();
    let get = |path: String| {
        let stranger = stranger.clone();
        let url = app.url(&path);
        async move {
            stranger
                .get(url)
                .send()
                .await
                .expect("sent")
                .status()
                .as_u16()
        }
    };
    assert_eq!(get(format!("/api/tasks/{id}")).await, 404);
    assert_eq!(get(format!("/api/tasks/{id}/result")).await, 404);
    let listed: Value = stranger
        .get(app.url("/api/tasks"))
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
    assert_eq!(listed["items"], json!([]), "{listed}");
    let notifications: Value = stranger
        .get(app.url("/api/notifications"))
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
    assert_eq!(notifications["items"], json!([]), "{notifications}");
    let cancel = stranger
        .post(app.url(&format!("/api/tasks/{id}/cancel")))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .expect("cancel");
    assert_eq!(cancel.status(), 404);
    // An operator sees everything.
    let operator = reqwest::Client::new()
        .get(app.url(&format!("/api/tasks/{id}/result")))
        .header("authorization", "Bearer t0ken")
        .send()
        .await
        .expect("operator download");
    assert_eq!(operator.status(), 200);
}
