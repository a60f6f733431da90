//! Hostile and broken input: every answer is a clear 4xx naming the field, and nothing is
//! lost or corrupted.

use reqwest::Method;
use serde_json::json;

use crate::helpers::spawn_app;

const NASTY: &[&str] = &[
    "'; DROP TABLE stories; --",
    "\" OR 1=1 --",
    "Bob'); DELETE FROM nodes WHERE ('1'='1",
    "%_\\",
    "NEAR(\"a\" \"b\") AND * OR",
];

#[tokio::test]
async fn sql_metacharacters_in_every_string_field_are_stored_as_text() {
    let app = spawn_app().await;
    for nasty in NASTY {
        let story = app
            .post_ok(
                "/api/stories",
                json!({"title": nasty, "summary": nasty, "tags": [nasty]}),
            )
            .await;
        assert_eq!(story["title"], *nasty);
        let id = story["id"].as_str().expect("id");
        let node = app
            .post_ok(
                &format!("/api/stories/{id}/nodes"),
                json!({"kind": "choice", "title": nasty, "content": nasty, "choice_label": nasty}),
            )
            .await;
        assert_eq!(node["content"], *nasty);
        let (status, page) = app
            .get_json(&format!("/api/stories?q={}", enc(nasty)))
            .await;
        assert_eq!(status, 200, "search for {nasty}: {page}");
        // Searched as text: the story it names is found, and the operators match nothing
        // else (the earlier stories hold none of its words).
        let found: Vec<&str> = page["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter_map(|s| s["id"].as_str())
            .collect();
        assert_eq!(found, [id], "search for {nasty}: {page}");
        let (status, page) = app
            .get_json(&format!("/api/stories?tag={}", enc(nasty)))
            .await;
        assert_eq!(status, 200, "{page}");
        assert_eq!(page["items"].as_array().expect("items").len(), 1);
    }
    let (_, page) = app.get_json("/api/stories?limit=200").await;
    assert_eq!(
        page["items"].as_array().expect("items").len(),
        NASTY.len(),
        "every story survived"
    );
}

#[tokio::test]
async fn a_sort_outside_the_whitelist_is_a_400() {
    let app = spawn_app().await;
    for sort in [
        "title; DROP TABLE stories",
        "id",
        "updated_at DESC",
        "random()",
    ] {
        let (status, body) = app
            .get_json(&format!("/api/stories?sort={}", enc(sort)))
            .await;
        assert_eq!(status, 400, "{sort}: {body}");
        assert_eq!(body["error"]["field"], "sort");
    }
    for (param, value) in [
        ("limit", "0"),
        ("limit", "500"),
        ("status", "deleted"),
        ("cursor", "not-a-cursor"),
    ] {
        let (status, body) = app.get_json(&format!("/api/stories?{param}={value}")).await;
        assert_eq!(status, 400, "{param}={value}: {body}");
        assert_eq!(body["error"]["field"], param);
    }
}

/// Found by schemathesis: a query parameter given twice was a 500.
#[tokio::test]
async fn a_query_parameter_given_twice_is_a_400() {
    let app = spawn_app().await;
    for path in [
        "/api/stories?limit=5&limit=6",
        "/api/stories?status=draft&status=draft",
        "/api/tasks?status=pending&status=pending",
        "/api/metrics/history?since_ms=1&since_ms=2",
    ] {
        let (status, body) = app.get_json(path).await;
        assert_eq!(status, 400, "{path}: {body}");
        assert_eq!(body["error"]["code"], "invalid_input", "{path}");
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert!(
            message.contains("Multiple values for one key"),
            "{path}: {message}"
        );
    }
}

#[tokio::test]
async fn malformed_or_mistyped_json_names_the_problem() {
    let app = spawn_app().await;
    let (status, body) = app
        .send_raw(Method::POST, "/api/stories", "{\"title\": \"x\"")
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], "malformed_json");
    let (status, body) = app.send_raw(Method::POST, "/api/stories", "[1, 2]").await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = app
        .send(Method::POST, "/api/stories", json!({"title": ["a"]}))
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["field"], "title");
    let (status, body) = app
        .send(
            Method::POST,
            "/api/stories",
            json!({"title": "ok", "status": "finished"}),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["field"], "status");
    let (status, body) = app
        .send(
            Method::POST,
            "/api/stories",
            json!({"title": "x".repeat(201)}),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["field"], "title");
}

#[tokio::test]
async fn oversize_bodies_are_refused_with_413() {
    let app = spawn_app().await;
    let id = app.create_story("Big").await;
    let huge = "字".repeat(800_000); // 2.4 MB of UTF-8
    let (status, body) = app
        .send(
            Method::POST,
            &format!("/api/stories/{id}/nodes"),
            json!({"kind": "text", "title": "t", "content": huge}),
        )
        .await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["error"]["code"], "payload_too_large");
    let just_over = "x".repeat(1_000_001);
    let (status, body) = app
        .send(
            Method::POST,
            &format!("/api/stories/{id}/nodes"),
            json!({"kind": "text", "title": "t", "content": just_over}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["field"], "content");
    let (_, story) = app.get_json(&format!("/api/stories/{id}")).await;
    assert_eq!(story["node_count"], 0, "nothing was written");
}

#[tokio::test]
async fn unknown_and_malformed_ids() {
    let app = spawn_app().await;
    let unknown = "0190c2a4-8f1e-7c3b-9a2d-4e5f60718293";
    for path in [
        format!("/api/stories/{unknown}"),
        format!("/api/stories/{unknown}/tree"),
        format!("/api/nodes/{unknown}"),
    ] {
        let (status, body) = app.get_json(&path).await;
        assert_eq!(status, 404, "{path}: {body}");
    }
    let (status, _) = app
        .send(
            Method::POST,
            &format!("/api/stories/{unknown}/nodes"),
            json!({"kind": "scene", "title": "x"}),
        )
        .await;
    assert_eq!(status, 404);
    let (status, body) = app.get_json("/api/stories/1%20OR%201=1").await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["field"], "id");
    let s = app.create_story("Parent check").await;
    let (status, body) = app
        .send(
            Method::POST,
            &format!("/api/stories/{s}/nodes"),
            json!({"parent_id": unknown, "kind": "scene", "title": "x"}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["field"], "parent_id");
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
