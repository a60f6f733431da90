use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};

async fn add(
    app: &TestApp,
    story: &str,
    parent: Option<&str>,
    title: &str,
    content: &str,
) -> String {
    let node = app
        .post_ok(
            &format!("/api/stories/{story}/nodes"),
            json!({"parent_id": parent, "kind": "scene", "title": title, "content": content}),
        )
        .await;
    node["id"].as_str().expect("id").to_owned()
}

async fn titles(app: &TestApp, story: &str) -> Vec<(String, u64)> {
    let (status, tree) = app.get_json(&format!("/api/stories/{story}/tree")).await;
    assert_eq!(status, 200, "{tree}");
    tree["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|n| {
            (
                n["title"].as_str().expect("title").to_owned(),
                n["position"].as_u64().expect("pos"),
            )
        })
        .collect()
}

async fn counts(app: &TestApp, story: &str) -> (u64, u64) {
    let (_, s) = app.get_json(&format!("/api/stories/{story}")).await;
    (
        s["node_count"].as_u64().expect("n"),
        s["word_count"].as_u64().expect("w"),
    )
}

fn strs(v: &[(&str, u64)]) -> Vec<(String, u64)> {
    v.iter().map(|(t, p)| (t.to_string(), *p)).collect()
}

#[tokio::test]
async fn the_tree_is_depth_first_with_siblings_in_position_order() {
    let app = spawn_app().await;
    let s = app.create_story("Tree").await;
    let a = add(&app, &s, None, "A", "").await;
    let b = add(&app, &s, None, "B", "").await;
    add(&app, &s, Some(&a), "A2", "").await;
    // Inserted at position 0: goes before A2.
    app.post_ok(
        &format!("/api/stories/{s}/nodes"),
        json!({"parent_id": a, "kind": "choice", "title": "A1", "position": 0}),
    )
    .await;
    add(&app, &s, Some(&b), "B1", "").await;
    for i in 0..11 {
        add(&app, &s, Some(&b), &format!("B-extra-{i}"), "").await;
    }
    let tree = titles(&app, &s).await;
    assert_eq!(
        &tree[..5],
        &strs(&[("A", 0), ("A1", 0), ("A2", 1), ("B", 1), ("B1", 0)])
    );
    // Positions compare as numbers, not text: 10 and 11 come after 9.
    assert_eq!(tree.last().expect("last"), &("B-extra-10".to_owned(), 11));
}

#[tokio::test]
async fn counts_follow_adds_edits_moves_and_subtree_deletes() {
    let app = spawn_app().await;
    let s = app.create_story("Counts").await;
    let root = add(&app, &s, None, "Root", "one two three").await; // 4 words
    let child = add(&app, &s, Some(&root), "Child", "龙凤").await; // 3 words
    add(&app, &s, Some(&child), "Grandchild", "x").await; // 2 words
    assert_eq!(counts(&app, &s).await, (3, 9));

    let (status, node) = app
        .send(
            Method::PATCH,
            &format!("/api/nodes/{child}"),
            json!({"content": "龙凤呈祥 and more"}),
        )
        .await;
    assert_eq!(status, 200, "{node}");
    assert_eq!(counts(&app, &s).await, (3, 4 + 7 + 2));

    let other = add(&app, &s, None, "Other", "").await;
    let (status, moved) = app
        .send(
            Method::POST,
            &format!("/api/nodes/{child}/move"),
            json!({"parent_id": other, "position": 0}),
        )
        .await;
    assert_eq!(status, 200, "{moved}");
    assert_eq!(moved["parent_id"], Value::String(other.clone()));
    assert_eq!(
        titles(&app, &s).await,
        strs(&[("Root", 0), ("Other", 1), ("Child", 0), ("Grandchild", 0)])
    );

    let (status, deleted) = app
        .send(Method::DELETE, &format!("/api/nodes/{child}"), json!({}))
        .await;
    assert_eq!(status, 200, "{deleted}");
    assert_eq!(deleted["nodes_deleted"], 2);
    assert_eq!(counts(&app, &s).await, (2, 5));
    assert_eq!(titles(&app, &s).await, strs(&[("Root", 0), ("Other", 1)]));
}

#[tokio::test]
async fn deleting_a_node_closes_the_gap_among_its_siblings() {
    let app = spawn_app().await;
    let s = app.create_story("Gaps").await;
    let first = add(&app, &s, None, "First", "").await;
    add(&app, &s, None, "Second", "").await;
    add(&app, &s, None, "Third", "").await;
    app.send(Method::DELETE, &format!("/api/nodes/{first}"), json!({}))
        .await;
    assert_eq!(titles(&app, &s).await, strs(&[("Second", 0), ("Third", 1)]));
}

#[tokio::test]
async fn a_node_cannot_move_into_its_own_subtree_or_another_story() {
    let app = spawn_app().await;
    let s = app.create_story("Moves").await;
    let a = add(&app, &s, None, "A", "").await;
    let a1 = add(&app, &s, Some(&a), "A1", "").await;
    let (status, body) = app
        .send(
            Method::POST,
            &format!("/api/nodes/{a}/move"),
            json!({"parent_id": a1}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["field"], "parent_id");

    let t = app.create_story("Elsewhere").await;
    let foreign = add(&app, &t, None, "Foreign", "").await;
    let (status, body) = app
        .send(
            Method::POST,
            &format!("/api/nodes/{a}/move"),
            json!({"parent_id": foreign}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(titles(&app, &s).await, strs(&[("A", 0), ("A1", 0)]));
}

#[tokio::test]
async fn a_batch_is_all_or_nothing() {
    let app = spawn_app().await;
    let s = app.create_story("Batch").await;
    let result = app
        .post_ok(
            &format!("/api/stories/{s}/nodes/batch"),
            json!({"nodes": [
                {"ref": "ch", "kind": "chapter", "title": "第一章"},
                {"ref": "sc", "parent_ref": "ch", "kind": "scene", "title": "开始", "content": "故事开始"},
                {"parent_ref": "sc", "kind": "choice", "title": "左", "choice_label": "向左走"},
                {"parent_ref": "sc", "kind": "choice", "title": "右", "choice_label": "向右走"}
            ]}),
        )
        .await;
    assert_eq!(result["created"], 4);
    let ids = result["ids"].as_array().expect("ids");
    let (_, tree) = app.get_json(&format!("/api/stories/{s}/tree")).await;
    let nodes = tree["nodes"].as_array().expect("nodes");
    assert_eq!(nodes.len(), 4);
    assert_eq!(nodes[0]["id"], ids[0]);
    assert_eq!(nodes[1]["parent_id"], ids[0]);
    assert_eq!(nodes[3]["title"], "右");
    assert_eq!(nodes[3]["position"], 1);
    assert_eq!(counts(&app, &s).await.0, 4);

    let (status, body) = app
        .send(
            Method::POST,
            &format!("/api/stories/{s}/nodes/batch"),
            json!({"nodes": [
                {"ref": "x", "kind": "scene", "title": "fine"},
                {"parent_ref": "x", "kind": "scene", "title": ""}
            ]}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["field"], "nodes[1].title");
    let (status, body) = app
        .send(
            Method::POST,
            &format!("/api/stories/{s}/nodes/batch"),
            json!({"nodes": [{"parent_ref": "later", "kind": "scene", "title": "orphan"}, {"ref": "later", "kind": "scene", "title": "x"}]}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["field"], "nodes[0].parent_ref");
    assert_eq!(
        counts(&app, &s).await.0,
        4,
        "nothing of a failed batch was written"
    );
}

#[tokio::test]
async fn deleting_a_story_removes_its_nodes() {
    let app = spawn_app().await;
    let s = app.create_story("Doomed").await;
    let n = add(&app, &s, None, "Root", "").await;
    app.send(Method::DELETE, &format!("/api/stories/{s}"), json!({}))
        .await;
    let (status, _) = app.get_json(&format!("/api/nodes/{n}")).await;
    assert_eq!(status, 404);
    let (status, _) = app.get_json(&format!("/api/stories/{s}/tree")).await;
    assert_eq!(status, 404);
}

/// An autosave repeated after it landed (sent as the page was left, then again from the
/// browser's draft after a reload) carries an older version but changes nothing: it gets
/// the stored node, not a 409. A real concurrent change still conflicts.
#[tokio::test]
async fn a_repeated_edit_is_no_conflict_but_a_different_one_is() {
    let app = spawn_app().await;
    let story = app.create_story("Autosave").await;
    let id = add(&app, &story, None, "Fork", "left or right").await;
    let (_, before) = app.get_json(&format!("/api/nodes/{id}")).await;
    let edit = json!({"content": "left", "updated_at": before["updated_at"]});
    let (status, first) = app
        .send(Method::PATCH, &format!("/api/nodes/{id}"), edit.clone())
        .await;
    assert_eq!(status, 200, "{first}");
    let (status, again) = app
        .send(Method::PATCH, &format!("/api/nodes/{id}"), edit)
        .await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(
        again["updated_at"], first["updated_at"],
        "nothing was written"
    );
    let other = json!({"content": "right", "updated_at": before["updated_at"]});
    let (status, body) = app
        .send(Method::PATCH, &format!("/api/nodes/{id}"), other)
        .await;
    assert_eq!(status, 409, "{body}");
    let (_, now) = app.get_json(&format!("/api/nodes/{id}")).await;
    assert_eq!(now["content"], "left");
}
