//! The dashboard's alerts through HTTP: thresholds set by an operator, states moving with
//! what the server measures (normal → pending → firing → resolved, at the history's 600 ms
//! sampling here), operators' notifications, and bad threshold bodies refused.
//!
//! An alert fires on its third breaching sample, so it is pending for two samples: 1.2 s
//! here, against a poll of the snapshot about every 100 ms, so the test sees the pending
//! state on every run rather than by luck (at 200 ms sampling it was a 400 ms window).

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app_with};

const TOKEN: &str = "al3rt-token";

async fn app() -> TestApp {
    spawn_app_with(&[
        ("AION_ADMIN_TOKEN", TOKEN),
        ("AION_HISTORY_SAMPLE_MS", "600"),
    ])
    .await
}

async fn set(app: &TestApp, body: Value) -> (u16, Value) {
    let res = app
        .http
        .put(app.url("/api/admin/alerts"))
        .bearer_auth(TOKEN)
        .json(&body)
        .send()
        .await
        .expect("sent");
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// The alert `name` in a fresh snapshot.
async fn alert(app: &TestApp, name: &str) -> Value {
    let (status, s) = app.get_json("/api/metrics/snapshot").await;
    assert_eq!(status, 200, "{s}");
    s["alerts"]
        .as_array()
        .expect("alerts")
        .iter()
        .find(|a| a["name"] == name)
        .cloned()
        .unwrap_or_else(|| panic!("no alert {name} in {s}"))
}

/// Sends traffic until the alert `name` is in `state` (at most 20 s); the states it went
/// through on the way, each once.
async fn until_state(app: &TestApp, name: &str, state: &str) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut seen: Vec<String> = Vec::new();
    loop {
        for _ in 0..5 {
            app.get_json("/api/health").await;
        }
        let a = alert(app, name).await;
        let now = a["state"].as_str().expect("state").to_owned();
        if seen.last() != Some(&now) {
            seen.push(now.clone());
        }
        if now == state {
            return seen;
        }
        assert!(
            Instant::now() < deadline,
            "{name} never {state}: {seen:?} {a}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Operators' notifications (the bell).
async fn bell(app: &TestApp) -> Vec<Value> {
    let res = app
        .http
        .get(app.url("/api/notifications"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("sent");
    let list: Value = res.json().await.expect("json");
    list["items"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn a_breached_threshold_fires_once_reaches_the_bell_and_resolves_once_clear() {
    let app = app().await;
    assert_eq!(alert(&app, "api_p95_ms").await["state"], "normal");
    // Every request takes more than a microsecond: a threshold of 0.001 ms is breached.
    let (status, rules) = set(&app, json!({"api_p95_ms": 0.001})).await;
    assert_eq!(status, 200, "{rules}");
    assert_eq!(rules.as_array().map(Vec::len), Some(10), "{rules}");
    let path = until_state(&app, "api_p95_ms", "firing").await;
    assert!(
        path.ends_with(&["pending".to_owned(), "firing".to_owned()]),
        "through pending: {path:?}"
    );
    let fired = alert(&app, "api_p95_ms").await;
    assert!(fired["value"].as_f64() > Some(0.001) && fired["since_unix_ms"].as_u64() > Some(0));
    let notes = bell(&app).await;
    assert!(
        notes.iter().any(
            |n| n["title"] == "Alert: API p95 latency" && n["link"] == "/performance-dashboard"
        ),
        "{notes:?}"
    );
    // A client's own bell does not show operators' alerts.
    let (_, mine) = app.get_json("/api/notifications").await;
    assert_eq!(mine["items"].as_array().map(Vec::len), Some(0), "{mine}");

    // Well above any latency here: clear, and after three clear samples resolved.
    set(&app, json!({"api_p95_ms": 60_000})).await;
    let path = until_state(&app, "api_p95_ms", "resolved").await;
    assert_eq!(path, ["firing", "resolved"], "no flapping on the way");
    let notes = bell(&app).await;
    let count = |title: &str| notes.iter().filter(|n| n["title"] == title).count();
    assert_eq!(count("Alert: API p95 latency"), 1, "{notes:?}");
    assert_eq!(count("Resolved: API p95 latency"), 1, "{notes:?}");
    // It stays resolved while clear.
    for _ in 0..10 {
        assert_eq!(alert(&app, "api_p95_ms").await["state"], "resolved");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn thresholds_survive_a_restart() {
    let app = app().await;
    assert_eq!(set(&app, json!({"db_p95_ms": 7.5})).await.0, 200);
    let dir = app.kill();
    let app = crate::helpers::spawn_app_in(dir, &[("AION_ADMIN_TOKEN", TOKEN)]).await;
    assert_eq!(alert(&app, "db_p95_ms").await["threshold"], 7.5);
    assert_eq!(alert(&app, "api_p95_ms").await["threshold"], 100.0);
}

#[tokio::test]
async fn bad_thresholds_are_refused_naming_the_rule_and_change_nothing() {
    let app = app().await;
    for (body, field) in [
        (json!({"api_p95_mss": 5}), "api_p95_mss"),
        (json!({"api_p95_ms": -1}), "api_p95_ms"),
        (json!({"api_p95_ms": "fast"}), "api_p95_ms"),
        (json!({"api_success": 95}), "api_success"),
        (json!({"api_p95_ms": 5, "nope": 1}), "nope"),
        (json!({}), "body"),
    ] {
        let (status, err) = set(&app, body.clone()).await;
        assert_eq!(status, 400, "{body} → {err}");
        assert_eq!(err["error"]["field"], field, "{body} → {err}");
    }
    assert_eq!(alert(&app, "api_p95_ms").await["threshold"], 100.0);
    // Without the token: refused.
    let res = app
        .http
        .put(app.url("/api/admin/alerts"))
        .json(&json!({"api_p95_ms": 1}))
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), 401);
    assert_eq!(alert(&app, "api_p95_ms").await["threshold"], 100.0);
}

#[tokio::test]
async fn the_history_since_a_point_holds_only_newer_points() {
    let app = app().await;
    let deadline = Instant::now() + Duration::from_secs(20);
    let all = loop {
        app.get_json("/api/health").await;
        let (_, h) = app.get_json("/api/metrics/history").await;
        if h["points"].as_array().is_some_and(|p| p.len() >= 3) {
            break h;
        }
        assert!(Instant::now() < deadline, "{h}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let points = all["points"].as_array().expect("points");
    let since = points[1]["at_unix_ms"].as_u64().expect("time");
    let (status, newer) = app
        .get_json(&format!("/api/metrics/history?since_ms={since}"))
        .await;
    assert_eq!(status, 200);
    let newer = newer["points"].as_array().expect("points");
    assert!(newer.len() >= points.len() - 2, "{newer:?}");
    assert!(newer.iter().all(|p| p["at_unix_ms"].as_u64() > Some(since)));
    assert!(newer[0].get("db_p95_ms").is_some() && newer[0].get("tasks_per_min").is_some());
    let (status, err) = app.get_json("/api/metrics/history?since_ms=soon").await;
    assert_eq!(
        (status, &err["error"]["field"]),
        (400, &json!("since_ms")),
        "{err}"
    );
}
