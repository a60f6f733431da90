//! Admin actions from a browser: a session unlocked with the admin token starts maintenance
//! as tasks and follows them; a wrong token unlocks nothing; locking closes it again.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app, spawn_app_with};

async fn finished(app: &TestApp, id: &str) -> Value {
    let start = Instant::now();
    loop {
        let (status, task) = app.get_json(&format!("/api/tasks/{id}")).await;
        assert_eq!(status, 200, "{task}");
        if ["completed", "failed", "cancelled"].contains(&task["status"].as_str().unwrap_or("")) {
            return task;
        }
        assert!(start.elapsed() < Duration::from_secs(60), "{task}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn without_a_token_admin_actions_are_closed() {
    let app = spawn_app().await;
    let (status, access) = app.get_json("/api/admin/session").await;
    assert_eq!(
        (status, &access),
        (200, &json!({"configured": false, "admin": false}))
    );
    let (status, _) = app
        .send(Method::POST, "/api/admin/session", json!({"token": ""}))
        .await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn an_unlocked_session_runs_maintenance_as_tasks_until_it_is_locked() {
    let app = spawn_app_with(&[("AION_ADMIN_TOKEN", "s3cret-token")]).await;
    let (_, access) = app.get_json("/api/admin/session").await;
    assert_eq!(access, json!({"configured": true, "admin": false}));

    let (status, err) = app
        .send(
            Method::POST,
            "/api/admin/session",
            json!({"token": "s3cret-tokeN"}),
        )
        .await;
    assert_eq!(
        (status, &err["error"]["field"]),
        (401, &json!("token")),
        "{err}"
    );
    let (status, _) = app
        .send(Method::POST, "/api/admin/maintenance/vacuum", json!({}))
        .await;
    assert_eq!(status, 401, "a wrong token unlocked nothing");

    let unlocked = app
        .post_ok("/api/admin/session", json!({"token": "s3cret-token"}))
        .await;
    assert_eq!(unlocked["admin"], true);
    for op in [
        "analyze",
        "vacuum",
        "checkpoint",
        "integrity-check",
        "cache-warm",
        "cache-clear",
    ] {
        let task = app
            .post_ok(&format!("/api/admin/maintenance/{op}"), json!({}))
            .await;
        assert_eq!(task["kind"], "maintenance", "{task}");
        let done = finished(&app, task["id"].as_str().expect("id")).await;
        assert_eq!(done["status"], "completed", "{op}: {done}");
        assert_eq!(done["progress"], 100, "{op}: {done}");
        assert!(
            !done["message"].as_str().unwrap_or("").is_empty(),
            "{op}: {done}"
        );
    }
    let (_, checked) = app.get_json("/api/tasks?limit=50").await;
    let integrity = checked["items"]
        .as_array()
        .and_then(|items| items.iter().find(|t| t["message"] == "integrity ok"));
    assert!(integrity.is_some(), "{checked}");
    // The database section dates the checkpoint just run.
    let (_, snapshot) = app.get_json("/api/metrics/snapshot").await;
    assert!(
        snapshot["database"]["last_checkpoint_unix_ms"].as_u64() > Some(0),
        "{}",
        snapshot["database"]
    );

    let (status, err) = app
        .send(
            Method::POST,
            "/api/admin/maintenance/drop-tables",
            json!({}),
        )
        .await;
    assert_eq!(
        (status, &err["error"]["field"]),
        (400, &json!("operation")),
        "{err}"
    );

    let (status, _) = app
        .send(Method::DELETE, "/api/admin/session", json!({}))
        .await;
    assert_eq!(status, 200);
    let (status, _) = app
        .send(Method::POST, "/api/admin/maintenance/analyze", json!({}))
        .await;
    assert_eq!(status, 401, "locked again");
}
