//! A story read in bounded pieces: the view of one node (what the reader and the editor's
//! form show), the outline in pages (the editor's tree), and the tree in pages past a size
//! (issue 27, finding 6).

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app, spawn_app_with};

/// Adds nodes in one batch (`(ref, parent ref, title, content)`); returns their ids.
async fn batch(
    app: &TestApp,
    story: &str,
    items: &[(&str, Option<&str>, &str, &str)],
) -> Vec<String> {
    let nodes: Vec<Value> = items
        .iter()
        .map(|(r, parent, title, content)| {
            json!({"ref": r, "parent_ref": parent, "kind": "scene", "title": title, "content": content})
        })
        .collect();
    let done = app
        .post_ok(
            &format!("/api/stories/{story}/nodes/batch"),
            json!({ "nodes": nodes }),
        )
        .await;
    done["ids"]
        .as_array()
        .expect("ids")
        .iter()
        .map(|i| i.as_str().expect("id").to_owned())
        .collect()
}

fn ids(list: &Value) -> Vec<&str> {
    list.as_array()
        .expect("a list")
        .iter()
        .map(|n| n["title"].as_str().expect("title"))
        .collect()
}

/// A then its children A1 (with A1a) and A2; then B with B1.
async fn three_levels(app: &TestApp) -> (String, Vec<String>) {
    let story = app.create_story("Views").await;
    let made = batch(
        app,
        &story,
        &[
            ("a", None, "A", "The first part."),
            ("a1", Some("a"), "A1", "Left."),
            ("a1a", Some("a1"), "A1a", "Deeper."),
            ("a2", Some("a"), "A2", "Right."),
            ("b", None, "B", "The second part."),
            ("b1", Some("b"), "B1", "After."),
        ],
    )
    .await;
    (story, made)
}

#[tokio::test]
async fn a_view_has_the_node_its_path_its_choices_and_the_counts_the_editor_needs() {
    let app = spawn_app().await;
    let (story, n) = three_levels(&app).await;
    let (status, start) = app.get_json(&format!("/api/stories/{story}/view")).await;
    assert_eq!(status, 200, "{start}");
    assert_eq!(start["node"]["title"], "A");
    assert_eq!(start["node"]["content"], "The first part.");
    assert_eq!(ids(&start["children"]), ["A1", "A2"]);
    assert_eq!(start["children"][0]["depth"], 1);
    assert!(
        start["children"][0].get("content").is_none(),
        "choices carry no content"
    );
    assert_eq!(
        (
            &start["children_total"],
            &start["siblings"],
            &start["descendants"]
        ),
        (&json!(2), &json!(2), &json!(3))
    );
    assert_eq!(start["next_part"]["title"], "B");
    assert_eq!(start["path"], json!([]));

    let (status, deep) = app
        .get_json(&format!("/api/stories/{story}/view?node={}", n[2]))
        .await;
    assert_eq!(status, 200, "{deep}");
    assert_eq!(ids(&deep["path"]), ["A", "A1"]);
    assert_eq!(deep["path_total"], 2);
    assert_eq!(deep["children"], json!([]));
    assert_eq!(
        deep["next_part"]["title"], "B",
        "where the reader continues"
    );

    let (_, a2) = app
        .get_json(&format!("/api/stories/{story}/view?node={}", n[3]))
        .await;
    assert_eq!(
        a2["previous_id"],
        json!(n[1]),
        "the node above, for indenting"
    );
    assert_eq!(a2["siblings"], 2);
    let (_, b1) = app
        .get_json(&format!("/api/stories/{story}/view?node={}", n[5]))
        .await;
    assert_eq!(b1["next_part"], Value::Null, "the last part");

    // A write shows in the next view (the cached outline goes with the story's tag).
    let (status, _) = app
        .send(
            Method::PATCH,
            &format!("/api/nodes/{}", n[1]),
            json!({"title": "A1 renamed"}),
        )
        .await;
    assert_eq!(status, 200);
    let (_, again) = app
        .get_json(&format!("/api/stories/{story}/view?node={}", n[2]))
        .await;
    assert_eq!(ids(&again["path"]), ["A", "A1 renamed"]);

    // A story without nodes has no start.
    let empty = app.create_story("Empty").await;
    let (status, body) = app.get_json(&format!("/api/stories/{empty}/view")).await;
    assert_eq!(
        (status, &body["error"]["field"]),
        (404, &json!("node")),
        "{body}"
    );
}

#[tokio::test]
async fn a_node_is_found_only_through_its_own_story() {
    let app = spawn_app().await;
    let (story, _) = three_levels(&app).await;
    // A private story of the same writer, with a node whose text must not leak.
    let private = app.post_ok("/api/stories", json!({"title": "Diary"})).await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let foreign = app
        .post_ok(
            &format!("/api/stories/{private}/nodes"),
            json!({"kind": "scene", "title": "Secret", "content": "Only mine to read."}),
        )
        .await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    // Warm the caches with the right pairing first, as the owner.
    for _ in 0..2 {
        let (status, _) = app
            .get_json(&format!("/api/stories/{private}/view?node={foreign}"))
            .await;
        assert_eq!(status, 200);
    }
    // Through the public story: not found, for the owner and for a visitor.
    let path = format!("/api/stories/{story}/view?node={foreign}");
    for (who, (status, body)) in [
        ("owner", app.get_json(&path).await),
        ("visitor", app.anon_json(&path).await),
    ] {
        assert_eq!(status, 404, "{who}: {body}");
        assert!(!body.to_string().contains("Only mine"), "{who}: {body}");
    }
    // The reader's page of that pairing shows none of it either.
    for http in [&app.http, &app.anon] {
        let page = http
            .get(app.url(&format!("/stories/{story}/nodes/{foreign}")))
            .send()
            .await
            .expect("sent")
            .text()
            .await
            .expect("page");
        assert!(page.contains("no such node"), "{page:.300}");
        assert!(!page.contains("Only mine") && !page.contains("Secret"));
    }
}

#[tokio::test]
async fn outline_pages_put_together_are_the_tree_in_order_with_depths() {
    let app = spawn_app().await;
    let (story, _) = three_levels(&app).await;
    let (_, tree) = app.get_json(&format!("/api/stories/{story}/tree")).await;
    let mut rows = Vec::new();
    for offset in [0, 4] {
        let (status, page) = app
            .get_json(&format!(
                "/api/stories/{story}/outline?limit=4&offset={offset}"
            ))
            .await;
        assert_eq!(status, 200, "{page}");
        assert_eq!((&page["total"], &page["top_level"]), (&json!(6), &json!(2)));
        assert_eq!(page["offset"], offset);
        rows.extend(page["rows"].as_array().expect("rows").clone());
    }
    assert_eq!(ids(&Value::Array(rows.clone())), ids(&tree["nodes"]));
    let depths: Vec<u64> = rows
        .iter()
        .map(|r| r["depth"].as_u64().expect("depth"))
        .collect();
    assert_eq!(depths, [0, 1, 2, 1, 0, 1]);
    assert!(rows.iter().all(|r| r.get("content").is_none()));
}

/// Every node of `story`'s tree, following `next_cursor` with pages of `limit`; the pages'
/// sizes too.
async fn follow_pages(app: &TestApp, story: &str, limit: &str) -> (Vec<Value>, Vec<usize>) {
    let (mut nodes, mut sizes) = (Vec::new(), Vec::new());
    let mut path = format!("/api/stories/{story}/tree{limit}");
    loop {
        let (status, page) = app.get_json(&path).await;
        assert_eq!(status, 200, "{path}: {page}");
        let got = page["nodes"].as_array().expect("nodes");
        sizes.push(got.len());
        nodes.extend(got.iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => path = format!("/api/stories/{story}/tree?limit=7&cursor={c}"),
            None => return (nodes, sizes),
        }
        assert!(sizes.len() < 50, "the pages end");
    }
}

#[tokio::test]
async fn a_large_tree_comes_in_pages_that_following_the_cursor_puts_together() {
    let app = spawn_app_with(&[("AION_TREE_WHOLE_MAX_NODES", "10")]).await;
    let story = app.create_story("Many").await;
    let titles: Vec<String> = (0..25).map(|i| format!("Part {i:02}")).collect();
    let items: Vec<(&str, Option<&str>, &str, &str)> = titles
        .iter()
        .map(|t| (t.as_str(), None, t.as_str(), ""))
        .collect();
    batch(&app, &story, &items).await;
    // Without parameters, past the bound: the first page, and where to go on.
    let (status, first) = app.get_json(&format!("/api/stories/{story}/tree")).await;
    assert_eq!(status, 200);
    assert_eq!(first["nodes"].as_array().map(Vec::len), Some(10));
    assert_eq!(first["total"], 25);
    assert!(first["next_cursor"].is_string(), "{}", first["next_cursor"]);
    let (nodes, sizes) = follow_pages(&app, &story, "").await;
    assert_eq!(sizes, [10, 7, 7, 1]);
    let got: Vec<&str> = nodes
        .iter()
        .map(|n| n["title"].as_str().expect("t"))
        .collect();
    assert_eq!(got, titles);
    // A jump by offset.
    let (_, jump) = app
        .get_json(&format!("/api/stories/{story}/tree?offset=20&limit=3"))
        .await;
    assert_eq!(ids(&jump["nodes"]), ["Part 20", "Part 21", "Part 22"]);
    // A small story still comes whole.
    let (story_small, _) = three_levels(&app).await;
    let (_, whole) = app
        .get_json(&format!("/api/stories/{story_small}/tree"))
        .await;
    assert_eq!(
        (
            whole["nodes"].as_array().map(Vec::len),
            &whole["next_cursor"]
        ),
        (Some(6), &Value::Null)
    );
}

#[tokio::test]
async fn tree_pages_are_cut_at_two_mebibytes_of_text() {
    let app = spawn_app().await;
    let story = app.create_story("Heavy").await;
    let text = "w".repeat(900_000);
    let items: Vec<(&str, Option<&str>, &str, &str)> = ["One", "Two", "Three"]
        .iter()
        .map(|t| (*t, None, *t, text.as_str()))
        .collect();
    batch(&app, &story, &items).await;
    let (nodes, sizes) = follow_pages(&app, &story, "").await;
    assert_eq!(sizes, [2, 1], "2.7 MB of text in pages of 2 MiB at most");
    assert_eq!(nodes.len(), 3);
    assert!(
        nodes
            .iter()
            .all(|n| n["content"].as_str().map(str::len) == Some(900_000))
    );
}

#[tokio::test]
async fn node_page_parameters_name_their_field() {
    let app = spawn_app().await;
    let (story, n) = three_levels(&app).await;
    let unknown = "0190c2a4-8f1e-7c3b-9a2d-4e5f60718293";
    for (query, field) in [
        ("tree?limit=0", "limit"),
        ("tree?limit=1001", "limit"),
        ("tree?limit=x", "limit"),
        ("tree?limit=-1", "limit"),
        ("tree?offset=x", "offset"),
        ("tree?offset=-1", "offset"),
        ("tree?cursor=nope", "cursor"),
        (&format!("tree?cursor={unknown}"), "cursor"),
        (&format!("tree?cursor={}&offset=2", n[0]), "offset"),
        ("outline?limit=0", "limit"),
        ("outline?limit=1001", "limit"),
        ("outline?offset=x", "offset"),
        ("view?node=not-an-id", "node"),
    ] {
        let path = format!("/api/stories/{story}/{query}");
        let (status, body) = app.get_json(&path).await;
        assert_eq!(status, 400, "{path}: {body}");
        assert_eq!(body["error"]["field"], field, "{path}: {body}");
    }
    let (status, body) = app
        .get_json(&format!("/api/stories/{story}/view?node={unknown}"))
        .await;
    assert_eq!(status, 404, "{body}");
}

#[tokio::test]
async fn each_page_has_its_own_cache_entry() {
    let app = spawn_app().await;
    let (story, _) = three_levels(&app).await;
    let page = |limit: u32| {
        let url = app.url(&format!("/api/stories/{story}/tree?limit={limit}"));
        let anon = app.anon.clone();
        async move {
            let res = anon.get(url).send().await.expect("sent");
            let etag = res.headers()["etag"].to_str().expect("etag").to_owned();
            let body: Value = res.json().await.expect("json");
            (etag, body["nodes"].as_array().map(Vec::len))
        }
    };
    // Warm both, then read both again: each keeps its own answer.
    for _ in 0..2 {
        let (one_tag, one) = page(1).await;
        let (two_tag, two) = page(2).await;
        assert_eq!((one, two), (Some(1), Some(2)));
        assert_ne!(one_tag, two_tag);
    }
    let (_, whole) = app.anon_json(&format!("/api/stories/{story}/tree")).await;
    assert_eq!(whole["nodes"].as_array().map(Vec::len), Some(6));
    // A parameter the cache does not know is answered, never kept.
    let res = app
        .anon
        .get(app.url(&format!("/api/stories/{story}/tree?limit=1&utm=x")))
        .send()
        .await
        .expect("sent");
    assert_ne!(
        res.headers()
            .get("x-cache")
            .map(|v| v.to_str().unwrap_or("")),
        Some("HIT")
    );
}
