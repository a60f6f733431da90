use reqwest::Method;
use serde_json::json;

use crate::helpers::spawn_app;

#[tokio::test]
async fn create_read_update_delete_a_story() {
    let app = spawn_app().await;
    let story = app
        .post_ok(
            "/api/stories",
            json!({"title": "  龙的传说 The Dragon  ", "summary": "一个故事", "tags": ["奇幻", "奇幻", "epic"]}),
        )
        .await;
    let id = story["id"].as_str().expect("id");
    assert_eq!(story["title"], "龙的传说 The Dragon");
    assert_eq!(story["status"], "draft");
    assert_eq!(story["tags"], json!(["奇幻", "epic"]));
    assert_eq!(story["node_count"], 0);

    let (status, read) = app.get_json(&format!("/api/stories/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(read, story);

    let (status, updated) = app
        .send(
            Method::PATCH,
            &format!("/api/stories/{id}"),
            json!({"status": "completed", "updated_at": story["updated_at"]}),
        )
        .await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["status"], "completed");
    assert_eq!(updated["title"], story["title"]);
    assert!(updated["updated_at"].as_str() > story["updated_at"].as_str());

    let (status, body) = app
        .send(Method::DELETE, &format!("/api/stories/{id}"), json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = app.get_json(&format!("/api/stories/{id}")).await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "not_found");
}

#[tokio::test]
async fn a_stale_edit_is_refused_with_409_and_changes_nothing() {
    let app = spawn_app().await;
    let id = app.create_story("Original").await;
    let (_, first) = app.get_json(&format!("/api/stories/{id}")).await;
    let (status, _) = app
        .send(
            Method::PATCH,
            &format!("/api/stories/{id}"),
            json!({"title": "Edit A", "updated_at": first["updated_at"]}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, body) = app
        .send(
            Method::PATCH,
            &format!("/api/stories/{id}"),
            json!({"title": "Edit B", "updated_at": first["updated_at"]}),
        )
        .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "conflict");
    let (_, now) = app.get_json(&format!("/api/stories/{id}")).await;
    assert_eq!(now["title"], "Edit A");
}

#[tokio::test]
async fn the_list_pages_with_cursors_filters_and_sorts() {
    let app = spawn_app().await;
    for i in 0..7 {
        let status = if i % 2 == 0 { "draft" } else { "completed" };
        let tags = if i < 3 {
            json!(["first-three"])
        } else {
            json!([])
        };
        app.post_ok(
            "/api/stories",
            json!({"title": format!("Story {i}"), "status": status, "tags": tags}),
        )
        .await;
    }
    // Pages of 3 cover all 7 exactly once, newest first.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/stories?limit=3&cursor={c}"),
            None => "/api/stories?limit=3".to_owned(),
        };
        let (status, page) = app.get_json(&path).await;
        assert_eq!(status, 200, "{page}");
        for s in page["items"].as_array().expect("items") {
            seen.push(s["title"].as_str().expect("title").to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    let expected: Vec<String> = (0..7).rev().map(|i| format!("Story {i}")).collect();
    assert_eq!(seen, expected);

    // A walk's first page carries the total (the virtual list's scrollbar); `offset` jumps
    // into the same order, and does not go with a cursor.
    let (_, first) = app.get_json("/api/stories?limit=3").await;
    assert_eq!(first["total"], 7, "{first}");
    let (status, jumped) = app.get_json("/api/stories?limit=2&offset=4").await;
    assert_eq!(status, 200, "{jumped}");
    let titles: Vec<&str> = jumped["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|s| s["title"].as_str().expect("t"))
        .collect();
    assert_eq!(titles, [expected[4].as_str(), expected[5].as_str()]);
    let c = first["next_cursor"].as_str().expect("cursor");
    let (_, next) = app
        .get_json(&format!("/api/stories?limit=3&cursor={c}"))
        .await;
    assert!(next.get("total").is_none(), "{next}");
    for (path, field) in [
        (format!("/api/stories?offset=2&cursor={c}"), "offset"),
        ("/api/stories?offset=-1".to_owned(), "offset"),
        ("/api/stories?offset=99999999999".to_owned(), "offset"),
    ] {
        let (status, body) = app.get_json(&path).await;
        assert_eq!(status, 400, "{path}: {body}");
        assert_eq!(body["error"]["field"], field, "{path}: {body}");
    }

    let (_, page) = app
        .get_json("/api/stories?status=completed&sort=title_asc")
        .await;
    let titles: Vec<&str> = page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|s| s["title"].as_str().expect("t"))
        .collect();
    assert_eq!(titles, ["Story 1", "Story 3", "Story 5"]);

    let (_, page) = app
        .get_json("/api/stories?tag=first-three&sort=created_asc")
        .await;
    let titles: Vec<&str> = page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|s| s["title"].as_str().expect("t"))
        .collect();
    assert_eq!(titles, ["Story 0", "Story 1", "Story 2"]);
}

#[tokio::test]
async fn archived_stories_only_show_when_asked_for() {
    let app = spawn_app().await;
    app.post_ok("/api/stories", json!({"title": "Visible"}))
        .await;
    app.post_ok(
        "/api/stories",
        json!({"title": "Old", "status": "archived"}),
    )
    .await;
    let (_, page) = app.get_json("/api/stories").await;
    assert_eq!(page["items"].as_array().expect("items").len(), 1);
    let (_, page) = app.get_json("/api/stories?status=archived").await;
    assert_eq!(page["items"][0]["title"], "Old");
}

#[tokio::test]
async fn search_finds_chinese_and_english_in_titles_summaries_and_node_text() {
    let app = spawn_app().await;
    let dragon = app.create_story("龙的传说").await;
    app.post_ok(
        "/api/stories",
        json!({"title": "Harbor", "summary": "A quiet harbour town"}),
    )
    .await;
    let hidden = app.create_story("Plain title").await;
    app.post_ok(
        &format!("/api/stories/{hidden}/nodes"),
        json!({"kind": "scene", "title": "Scene", "content": "深夜，一只凤凰飞过城墙。"}),
    )
    .await;

    let search = |q: &str| {
        let app = &app;
        let q = q.to_owned();
        async move {
            let (status, page) = app
                .get_json(&format!("/api/stories?q={}", urlencode(&q)))
                .await;
            assert_eq!(status, 200, "{page}");
            page["items"]
                .as_array()
                .expect("items")
                .iter()
                .map(|s| s["id"].as_str().expect("id").to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        search("龙的传").await,
        vec![dragon.clone()],
        "3-character Chinese title match"
    );
    assert_eq!(search("龙").await, vec![dragon], "1-character Chinese term");
    assert_eq!(search("凤凰飞").await, vec![hidden], "node content match");
    assert_eq!(
        search("harbour").await.len(),
        1,
        "case-insensitive English summary"
    );
    assert!(
        search("\"unterminated").await.is_empty(),
        "FTS syntax is matched literally"
    );
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
