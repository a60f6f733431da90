//! Who may do what with a story: the ownership matrix (owner, editor, viewer, another
//! writer, a visitor, the admin token, times every write endpoint and every read of a
//! private story), that a refusal changes nothing (read back), and that a private story
//! never reaches anyone else, however warm the caches are.

use reqwest::{Method, header};
use serde_json::{Value, json};

use crate::helpers::{TestApp, WRITER, client, spawn_app_with};

const TOKEN: &str = "ops-secret";

/// The cast: one client each.
struct Cast {
    owner: reqwest::Client,
    editor: reqwest::Client,
    viewer: reqwest::Client,
    other: reqwest::Client,
    visitor: reqwest::Client,
    admin: reqwest::Client,
}

#[derive(Clone, Copy, Debug)]
enum Who {
    Owner,
    Editor,
    Viewer,
    Other,
    Visitor,
    Admin,
}

const EVERYONE: [Who; 6] = [
    Who::Owner,
    Who::Editor,
    Who::Viewer,
    Who::Other,
    Who::Visitor,
    Who::Admin,
];

impl Cast {
    async fn new(app: &TestApp) -> Self {
        let admin = reqwest::Client::builder()
            .default_headers(
                [(
                    header::AUTHORIZATION,
                    format!("Bearer {TOKEN}").parse().expect("header"),
                )]
                .into_iter()
                .collect(),
            )
            .build()
            .expect("client");
        Self {
            owner: app.http.clone(),
            editor: app.writer("editor-writer").await,
            viewer: app.writer("viewer-writer").await,
            other: app.writer("other-writer").await,
            visitor: client(),
            admin,
        }
    }

    fn of(&self, who: Who) -> &reqwest::Client {
        match who {
            Who::Owner => &self.owner,
            Who::Editor => &self.editor,
            Who::Viewer => &self.viewer,
            Who::Other => &self.other,
            Who::Visitor => &self.visitor,
            Who::Admin => &self.admin,
        }
    }
}

async fn call(
    http: &reqwest::Client,
    app: &TestApp,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = http.request(method, app.url(path));
    if let Some(body) = body {
        req = req.json(&body);
    }
    let res = req.send().await.expect("sent");
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// A private story of the owner's, shared with the editor and the viewer, with one scene.
async fn private_story(app: &TestApp, cast: &Cast, title: &str) -> (String, String) {
    let (status, story) = call(
        &cast.owner,
        app,
        Method::POST,
        "/api/stories",
        Some(json!({"title": title})),
    )
    .await;
    assert_eq!(status, 200, "{story}");
    assert_eq!(story["visibility"], "private", "new stories start private");
    assert_eq!(story["owner"], WRITER);
    let id = story["id"].as_str().expect("id").to_owned();
    for (handle, role) in [("editor-writer", "editor"), ("viewer-writer", "viewer")] {
        let (status, body) = call(
            &cast.owner,
            app,
            Method::PUT,
            &format!("/api/stories/{id}/collaborators/{handle}"),
            Some(json!({"role": role})),
        )
        .await;
        assert_eq!(status, 200, "{body}");
    }
    let (status, node) = call(
        &cast.owner,
        app,
        Method::POST,
        &format!("/api/stories/{id}/nodes"),
        Some(json!({"kind": "scene", "title": "Opening", "content": "It begins."})),
    )
    .await;
    assert_eq!(status, 200, "{node}");
    (id, node["id"].as_str().expect("node id").to_owned())
}

/// The story and its tree as the owner reads them now.
async fn state_of(app: &TestApp, cast: &Cast, id: &str) -> (Value, Value, Value) {
    let story = call(
        &cast.owner,
        app,
        Method::GET,
        &format!("/api/stories/{id}"),
        None,
    )
    .await
    .1;
    let tree = call(
        &cast.owner,
        app,
        Method::GET,
        &format!("/api/stories/{id}/tree"),
        None,
    )
    .await
    .1;
    let shared = call(
        &cast.owner,
        app,
        Method::GET,
        &format!("/api/stories/{id}/collaborators"),
        None,
    )
    .await
    .1;
    (story, tree, shared)
}

fn png() -> Vec<u8> {
    let img = image::RgbImage::from_fn(640, 480, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 90])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .expect("png");
    out.into_inner()
}

/// Expected statuses for one endpoint: (owner, editor, viewer, other, visitor, admin).
type Row = [u16; 6];
const EDIT: Row = [200, 200, 403, 404, 401, 200];
const OWN: Row = [200, 403, 403, 404, 401, 200];

fn expected(row: Row, who: Who) -> u16 {
    row[who as usize]
}

#[tokio::test]
async fn every_write_checks_the_callers_role_and_a_refusal_changes_nothing() {
    let app = spawn_app_with(&[("AION_ADMIN_TOKEN", TOKEN)]).await;
    let cast = Cast::new(&app).await;
    let (id, node) = private_story(&app, &cast, "Matrix").await;
    let cover = png();
    for who in EVERYONE {
        let client = cast.of(who);
        let before = state_of(&app, &cast, &id).await;
        // Each write, with what each caller gets; the allowed ones are undone where they
        // would change what the next caller is checked against.
        let writes: Vec<(&str, Method, String, Option<Value>, Row)> = vec![
            (
                "retitle",
                Method::PATCH,
                format!("/api/stories/{id}"),
                Some(json!({"title": "Matrix"})),
                EDIT,
            ),
            (
                "visibility",
                Method::PATCH,
                format!("/api/stories/{id}"),
                Some(json!({"visibility": "private"})),
                OWN,
            ),
            (
                "add node",
                Method::POST,
                format!("/api/stories/{id}/nodes"),
                Some(json!({"kind": "scene", "title": "Added"})),
                EDIT,
            ),
            (
                "add batch",
                Method::POST,
                format!("/api/stories/{id}/nodes/batch"),
                Some(json!({"nodes": [{"kind": "scene", "title": "Batched"}]})),
                EDIT,
            ),
            (
                "edit node",
                Method::PATCH,
                format!("/api/nodes/{node}"),
                Some(json!({"title": "Opening"})),
                EDIT,
            ),
            (
                "move node",
                Method::POST,
                format!("/api/nodes/{node}/move"),
                Some(json!({"position": 0})),
                EDIT,
            ),
            (
                "share",
                Method::PUT,
                format!("/api/stories/{id}/collaborators/other-writer"),
                Some(json!({"role": "viewer"})),
                OWN,
            ),
            (
                "unshare",
                Method::DELETE,
                format!("/api/stories/{id}/collaborators/other-writer"),
                None,
                OWN,
            ),
        ];
        for (what, method, path, body, row) in writes {
            let prior = state_of(&app, &cast, &id).await;
            let (status, answer) = call(client, &app, method, &path, body).await;
            let want = expected(row, who);
            assert_eq!(status, want, "{who:?} {what}: {answer}");
            if status >= 400 {
                assert_eq!(
                    state_of(&app, &cast, &id).await,
                    prior,
                    "{who:?} {what} refused, nothing changed"
                );
            }
        }
        // Nodes added by an allowed caller are taken away again (by the owner).
        let tree = call(
            &cast.owner,
            &app,
            Method::GET,
            &format!("/api/stories/{id}/tree"),
            None,
        )
        .await
        .1;
        for n in tree["nodes"].as_array().expect("nodes") {
            if n["id"] != node.as_str() {
                let deleted = call(
                    &cast.owner,
                    &app,
                    Method::DELETE,
                    &format!("/api/nodes/{}", n["id"].as_str().expect("id")),
                    None,
                )
                .await
                .0;
                assert!(deleted == 200 || deleted == 404);
            }
        }
        // Covers: up and away.
        let res = client
            .put(app.url(&format!("/api/stories/{id}/cover")))
            .header(header::CONTENT_TYPE, "image/png")
            .body(cover.clone())
            .send()
            .await
            .expect("sent");
        let want = match expected(EDIT, who) {
            200 => 202,
            refused => refused,
        };
        assert_eq!(res.status().as_u16(), want, "{who:?} cover upload");
        let (status, _) = call(
            client,
            &app,
            Method::DELETE,
            &format!("/api/stories/{id}/cover"),
            None,
        )
        .await;
        assert_eq!(status, expected(EDIT, who), "{who:?} cover removal");
        // Deleting a node: on a node of its own, so an allowed delete leaves the scene.
        let spare = call(
            &cast.owner,
            &app,
            Method::POST,
            &format!("/api/stories/{id}/nodes"),
            Some(json!({"kind": "scene", "title": "Spare"})),
        )
        .await
        .1;
        let spare = spare["id"].as_str().expect("spare").to_owned();
        let (status, _) = call(
            client,
            &app,
            Method::DELETE,
            &format!("/api/nodes/{spare}"),
            None,
        )
        .await;
        assert_eq!(status, expected(EDIT, who), "{who:?} delete node");
        if status != 200 {
            call(
                &cast.owner,
                &app,
                Method::DELETE,
                &format!("/api/nodes/{spare}"),
                None,
            )
            .await;
        }
        let after = state_of(&app, &cast, &id).await;
        assert_eq!(
            after.1["nodes"].as_array().map(Vec::len),
            before.1["nodes"].as_array().map(Vec::len),
            "{who:?}: the tree is as it was"
        );
    }
    // Deleting the story: refused for all but its owner (and the admin, checked on a story
    // of its own).
    for who in [Who::Editor, Who::Viewer, Who::Other, Who::Visitor] {
        let (status, _) = call(
            cast.of(who),
            &app,
            Method::DELETE,
            &format!("/api/stories/{id}"),
            None,
        )
        .await;
        assert_eq!(status, expected(OWN, who), "{who:?} delete story");
        assert_eq!(
            call(
                &cast.owner,
                &app,
                Method::GET,
                &format!("/api/stories/{id}"),
                None
            )
            .await
            .0,
            200
        );
    }
    let (other_id, _) = private_story(&app, &cast, "For the admin").await;
    assert_eq!(
        call(
            &cast.admin,
            &app,
            Method::DELETE,
            &format!("/api/stories/{other_id}"),
            None
        )
        .await
        .0,
        200
    );
    assert_eq!(
        call(
            &cast.owner,
            &app,
            Method::DELETE,
            &format!("/api/stories/{id}"),
            None
        )
        .await
        .0,
        200
    );
    assert_eq!(
        call(
            &cast.owner,
            &app,
            Method::GET,
            &format!("/api/stories/{id}"),
            None
        )
        .await
        .0,
        404
    );

    // A visitor writes nothing at all.
    let (status, err) = call(
        &cast.visitor,
        &app,
        Method::POST,
        "/api/stories",
        Some(json!({"title": "Anonymous"})),
    )
    .await;
    assert_eq!(
        (status, &err["error"]["code"]),
        (401, &json!("unauthenticated"))
    );
    let (status, _) = call(
        &cast.visitor,
        &app,
        Method::POST,
        "/api/stories/import",
        Some(json!({
            "format": "aion.story", "version": 1, "exported_at": "2026-01-01T00:00:00Z",
            "story": {"id": "x", "title": "Smuggled", "summary": "", "status": "draft", "tags": [],
                      "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"},
            "nodes": []
        })),
    )
    .await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn a_private_story_is_read_only_by_those_it_is_shared_with() {
    let app = spawn_app_with(&[("AION_ADMIN_TOKEN", TOKEN)]).await;
    let cast = Cast::new(&app).await;
    let (id, node) = private_story(&app, &cast, "Readers").await;
    let reads = [
        format!("/api/stories/{id}"),
        format!("/api/stories/{id}/tree"),
        format!("/api/stories/{id}/tree?limit=1"),
        format!("/api/stories/{id}/outline"),
        format!("/api/stories/{id}/view"),
        format!("/api/stories/{id}/view?node={node}"),
        format!("/api/nodes/{node}"),
        format!("/api/stories/{id}/collaborators"),
    ];
    const READ: Row = [200, 200, 200, 404, 404, 200];
    for who in EVERYONE {
        for path in &reads {
            let (status, body) = call(cast.of(who), &app, Method::GET, path, None).await;
            assert_eq!(status, expected(READ, who), "{who:?} GET {path}: {body}");
        }
        let (status, body) = call(
            cast.of(who),
            &app,
            Method::POST,
            &format!("/api/stories/{id}/exports"),
            Some(json!({"format": "json"})),
        )
        .await;
        assert_eq!(status, expected(READ, who), "{who:?} export: {body}");
    }
    // A private answer says so to every cache on the way.
    let res = cast
        .owner
        .get(app.url(&format!("/api/stories/{id}")))
        .send()
        .await
        .expect("sent");
    assert_eq!(res.headers()[header::CACHE_CONTROL], "private, no-store");
}

/// Everything `http` can see of the library: lists, search, pages, story `id` and its
/// node `node` in every form.
async fn everything_visible(
    app: &TestApp,
    http: &reqwest::Client,
    id: &str,
    node: &str,
) -> Vec<(String, u16, String)> {
    let mut seen = Vec::new();
    for path in [
        "/api/stories".to_owned(),
        "/api/stories?scope=public".to_owned(),
        "/api/stories?q=Kestrel".to_owned(),
        "/api/stories?q=whispered".to_owned(),
        "/api/stories?scope=shared".to_owned(),
        format!("/api/stories/{id}"),
        format!("/api/stories/{id}/tree"),
        format!("/api/stories/{id}/tree?limit=1"),
        format!("/api/stories/{id}/tree?cursor={node}"),
        format!("/api/stories/{id}/outline"),
        format!("/api/stories/{id}/outline?offset=0&limit=500"),
        format!("/api/stories/{id}/view"),
        format!("/api/stories/{id}/view?node={node}"),
        "/stories".to_owned(),
        "/stories?q=Kestrel".to_owned(),
        format!("/stories/{id}"),
        format!("/stories/{id}/edit"),
        format!("/stories/{id}/nodes/{node}"),
        "/api/notifications".to_owned(),
        "/api/tasks".to_owned(),
    ] {
        let res = http
            .get(app.url(&path))
            .header(header::ACCEPT, "text/html,application/json")
            .send()
            .await
            .expect("sent");
        let status = res.status().as_u16();
        seen.push((path, status, res.text().await.unwrap_or_default()));
    }
    seen
}

#[tokio::test]
async fn a_private_story_never_reaches_another_user_however_warm_the_caches() {
    let app = spawn_app_with(&[("AION_ADMIN_TOKEN", TOKEN)]).await;
    let cast = Cast::new(&app).await;
    let (status, story) = call(
        &cast.owner,
        &app,
        Method::POST,
        "/api/stories",
        Some(json!({"title": "Kestrel hollow"})),
    )
    .await;
    assert_eq!(status, 200);
    let id = story["id"].as_str().expect("id").to_owned();
    let (_, node) = call(&cast.owner, &app, Method::POST, &format!("/api/stories/{id}/nodes"),
        Some(json!({"kind": "scene", "title": "Hidden", "content": "What was whispered stays here."}))).await;
    let node = node["id"].as_str().expect("node id").to_owned();
    // An export of it, whose notification names it.
    call(
        &cast.owner,
        &app,
        Method::POST,
        &format!("/api/stories/{id}/exports"),
        Some(json!({"format": "json"})),
    )
    .await;
    // Warm every cache as the owner, twice.
    for _ in 0..2 {
        let seen = everything_visible(&app, &cast.owner, &id, &node).await;
        let own = seen
            .iter()
            .find(|(p, _, _)| p == &format!("/api/stories/{id}"))
            .expect("read");
        assert_eq!(own.1, 200);
        assert!(
            seen.iter()
                .any(|(p, _, body)| p == "/api/stories" && body.contains("hollow")),
            "the owner's list has it"
        );
    }
    for who in [Who::Other, Who::Visitor] {
        for (path, status, body) in everything_visible(&app, cast.of(who), &id, &node).await {
            assert!(
                !body.contains("hollow")
                    && !body.contains("whispered")
                    && (path.contains(&id) || !body.contains(&id)),
                "{who:?} saw the story at {path} ({status}): {body:.300}"
            );
        }
    }
    // Made public, everyone sees it; made private again, nobody else does.
    call(
        &cast.owner,
        &app,
        Method::PATCH,
        &format!("/api/stories/{id}"),
        Some(json!({"visibility": "public"})),
    )
    .await;
    let (status, body) = call(
        &cast.visitor,
        &app,
        Method::GET,
        &format!("/api/stories/{id}"),
        None,
    )
    .await;
    assert_eq!((status, &body["visibility"]), (200, &json!("public")));
    call(
        &cast.owner,
        &app,
        Method::PATCH,
        &format!("/api/stories/{id}"),
        Some(json!({"visibility": "private"})),
    )
    .await;
    for who in [Who::Other, Who::Visitor] {
        for (path, status, body) in everything_visible(&app, cast.of(who), &id, &node).await {
            assert!(
                !body.contains("hollow") && (path.contains(&id) || !body.contains(&id)),
                "{who:?} still saw it at {path} ({status}) after it went private"
            );
        }
    }
}

/// Request headers as name and value.
type Headers = &'static [(&'static str, &'static str)];

#[tokio::test]
async fn writes_from_other_sites_are_refused_and_change_nothing() {
    let app = spawn_app_with(&[("AION_ALLOWED_ORIGINS", "https://writers.example")]).await;
    let count = |app: &TestApp| {
        let http = app.http.clone();
        let url = app.url("/api/stories?scope=mine");
        async move {
            let page: Value = http
                .get(url)
                .send()
                .await
                .expect("sent")
                .json()
                .await
                .expect("json");
            page["total"].as_u64().expect("total")
        }
    };
    let before = count(&app).await;
    let post = |headers: &[(&'static str, &'static str)], body: &'static str| {
        let mut req = app.http.post(app.url("/api/stories")).body(body);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        req.send()
    };
    let json_body = r#"{"title":"Forged"}"#;
    let cases: [(Headers, u16, &str); 6] = [
        (
            &[
                ("content-type", "application/json"),
                ("origin", "http://evil.example"),
            ],
            403,
            "another site's Origin",
        ),
        (
            &[
                ("content-type", "application/json"),
                ("sec-fetch-site", "cross-site"),
            ],
            403,
            "a cross-site fetch without Origin",
        ),
        (
            &[
                ("content-type", "application/json"),
                ("sec-fetch-site", "same-site"),
                ("origin", "http://sub.evil.example"),
            ],
            403,
            "a sibling site",
        ),
        (&[("content-type", "text/plain")], 415, "a text/plain body"),
        (
            &[("content-type", "application/x-www-form-urlencoded")],
            415,
            "a form",
        ),
        (
            &[
                ("content-type", "application/json"),
                ("origin", "https://writers.example"),
                ("sec-fetch-site", "cross-site"),
            ],
            200,
            "a configured origin",
        ),
    ];
    let mut created = 0;
    for (headers, want, what) in cases {
        let res = post(headers, json_body).await.expect("sent");
        let status = res.status().as_u16();
        let body: Value = res.json().await.unwrap_or(Value::Null);
        assert_eq!(status, want, "{what}: {body}");
        if want == 403 {
            assert_eq!(body["error"]["code"], "forbidden", "{body}");
        }
        if want == 415 {
            assert_eq!(body["error"]["code"], "unsupported_media_type", "{body}");
        }
        created += usize::from(status == 200);
    }
    assert_eq!(
        count(&app).await,
        before + created as u64,
        "the refused writes created nothing"
    );
    // The server's own pages and plain clients write.
    let own = format!("http://{}", app.base.trim_start_matches("http://"));
    let res = app
        .http
        .post(app.url("/api/stories"))
        .header("origin", own)
        .header("sec-fetch-site", "same-origin")
        .json(&json!({"title": "Own page"}))
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn an_admin_made_on_the_command_line_may_do_anything() {
    let app = spawn_app_with(&[]).await;
    let cast = Cast::new(&app).await;
    let (id, _) = private_story(&app, &cast, "Moderated").await;
    let made = std::process::Command::new(env!("CARGO_BIN_EXE_app"))
        .args(["admin", "create", "boss"])
        .env("AION_DB_PATH", app.dir().join("aion.db"))
        .env("AION_ADMIN_PASSWORD", crate::helpers::PASSWORD)
        .output()
        .expect("the command runs");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    // No default password: without one the command makes nobody.
    let refused = std::process::Command::new(env!("CARGO_BIN_EXE_app"))
        .args(["admin", "create", "nopass"])
        .env("AION_DB_PATH", app.dir().join("aion.db"))
        .env("AION_ADMIN_PASSWORD", "")
        .output()
        .expect("the command runs");
    assert!(!refused.status.success());
    let boss = app.writer("boss").await;
    let (status, me) = call(&boss, &app, Method::GET, "/api/me", None).await;
    assert_eq!((status, &me["roles"]), (200, &json!(["admin"])));
    assert_eq!(
        call(
            &boss,
            &app,
            Method::GET,
            &format!("/api/stories/{id}"),
            None
        )
        .await
        .0,
        200
    );
    assert_eq!(
        call(
            &boss,
            &app,
            Method::DELETE,
            &format!("/api/stories/{id}"),
            None
        )
        .await
        .0,
        200
    );
    assert_eq!(
        call(
            &cast.owner,
            &app,
            Method::GET,
            &format!("/api/stories/{id}"),
            None
        )
        .await
        .0,
        404
    );
}
