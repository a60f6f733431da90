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

#[tokio::test]
async fn the_history_holds_a_point_per_interval_with_the_traffic_in_it() {
    let app = crate::helpers::spawn_app_with(&[("AION_HISTORY_SAMPLE_MS", "200")]).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        // Traffic while sampling: some point must have seen it.
        for _ in 0..20 {
            assert_eq!(app.get_json("/api/health").await.0, 200);
        }
        let (status, h) = app.get_json("/api/metrics/history").await;
        assert_eq!(status, 200);
        assert_eq!(h["interval_secs"], 0.2);
        let points = h["points"].as_array().expect("points");
        let busy = points.iter().any(|p| p["rps"].as_f64() > Some(0.0));
        if points.len() >= 3 && busy {
            let times: Vec<u64> = points
                .iter()
                .filter_map(|p| p["at_unix_ms"].as_u64())
                .collect();
            assert!(
                times.windows(2).all(|w| w[0] <= w[1]),
                "oldest first: {times:?}"
            );
            assert!(points.iter().all(|p| p["rss_bytes"].as_u64() > Some(0)));
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{h}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn the_dashboard_panels_are_rendered_from_the_measurements() {
    let app = crate::helpers::spawn_app_with(&[("AION_HISTORY_SAMPLE_MS", "200")]).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let d = loop {
        app.get_json("/api/health").await;
        let (status, d) = app.get_json("/api/metrics/dashboard?percentile=p99").await;
        assert_eq!(status, 200, "{d}");
        // Once the history has points, the charts have lines.
        if d["panels"][1][1]
            .as_str()
            .is_some_and(|h| h.contains("<polyline"))
        {
            break d;
        }
        assert!(std::time::Instant::now() < deadline, "{d}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    let ids: Vec<&str> = d["panels"]
        .as_array()
        .expect("panels")
        .iter()
        .filter_map(|p| p[0].as_str())
        .collect();
    assert_eq!(
        ids,
        [
            "alerts",
            "api",
            "database",
            "caches",
            "tasks",
            "rum",
            "resources"
        ]
    );
    let api = d["panels"][1][1].as_str().expect("html");
    assert!(
        api.contains("Requests per second") && api.contains("p99 "),
        "{api}"
    );
    assert!(
        api.contains("GET /api/health"),
        "the routes it served: {api}"
    );
    let (status, err) = app.get_json("/api/metrics/dashboard?percentile=p42").await;
    assert_eq!(
        (status, &err["error"]["field"]),
        (400, &serde_json::json!("percentile"))
    );
}

#[tokio::test]
async fn the_kept_history_survives_a_restart() {
    let env = [
        ("AION_HISTORY_SAMPLE_MS", "200"),
        ("AION_HISTORY_ROLLUP_MS", "1000"),
    ];
    let app = crate::helpers::spawn_app_with(&env).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let kept = loop {
        app.get_json("/api/health").await;
        let (status, h) = app.get_json("/api/metrics/history?range=week").await;
        assert_eq!(status, 200, "{h}");
        if h["points"].as_array().is_some_and(|p| p.len() >= 2) {
            assert_eq!(h["interval_secs"], 1.0);
            break h["points"].as_array().cloned().unwrap_or_default();
        }
        assert!(std::time::Instant::now() < deadline, "{h}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert!(
        kept.iter().any(|p| p["rps"].as_f64() > Some(0.0)),
        "the requests made show in the minutes: {kept:?}"
    );
    let dir = app.kill();
    let app = crate::helpers::spawn_app_in(dir, &env).await;
    let (_, after) = app.get_json("/api/metrics/history?range=week").await;
    let after = after["points"].as_array().cloned().unwrap_or_default();
    for point in &kept {
        assert!(after.contains(point), "{point} kept over the restart");
    }
    let (status, d) = app.get_json("/api/metrics/dashboard?range=week").await;
    assert_eq!(status, 200, "{d}");
    for bad in [
        "/api/metrics/history?range=year",
        "/api/metrics/dashboard?range=year",
    ] {
        let (status, err) = app.get_json(bad).await;
        assert_eq!(
            (status, &err["error"]["field"]),
            (400, &serde_json::json!("range")),
            "{bad}"
        );
    }
}
