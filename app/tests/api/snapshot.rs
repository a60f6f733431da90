//! `GET /api/metrics/snapshot`: one typed reading with six sections, every figure read from
//! the running server, and never cached.

use reqwest::Method;
use serde_json::json;

use crate::helpers::spawn_app;

#[tokio::test]
async fn the_snapshot_reflects_what_the_server_just_did() {
    let app = spawn_app().await;
    let id = app.create_story("Snapshot").await;
    for _ in 0..5 {
        assert_eq!(app.get_json(&format!("/api/stories/{id}")).await.0, 200);
    }
    assert_eq!(app.get_json("/api/no-such-thing").await.0, 404);
    let (status, _) = app
        .send(
            Method::POST,
            "/api/vitals",
            json!({"route": "/", "nav": "navigate", "metrics": [{"name": "TTFB", "value": 120}]}),
        )
        .await;
    assert_eq!(status, 200);

    let res = app
        .http
        .get(app.url("/api/metrics/snapshot"))
        .send()
        .await
        .expect("snapshot");
    assert_eq!(res.headers()["cache-control"], "no-store");
    let s: serde_json::Value = res.json().await.expect("json");
    let api = &s["api"];
    assert!(api["requests_total"].as_u64() >= Some(8), "{api}");
    assert!(api["status_classes"][1].as_u64() >= Some(7), "{api}");
    assert!(api["status_classes"][3].as_u64() >= Some(1), "{api}");
    assert!(api["latency"]["p95_ms"].as_f64() > Some(0.0));
    assert!(!api["slowest_routes"].as_array().expect("routes").is_empty());
    let db = &s["database"];
    assert!(
        db["file_bytes"].as_u64() > Some(0) && db["readers"].as_u64() > Some(0),
        "{db}"
    );
    assert!(
        db["queries"]
            .as_array()
            .expect("queries")
            .iter()
            .any(|q| q["kind"] == "story.insert" || q["latency"]["count"].as_u64() > Some(0)),
        "{db}"
    );
    let caches = s["caches"].as_array().expect("caches");
    assert_eq!(caches.len(), 2);
    assert!(
        caches[0]["tiers"].as_array().is_some_and(|t| t.len() == 2),
        "{caches:?}"
    );
    assert!(s["tasks"]["workers"].as_u64() > Some(0));
    assert_eq!(s["rum"]["pages"][0]["route"], "/");
    let r = &s["resources"];
    assert!(
        r["rss_bytes"].as_u64() > Some(1 << 20) && r["open_connections"].as_u64() >= Some(1),
        "{r}"
    );
    assert!(s["uptime_secs"].as_u64().is_some() && s["at_unix_ms"].as_u64() > Some(0));
}
