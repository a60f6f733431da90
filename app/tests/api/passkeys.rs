//! Passkeys through the API: who may start and finish a ceremony, that a ceremony is used
//! once and belongs to its account, that open ceremonies stay bounded, that a passkey is
//! removed by its owner only, and that a server on an IP address says passkeys are off.
//! Registering and signing in with a real authenticator is the browser test's
//! (`e2e/tests/passkeys.spec.ts`, Chromium's virtual authenticator).

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, WRITER, spawn_app, spawn_app_with};

async fn call(
    http: &reqwest::Client,
    app: &TestApp,
    method: Method,
    path: &str,
    body: Value,
) -> (u16, Value) {
    let (status, body, _) = crate::accounts::call(http, app, method, path, body).await;
    (status, body)
}

async fn db(app: &TestApp) -> libsql::Connection {
    libsql::Builder::new_local(app.dir().join("aion.db"))
        .build()
        .await
        .expect("db")
        .connect()
        .expect("conn")
}

async fn count(conn: &libsql::Connection, sql: &str) -> i64 {
    let mut rows = conn.query(sql, ()).await.expect("query");
    let row = rows.next().await.expect("row").expect("one row");
    row.get::<i64>(0).expect("count")
}

/// An assertion as a browser would send it: well formed, signed by nothing.
fn forged_assertion() -> Value {
    json!({
        "id": "AAAA", "rawId": "AAAA", "type": "public-key",
        "response": { "authenticatorData": "AAAA", "clientDataJSON": "AAAA", "signature": "AAAA", "userHandle": null },
        "clientExtensionResults": {}
    })
}

#[tokio::test]
async fn ceremonies_need_an_account_are_used_once_and_are_their_accounts() {
    let app = spawn_app().await;
    // A visitor registers nothing and lists nothing.
    for (method, path) in [
        (Method::POST, "/api/account/passkeys/register/start"),
        (Method::GET, "/api/account/passkeys"),
    ] {
        let (status, body) = call(&app.anon, &app, method, path, Value::Null).await;
        assert_eq!(status, 401, "{path}: {body}");
        assert_eq!(body["error"]["code"], "unauthenticated");
    }
    let (status, body) = call(
        &app.http,
        &app,
        Method::GET,
        "/api/account/passkeys",
        Value::Null,
    )
    .await;
    assert_eq!((status, body), (200, json!({ "passkeys": [] })));

    // Starting a registration: the options the browser needs, for this site and account.
    let (status, started) = call(
        &app.http,
        &app,
        Method::POST,
        "/api/account/passkeys/register/start",
        Value::Null,
    )
    .await;
    assert_eq!(status, 200, "{started}");
    let options = &started["options"]["publicKey"];
    assert_eq!(options["rp"]["id"], "localhost");
    assert_eq!(options["user"]["name"], WRITER);
    assert!(
        options["challenge"].as_str().is_some_and(|c| c.len() >= 43),
        "{options}"
    );
    let ceremony = started["ceremony"].as_str().expect("ceremony").to_owned();

    // Another writer cannot finish it (and that uses it up), nor can anyone afterwards.
    let other = app.writer("other").await;
    let attestation = json!({
        "id": "AAAA", "rawId": "AAAA", "type": "public-key",
        "response": { "attestationObject": "AAAA", "clientDataJSON": "AAAA" }
    });
    let finish = json!({ "ceremony": ceremony, "name": "mine now", "credential": attestation });
    let (status, body) = call(
        &other,
        &app,
        Method::POST,
        "/api/account/passkeys/register/finish",
        finish.clone(),
    )
    .await;
    assert_eq!(status, 401, "{body}");
    let (status, _) = call(
        &app.http,
        &app,
        Method::POST,
        "/api/account/passkeys/register/finish",
        finish,
    )
    .await;
    assert_eq!(status, 401, "a ceremony is used once");
    let conn = db(&app).await;
    assert_eq!(count(&conn, "SELECT count(*) FROM passkeys").await, 0);

    // Signing in: a handle without passkeys says so; a forged assertion is refused.
    let (status, body) = call(
        &app.anon,
        &app,
        Method::POST,
        "/api/account/passkeys/signin/start",
        json!({ "handle": WRITER }),
    )
    .await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["error"]["field"], "handle");
    let (status, body) = call(
        &app.anon,
        &app,
        Method::POST,
        "/api/account/passkeys/signin/finish",
        json!({ "ceremony": "00000000-0000-4000-8000-000000000000", "credential": forged_assertion() }),
    )
    .await;
    assert_eq!(status, 401, "{body}");
    let (status, _) = call(&app.anon, &app, Method::GET, "/api/me", Value::Null).await;
    assert_eq!(status, 401, "nobody was signed in");

    // Bad bodies name their field and change nothing.
    let (status, body) = call(
        &app.http,
        &app,
        Method::POST,
        "/api/account/passkeys/register/finish",
        json!({ "ceremony": "x", "name": "n".repeat(61), "credential": attestation }),
    )
    .await;
    assert_eq!(
        (status, body["error"]["field"].clone()),
        (400, json!("name")),
        "{body}"
    );
    let res = app
        .http
        .post(app.url("/api/account/passkeys/signin/start"))
        .header("content-type", "text/plain")
        .body(r#"{"handle":"writer"}"#)
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), 415);
}

#[tokio::test]
async fn open_ceremonies_stay_bounded_per_account() {
    let app = spawn_app().await;
    for _ in 0..12 {
        let (status, _) = call(
            &app.http,
            &app,
            Method::POST,
            "/api/account/passkeys/register/start",
            Value::Null,
        )
        .await;
        assert_eq!(status, 200);
    }
    let conn = db(&app).await;
    assert_eq!(
        count(&conn, "SELECT count(*) FROM passkey_ceremonies").await,
        5
    );
}

#[tokio::test]
async fn a_passkey_is_removed_by_its_owner_only() {
    let app = spawn_app().await;
    let other = app.writer("other").await;
    // A passkey of the writer's (written behind the server's back: registering one needs an
    // authenticator, which the browser test has).
    let conn = db(&app).await;
    conn.execute(
        "INSERT INTO passkeys (id, credential_id, account_id, name, passkey, created_at)
         SELECT '0190a5b0-0000-7000-8000-0000000000aa', 'cred-1', id, 'laptop', '{}', 1
         FROM accounts WHERE handle_key = 'writer'",
        (),
    )
    .await
    .expect("insert");
    let id = "0190a5b0-0000-7000-8000-0000000000aa";
    let path = format!("/api/account/passkeys/{id}");

    // Another writer neither sees it nor removes it, by the API or the page's form.
    let (_, body) = call(
        &other,
        &app,
        Method::GET,
        "/api/account/passkeys",
        Value::Null,
    )
    .await;
    assert_eq!(body, json!({ "passkeys": [] }));
    let (status, _) = call(&other, &app, Method::DELETE, &path, Value::Null).await;
    assert_eq!(status, 404);
    let res = other
        .post(app.url(&format!("/account/passkeys/{id}/remove")))
        .send()
        .await
        .expect("sent");
    // Back to the account page (followed), with the refusal for it to show.
    assert_eq!(res.url().path(), "/account");
    let (status, _) = call(&app.anon, &app, Method::DELETE, &path, Value::Null).await;
    assert_eq!(status, 401);
    assert_eq!(count(&conn, "SELECT count(*) FROM passkeys").await, 1);

    // Its owner sees it and removes it.
    let (_, body) = call(
        &app.http,
        &app,
        Method::GET,
        "/api/account/passkeys",
        Value::Null,
    )
    .await;
    assert_eq!(body["passkeys"][0]["name"], "laptop");
    assert_eq!(body["passkeys"][0]["last_used"], Value::Null);
    let (status, _) = call(&app.http, &app, Method::DELETE, &path, Value::Null).await;
    assert_eq!(status, 204);
    assert_eq!(count(&conn, "SELECT count(*) FROM passkeys").await, 0);
}

#[tokio::test]
async fn a_server_on_an_ip_address_says_passkeys_are_off() {
    let app = spawn_app_with(&[("AION_PASSKEY_ORIGIN", "http://127.0.0.1:8080")]).await;
    let (status, body) = call(
        &app.http,
        &app,
        Method::POST,
        "/api/account/passkeys/register/start",
        Value::Null,
    )
    .await;
    assert_eq!(status, 503, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("domain name")),
        "{body}"
    );
    let page = app
        .http
        .get(app.url("/api/account/page"))
        .send()
        .await
        .expect("sent")
        .text()
        .await
        .expect("text");
    assert!(page.contains("Passkeys are off on this server"), "{page}");
    assert!(!page.contains("passkey-register-form"));
}
