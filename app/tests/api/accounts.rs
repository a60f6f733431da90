//! Writers' accounts end to end: sign-up, sign-in, the cookie, who am I, sessions and their
//! revocation, password changes, expiry, and what an anonymous visitor started moving to
//! the account.

use reqwest::{Method, StatusCode, header};
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, WRITER, client, spawn_app, spawn_app_with};

pub(crate) async fn call(
    http: &reqwest::Client,
    app: &TestApp,
    method: Method,
    path: &str,
    body: Value,
) -> (u16, Value, reqwest::header::HeaderMap) {
    let res = http
        .request(method, app.url(path))
        .json(&body)
        .send()
        .await
        .expect("sent");
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    (status, res.json().await.unwrap_or(Value::Null), headers)
}

fn creds(handle: &str, password: &str) -> Value {
    json!({ "handle": handle, "password": password })
}

/// The sign-in cookie's `name=value` from a `Set-Cookie`, and its attributes.
fn sign_in_cookie(headers: &reqwest::header::HeaderMap) -> Option<String> {
    headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("__Host-aion_account="))
        .map(str::to_owned)
}

fn token_of(cookie: &str) -> &str {
    cookie
        .split(';')
        .next()
        .and_then(|kv| kv.split_once('='))
        .map_or("", |(_, v)| v)
}

#[tokio::test]
async fn a_writer_signs_up_in_and_out_and_me_follows() {
    let app = spawn_app().await;
    let http = client();
    let (status, body, headers) = call(
        &http,
        &app,
        Method::POST,
        "/api/account/signup",
        creds("Ada", PASSWORD),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["handle"], "Ada");
    assert_eq!(body["roles"], json!([]));
    assert!(
        body["created_at"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
    );
    let cookie = sign_in_cookie(&headers).expect("a sign-in cookie");
    for attr in ["Path=/", "HttpOnly", "SameSite=Lax", "Secure"] {
        assert!(cookie.contains(attr), "{cookie} lacks {attr}");
    }
    assert_eq!(token_of(&cookie).len(), 64, "256 bits as hex");
    assert_eq!(headers[header::CACHE_CONTROL], "private, no-store");

    let (status, me, headers) = call(&http, &app, Method::GET, "/api/me", Value::Null).await;
    assert_eq!((status, &me["handle"]), (200, &json!("Ada")));
    assert_eq!(headers[header::CACHE_CONTROL], "private, no-store");

    // The handle is taken in every letter case and width.
    for taken in ["ada", "ADA", "ａｄａ"] {
        let (status, err, _) = call(
            &client(),
            &app,
            Method::POST,
            "/api/account/signup",
            creds(taken, PASSWORD),
        )
        .await;
        assert_eq!(
            (status, &err["error"]["field"]),
            (409, &json!("handle")),
            "{taken}: {err}"
        );
    }
    let (status, zh, _) = call(
        &client(),
        &app,
        Method::POST,
        "/api/account/signup",
        creds("小说家", PASSWORD),
    )
    .await;
    assert_eq!((status, &zh["handle"]), (201, &json!("小说家")));
    let (status, err, _) = call(
        &client(),
        &app,
        Method::POST,
        "/api/account/signup",
        creds("a b", PASSWORD),
    )
    .await;
    assert_eq!((status, &err["error"]["field"]), (400, &json!("handle")));
    let (status, err, _) = call(
        &client(),
        &app,
        Method::POST,
        "/api/account/signup",
        creds("Bea", "short"),
    )
    .await;
    assert_eq!((status, &err["error"]["field"]), (400, &json!("password")));

    let (status, _, headers) = call(
        &http,
        &app,
        Method::POST,
        "/api/account/signout",
        Value::Null,
    )
    .await;
    assert_eq!(status, 204);
    assert!(sign_in_cookie(&headers).is_some_and(|c| c.contains("Max-Age=0")));
    let (status, err, _) = call(&http, &app, Method::GET, "/api/me", Value::Null).await;
    assert_eq!(
        (status, &err["error"]["code"]),
        (401, &json!("unauthenticated"))
    );
    // The old token does not come back to life.
    let res = client()
        .get(app.url("/api/me"))
        .header(header::COOKIE, cookie.split(';').next().unwrap_or(""))
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn an_unknown_handle_and_a_wrong_password_get_the_same_answer() {
    let app = spawn_app().await;
    let (wrong, body_wrong, _) = call(
        &client(),
        &app,
        Method::POST,
        "/api/account/signin",
        creds(WRITER, "not the password"),
    )
    .await;
    let (unknown, body_unknown, _) = call(
        &client(),
        &app,
        Method::POST,
        "/api/account/signin",
        creds("nobody-here", PASSWORD),
    )
    .await;
    let (malformed, body_malformed, _) = call(
        &client(),
        &app,
        Method::POST,
        "/api/account/signin",
        creds("x", PASSWORD),
    )
    .await;
    assert_eq!((wrong, unknown, malformed), (401, 401, 401));
    assert_eq!(body_wrong, body_unknown);
    assert_eq!(body_wrong, body_malformed);
    assert_eq!(body_wrong["error"]["code"], "unauthenticated");
}

#[tokio::test]
async fn sign_in_is_limited_per_handle() {
    let app = spawn_app().await;
    let mut statuses = Vec::new();
    for _ in 0..7 {
        let (status, _, _) = call(
            &client(),
            &app,
            Method::POST,
            "/api/account/signin",
            creds(WRITER, "wrong password!"),
        )
        .await;
        statuses.push(status);
    }
    // The test client's own sign-up took the first of the burst of 5.
    assert_eq!(
        statuses,
        [401, 401, 401, 401, 429, 429, 429],
        "{statuses:?}"
    );
    // Another handle is not slowed down by it.
    let (status, _, _) = call(
        &client(),
        &app,
        Method::POST,
        "/api/account/signin",
        creds("someone-else", PASSWORD),
    )
    .await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn every_sign_in_gets_a_new_token_and_sessions_can_be_revoked() {
    let app = spawn_app().await;
    let (laptop, phone) = (client(), client());
    let (_, _, a) = call(
        &laptop,
        &app,
        Method::POST,
        "/api/account/signin",
        creds(WRITER, PASSWORD),
    )
    .await;
    let (_, _, b) = call(
        &phone,
        &app,
        Method::POST,
        "/api/account/signin",
        creds(WRITER, PASSWORD),
    )
    .await;
    let (a, b) = (
        sign_in_cookie(&a).expect("cookie"),
        sign_in_cookie(&b).expect("cookie"),
    );
    assert_ne!(token_of(&a), token_of(&b), "a sign-in never reuses a token");

    let (status, list, headers) = call(
        &laptop,
        &app,
        Method::GET,
        "/api/account/sessions",
        Value::Null,
    )
    .await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(headers[header::CACHE_CONTROL], "private, no-store");
    let sessions = list["sessions"].as_array().expect("sessions");
    assert_eq!(
        sessions.len(),
        3,
        "the test client's, the laptop's, the phone's: {list}"
    );
    assert_eq!(sessions.iter().filter(|s| s["current"] == true).count(), 1);
    assert!(
        sessions
            .iter()
            .all(|s| !s.to_string().contains(token_of(&a))),
        "no token in the list"
    );
    // The phone's session is the newest that is not the laptop's.
    let phone_id = sessions
        .iter()
        .find(|s| s["current"] == false)
        .and_then(|s| s["id"].as_str())
        .expect("another session")
        .to_owned();
    assert_eq!(
        call(&phone, &app, Method::GET, "/api/me", Value::Null)
            .await
            .0,
        200
    );
    let (status, _, _) = call(
        &laptop,
        &app,
        Method::DELETE,
        &format!("/api/account/sessions/{phone_id}"),
        Value::Null,
    )
    .await;
    assert_eq!(status, 204);
    assert_eq!(
        call(&phone, &app, Method::GET, "/api/me", Value::Null)
            .await
            .0,
        401,
        "revoked, though its session was cached"
    );
    assert_eq!(
        call(&laptop, &app, Method::GET, "/api/me", Value::Null)
            .await
            .0,
        200
    );
    // Nobody revokes another account's session.
    let other = app.writer("other-writer").await;
    let (status, _, _) = call(
        &other,
        &app,
        Method::DELETE,
        &format!("/api/account/sessions/{phone_id}"),
        Value::Null,
    )
    .await;
    assert_eq!(status, 404);

    let (status, _, _) = call(
        &laptop,
        &app,
        Method::POST,
        "/api/account/signout-everywhere",
        Value::Null,
    )
    .await;
    assert_eq!(status, 204);
    assert_eq!(
        call(&laptop, &app, Method::GET, "/api/me", Value::Null)
            .await
            .0,
        401
    );
    assert_eq!(
        app.get_json("/api/me").await.0,
        401,
        "the test client's session ended too"
    );
}

#[tokio::test]
async fn changing_the_password_ends_every_other_session() {
    let app = spawn_app().await;
    let other = client();
    call(
        &other,
        &app,
        Method::POST,
        "/api/account/signin",
        creds(WRITER, PASSWORD),
    )
    .await;
    assert_eq!(
        call(&other, &app, Method::GET, "/api/me", Value::Null)
            .await
            .0,
        200
    );
    let (status, err, _) = call(
        &app.http,
        &app,
        Method::POST,
        "/api/account/password",
        json!({"current": "not it at all", "new": "a brand new passphrase"}),
    )
    .await;
    assert_eq!((status, &err["error"]["field"]), (401, &json!("current")));
    let (status, _, _) = call(
        &app.http,
        &app,
        Method::POST,
        "/api/account/password",
        json!({"current": PASSWORD, "new": "a brand new passphrase"}),
    )
    .await;
    assert_eq!(status, 204);
    assert_eq!(
        call(&other, &app, Method::GET, "/api/me", Value::Null)
            .await
            .0,
        401
    );
    assert_eq!(
        app.get_json("/api/me").await.0,
        200,
        "the session that changed it stays"
    );
    let (old, _, _) = call(
        &client(),
        &app,
        Method::POST,
        "/api/account/signin",
        creds(WRITER, PASSWORD),
    )
    .await;
    let (new, _, _) = call(
        &client(),
        &app,
        Method::POST,
        "/api/account/signin",
        creds(WRITER, "a brand new passphrase"),
    )
    .await;
    assert_eq!((old, new), (401, 200));
}

#[tokio::test]
async fn an_expired_session_signs_nobody_in() {
    let app = spawn_app().await;
    let http = client();
    let (_, _, headers) = call(
        &http,
        &app,
        Method::POST,
        "/api/account/signin",
        creds(WRITER, PASSWORD),
    )
    .await;
    let token = token_of(&sign_in_cookie(&headers).expect("cookie")).to_owned();
    // Its absolute expiry passes (written to the database behind the server's back, before
    // the session was ever read, so no cached copy holds the old time).
    let db = libsql::Builder::new_local(app.dir().join("aion.db"))
        .build()
        .await
        .expect("db");
    let conn = db.connect().expect("conn");
    let changed = conn
        .execute(
            "UPDATE account_sessions SET expires_at = 0 WHERE id = ?1",
            [sha256_hex(&token)],
        )
        .await
        .expect("update");
    assert_eq!(changed, 1);
    assert_eq!(
        call(&http, &app, Method::GET, "/api/me", Value::Null)
            .await
            .0,
        401
    );
    let left: i64 = conn
        .query(
            "SELECT count(*) FROM account_sessions WHERE id = ?1",
            [sha256_hex(&token)],
        )
        .await
        .expect("query")
        .next()
        .await
        .expect("row")
        .expect("a row")
        .get(0)
        .expect("count");
    assert_eq!(
        left, 0,
        "an expired session is deleted when it is next seen"
    );
}

fn sha256_hex(token: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[tokio::test]
async fn what_a_visitor_started_moves_to_the_account_at_sign_up() {
    let app = spawn_app().await;
    let visitor = client();
    let (status, task, _) = call(&visitor, &app, Method::POST, "/api/reports", json!({})).await;
    assert_eq!(status, 200, "{task}");
    let uid = task["id"].as_str().expect("id").to_owned();
    let (status, _, _) = call(
        &visitor,
        &app,
        Method::POST,
        "/api/account/signup",
        creds("newcomer", PASSWORD),
    )
    .await;
    assert_eq!(status, 201);
    let (status, list, _) = call(&visitor, &app, Method::GET, "/api/tasks", Value::Null).await;
    assert_eq!(status, 200);
    assert!(list.to_string().contains(&uid), "{list}");
    // And from any other browser the account signs into.
    let elsewhere = app.writer("newcomer").await;
    let (_, list, _) = call(&elsewhere, &app, Method::GET, "/api/tasks", Value::Null).await;
    assert!(list.to_string().contains(&uid), "{list}");
    let (_, theirs, _) = call(&app.http, &app, Method::GET, "/api/tasks", Value::Null).await;
    assert!(
        !theirs.to_string().contains(&uid),
        "another writer does not see it"
    );
}

#[tokio::test]
async fn the_cookie_is_not_secure_only_when_configured_so() {
    let app = spawn_app_with(&[("AION_COOKIE_SECURE", "0")]).await;
    let (status, _, headers) = call(
        &client(),
        &app,
        Method::POST,
        "/api/account/signup",
        creds("plain-http", PASSWORD),
    )
    .await;
    assert_eq!(status, 201);
    let cookie = headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("aion_account="))
        .expect("the plain cookie")
        .to_owned();
    assert!(!cookie.contains("Secure"), "{cookie}");
}

#[tokio::test]
async fn the_account_forms_answer_with_redirects_and_a_refusal_is_shown_once() {
    let app = spawn_app().await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .expect("client");
    let form = |path: &str, fields: &[(&str, &str)]| {
        http.post(app.url(path))
            .header("sec-fetch-site", "same-origin")
            .form(fields)
            .send()
    };
    let res = form(
        "/account/signin",
        &[("handle", WRITER), ("password", "not the password")],
    )
    .await
    .expect("sent");
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()[header::LOCATION], "/account");
    assert!(
        sign_in_cookie(res.headers()).is_none(),
        "no session for a wrong password"
    );
    // The account page shows what was refused, once.
    let page = |http: &reqwest::Client| {
        let url = app.url("/api/account/page");
        let http = http.clone();
        async move {
            http.get(url)
                .send()
                .await
                .expect("sent")
                .text()
                .await
                .expect("body")
        }
    };
    assert!(
        page(&http)
            .await
            .contains("the handle or the password is wrong")
    );
    assert!(
        !page(&http)
            .await
            .contains("the handle or the password is wrong")
    );

    let res = form(
        "/account/signup",
        &[("handle", "formwriter"), ("password", PASSWORD)],
    )
    .await
    .expect("sent");
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()[header::LOCATION], "/stories?scope=mine");
    assert!(sign_in_cookie(res.headers()).is_some());
    assert!(page(&http).await.contains("formwriter"));
    // Another site's form is refused before it does anything.
    let res = http
        .post(app.url("/account/signout"))
        .header("origin", "http://evil.example")
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), 403);
    assert!(page(&http).await.contains("formwriter"), "still signed in");
}
