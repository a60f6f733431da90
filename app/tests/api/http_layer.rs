//! The HTTP layer around the real API: compression, ETags, rate limits, metrics, headers.

use reqwest::{Method, header};
use serde_json::json;

use crate::helpers::{spawn_app, spawn_app_with};

#[tokio::test]
async fn list_responses_are_compressed_as_negotiated() {
    let app = spawn_app().await;
    for i in 0..20 {
        app.create_story(&format!("A story with a long enough title number {i}"))
            .await;
    }
    let get = |accept: &'static str| {
        let app = &app;
        async move {
            let res = app
                .http
                .get(app.url("/api/stories"))
                .header(header::ACCEPT_ENCODING, accept)
                .send()
                .await
                .expect("sent");
            let enc = res
                .headers()
                .get(header::CONTENT_ENCODING)
                .map(|v| v.to_str().expect("ascii").to_owned());
            (enc, res.bytes().await.expect("body").len())
        }
    };
    let (plain_enc, plain) = get("identity").await;
    let (br_enc, br) = get("gzip;q=0.8, br").await;
    let (gz_enc, _) = get("gzip").await;
    assert_eq!(plain_enc, None);
    assert_eq!(br_enc.as_deref(), Some("br"));
    assert_eq!(gz_enc.as_deref(), Some("gzip"));
    assert!(br * 3 < plain, "brotli {br} bytes vs {plain} plain");
    let (health_enc, _) = {
        let res = app
            .http
            .get(app.url("/api/health"))
            .header(header::ACCEPT_ENCODING, "br")
            .send()
            .await
            .expect("sent");
        (res.headers().get(header::CONTENT_ENCODING).cloned(), ())
    };
    assert!(health_enc.is_none(), "bodies under 1 KiB stay plain");
}

#[tokio::test]
async fn trees_revalidate_with_etags_and_change_after_a_write() {
    let app = spawn_app().await;
    let s = app.create_story("ETags").await;
    let node = app
        .post_ok(
            &format!("/api/stories/{s}/nodes"),
            json!({"kind": "scene", "title": "T", "content": "one"}),
        )
        .await;
    let url = app.url(&format!("/api/stories/{s}/tree"));
    let first = app.http.get(&url).send().await.expect("sent");
    assert_eq!(first.status(), 200);
    assert_eq!(first.headers()[header::CACHE_CONTROL], "no-cache");
    let etag = first.headers()[header::ETAG].clone();

    let again = app
        .http
        .get(&url)
        .header(header::IF_NONE_MATCH, etag.clone())
        .send()
        .await
        .expect("sent");
    assert_eq!(again.status(), 304);
    assert!(again.bytes().await.expect("body").is_empty());

    let (status, _) = app
        .send(
            Method::PATCH,
            &format!("/api/nodes/{}", node["id"].as_str().expect("id")),
            json!({"content": "two"}),
        )
        .await;
    assert_eq!(status, 200);
    let after = app
        .http
        .get(&url)
        .header(header::IF_NONE_MATCH, etag.clone())
        .send()
        .await
        .expect("sent");
    assert_eq!(after.status(), 200, "the write changed the tree");
    assert_ne!(after.headers()[header::ETAG], etag);
    let tree: serde_json::Value = after.json().await.expect("json");
    assert_eq!(tree["nodes"][0]["content"], "two");

    let admin = app
        .http
        .get(app.url("/api/admin/cache/stats"))
        .send()
        .await
        .expect("sent");
    assert_eq!(admin.headers()[header::CACHE_CONTROL], "no-store");
}

#[tokio::test]
async fn writes_beyond_the_burst_are_refused_with_429_and_retry_after() {
    let app = spawn_app_with(&[
        ("AION_WRITE_RATE_LIMIT_PER_MINUTE", "60"),
        ("AION_WRITE_RATE_LIMIT_BURST", "3"),
    ])
    .await;
    // The test client's sign-up was the first write of this address's burst.
    for _ in 0..2 {
        let res = app
            .http
            .post(app.url("/api/stories"))
            .json(&json!({"title": "ok"}))
            .send()
            .await
            .expect("sent");
        assert_eq!(res.status(), 200);
        assert!(res.headers().contains_key("ratelimit-remaining"));
    }
    let res = app
        .http
        .post(app.url("/api/stories"))
        .json(&json!({"title": "too many"}))
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), 429);
    let retry: u64 = res.headers()["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("whole seconds");
    assert!(retry >= 1);
    let body: serde_json::Value = res.json().await.expect("json");
    assert_eq!(body["error"]["code"], "rate_limited");
    let (status, page) = app.get_json("/api/stories").await;
    assert_eq!(status, 200, "reads have their own budget");
    assert_eq!(
        page["items"].as_array().expect("items").len(),
        2,
        "the refused write wrote nothing"
    );
}

#[tokio::test]
async fn metrics_are_prometheus_text_with_known_counts() {
    let app = spawn_app().await;
    for _ in 0..5 {
        app.get_json("/api/health").await;
    }
    for _ in 0..2 {
        app.get_json("/api/stories/0190c2a4-8f1e-7c3b-9a2d-4e5f60718293")
            .await;
    }
    let res = app
        .http
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()[header::CONTENT_TYPE]
            .to_str()
            .expect("ascii")
            .starts_with("text/plain")
    );
    assert!(res.headers().contains_key("x-request-id"));
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    let text = res.text().await.expect("text");
    let samples = server::metrics::prometheus::parse(&text).expect("valid exposition");
    let value = |series: &str| samples.iter().find(|(s, _)| s == series).map(|(_, v)| *v);
    assert_eq!(
        value("aion_http_requests_total{route=\"GET /api/health\",status=\"2xx\"}"),
        Some(5.0),
        "{text}"
    );
    assert_eq!(
        value("aion_http_requests_total{route=\"GET /api/stories/{id}\",status=\"4xx\"}"),
        Some(2.0),
        "{text}"
    );
    assert!(
        value("aion_http_request_duration_seconds_count{route=\"GET /api/health\"}") == Some(5.0)
    );
    assert!(
        text.contains("aion_db_query_duration_seconds{query=\"story.by_id\",quantile=\"0.95\"}")
    );
    assert!(text.contains("aion_cache_hits_total{cache=\"data\",tier=\"l1\"}"));
}
