//! Reads through the cache never show data older than the last completed write.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{spawn_app, spawn_app_with};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_is_visible_on_the_very_next_read_even_under_concurrent_readers() {
    let app = std::sync::Arc::new(spawn_app().await);
    let story = app.create_story("Version 0").await;
    let node = app
        .post_ok(
            &format!("/api/stories/{story}/nodes"),
            json!({"kind": "scene", "title": "Scene", "content": "v0"}),
        )
        .await;
    let node_id = node["id"].as_str().expect("id").to_owned();

    // Readers keep the story, its tree and the list hot in the cache the whole time.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut readers = tokio::task::JoinSet::new();
    for i in 0..8 {
        let (app, stop, story) = (app.clone(), stop.clone(), story.clone());
        readers.spawn(async move {
            let paths = [
                format!("/api/stories/{story}"),
                format!("/api/stories/{story}/tree"),
                "/api/stories".to_owned(),
            ];
            let mut n = i;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let (status, _) = app.get_json(&paths[n % 3]).await;
                assert_eq!(status, 200);
                n += 1;
            }
        });
    }

    for version in 1..=20 {
        let title = format!("Version {version}");
        app.retitle(&story, &title).await;
        let (_, read) = app.get_json(&format!("/api/stories/{story}")).await;
        assert_eq!(
            read["title"], title,
            "story read right after edit {version}"
        );
        let (_, page) = app.get_json("/api/stories").await;
        assert_eq!(
            page["items"][0]["title"], title,
            "list read right after edit {version}"
        );

        let content = format!("v{version}");
        let (status, _) = app
            .send(
                Method::PATCH,
                &format!("/api/nodes/{node_id}"),
                json!({"content": content}),
            )
            .await;
        assert_eq!(status, 200);
        let (_, tree) = app.get_json(&format!("/api/stories/{story}/tree")).await;
        assert_eq!(
            tree["nodes"][0]["content"], content,
            "tree read right after edit {version}"
        );
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    while let Some(r) = readers.join_next().await {
        r.expect("reader ran");
    }
}

#[tokio::test]
async fn admin_endpoints_need_the_token_and_show_cache_hits() {
    let closed = spawn_app().await;
    let (status, body) = closed.get_json("/api/admin/cache/stats").await;
    assert_eq!(status, 401, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .expect("message")
            .contains("AION_ADMIN_TOKEN")
    );

    let app = spawn_app_with(&[("AION_ADMIN_TOKEN", "s3cret")]).await;
    let story = app.create_story("Cached").await;
    // Read as visitors: a signed-in writer's reads are served from the response cache but
    // never fill it.
    for _ in 0..5 {
        app.anon_json(&format!("/api/stories/{story}")).await;
    }
    let (status, _) = app.get_json("/api/admin/cache/stats").await;
    assert_eq!(status, 401, "a missing token is refused");
    let res = app
        .http
        .get(app.url("/api/admin/cache/stats"))
        .bearer_auth("s3cret")
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), 200);
    let stats: serde_json::Value = res.json().await.expect("json");
    let policy = |cache: &str, name: &str| {
        stats[cache]["policies"]
            .as_array()
            .expect("policies")
            .iter()
            .find(|p| p["policy"] == name)
            .expect("policy")
            .clone()
    };
    // The first read loads the story (data cache) and keeps the answer (response cache);
    // the next four are answered from the response cache without reaching the handler.
    assert_eq!(policy("data", "story")["loads"], 1, "{stats}");
    assert_eq!(policy("responses", "api_response")["hits"], 4, "{stats}");

    let res = app
        .http
        .post(app.url("/api/admin/db/analyze"))
        .bearer_auth("s3cret")
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), 200);
    let res = app
        .http
        .post(app.url("/api/admin/db/drop-everything"))
        .bearer_auth("s3cret")
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), 400);
}

#[tokio::test]
async fn a_jump_and_the_first_page_are_cached_apart() {
    let app = spawn_app().await;
    for title in ["Oldest", "Middle", "Newest"] {
        app.create_story(title).await;
    }
    // A jump first (the virtual list's "go to"), then the first page of the same size: the
    // first page must not be the jump's, from the cache.
    let (status, jumped) = app.get_json("/api/stories?limit=1&offset=2").await;
    assert_eq!(status, 200, "{jumped}");
    assert_eq!(jumped["items"][0]["title"], "Oldest");
    let (_, first) = app.get_json("/api/stories?limit=1").await;
    assert_eq!(first["items"][0]["title"], "Newest");
    let (_, first) = app.get_json("/api/stories?limit=1&sort=updated_desc").await;
    assert_eq!(first["items"][0]["title"], "Newest");
}
