//! `POST /api/vitals` and `GET /api/vitals` over HTTP: beacons are aggregated per route
//! template, bad ones are refused with the field named and change nothing, and no client
//! input grows the set of pages.

use reqwest::Method;
use serde_json::json;

use crate::helpers::spawn_app;

#[tokio::test]
async fn beacons_aggregate_per_page_and_bad_ones_change_nothing() {
    let app = spawn_app().await;
    for lcp in [1000.0, 2000.0, 3000.0, 5000.0] {
        let (status, body) = app
            .send(
                Method::POST,
                "/api/vitals",
                json!({"route": "/stories/:id", "nav": "navigate",
                       "metrics": [{"name": "LCP", "value": lcp}, {"name": "CLS", "value": 0.05}]}),
            )
            .await;
        assert_eq!(
            (status, body["recorded"].as_u64()),
            (200, Some(2)),
            "{body}"
        );
    }
    // A raw URL is not a template: it lands in `other`, however many there are.
    for i in 0..50 {
        let (status, _) = app
            .send(
                Method::POST,
                "/api/vitals",
                json!({"route": format!("/stories/{i}"), "nav": "soft",
                       "metrics": [{"name": "INP", "value": 120}]}),
            )
            .await;
        assert_eq!(status, 200);
    }
    let before = app.get_json("/api/vitals").await;
    for (body, field) in [
        (
            json!({"route": "/", "nav": "navigate", "metrics": [{"name": "FID", "value": 3}]}),
            "metrics[0].name",
        ),
        (
            json!({"route": "/", "nav": "navigate", "metrics": [{"name": "LCP", "value": -5}]}),
            "metrics[0].value",
        ),
        (
            json!({"route": "/", "nav": "warp", "metrics": [{"name": "LCP", "value": 5}]}),
            "nav",
        ),
        (
            json!({"route": "/", "nav": "navigate", "metrics": [{"name": "LCP", "value": 5, "unit": "ms"}]}),
            "metrics[0].unit",
        ),
    ] {
        let (status, err) = app.send(Method::POST, "/api/vitals", body).await;
        assert_eq!(status, 400, "{err}");
        assert_eq!(err["error"]["field"], field, "{err}");
    }
    let (status, summary) = app.get_json("/api/vitals").await;
    assert_eq!(status, 200);
    assert_eq!(summary, before.1, "refused beacons changed nothing");
    let pages = summary["pages"].as_array().expect("pages");
    assert_eq!(pages.len(), 2, "{summary}");
    let reader = &pages[0];
    assert_eq!(reader["route"], "/stories/:id");
    let lcp = &reader["metrics"][0];
    assert_eq!(
        (lcp["name"].as_str(), lcp["samples"].as_u64()),
        (Some("LCP"), Some(4))
    );
    assert_eq!(
        (
            lcp["good"].as_u64(),
            lcp["needs_improvement"].as_u64(),
            lcp["poor"].as_u64()
        ),
        (Some(2), Some(1), Some(1))
    );
    let p75 = lcp["p75"].as_f64().expect("p75");
    assert!((2900.0..=3100.0).contains(&p75), "p75 {p75}");
    assert_eq!(pages[1]["route"], "other");
    assert_eq!(pages[1]["navigations"], json!([["soft", 50]]));
}

#[tokio::test]
async fn pages_report_their_wasm_memory_and_bad_readings_change_nothing() {
    let app = spawn_app().await;
    for mib in [8u64, 10, 12, 40] {
        let (status, body) = app
            .send(
                Method::POST,
                "/api/vitals",
                json!({"route": "/", "nav": "navigate", "metrics": [{"name": "TTFB", "value": 20}],
                       "wasm_memory_bytes": mib << 20}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }
    let (_, before) = app.get_json("/api/metrics/snapshot").await;
    let res = &before["resources"];
    assert_eq!(res["client_memory_samples"], 4, "{res}");
    let p75 = res["client_memory_p75_bytes"].as_u64().unwrap_or(0) as f64;
    assert!((p75 / (12u64 << 20) as f64 - 1.0).abs() < 0.02, "{res}");
    let max = res["client_memory_max_bytes"].as_u64().unwrap_or(0) as f64;
    assert!((max / (40u64 << 20) as f64 - 1.0).abs() < 0.02, "{res}");
    for bad in [json!(0), json!(1u64 << 33), json!(-1), json!("8 MiB")] {
        let (status, err) = app
            .send(
                Method::POST,
                "/api/vitals",
                json!({"route": "/", "nav": "navigate", "metrics": [{"name": "TTFB", "value": 20}],
                       "wasm_memory_bytes": bad}),
            )
            .await;
        assert_eq!(status, 400, "{err}");
        assert_eq!(err["error"]["field"], "wasm_memory_bytes", "{err}");
    }
    let (_, after) = app.get_json("/api/metrics/snapshot").await;
    assert_eq!(after["resources"]["client_memory_samples"], 4);
}
