//! Connections and live-event streams are bounded (issue 27, finding 7): one client could
//! open streams until the process ran out of file descriptors. A session and an address
//! hold a bounded number of streams, every stream ends by itself, and past the connection
//! cap a new connection gets a 503 while the ones open keep being served.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{client, spawn_app_with};

/// Opens `GET /api/events` for `http`'s session: the response, headers read.
async fn open(http: &reqwest::Client, base: &str) -> reqwest::Response {
    http.get(format!("{base}/api/events"))
        .send()
        .await
        .expect("request sent")
}

/// Reads a stream until the server ends it; panics if it is still open after `within`.
async fn ends_within(stream: reqwest::Response, within: Duration) {
    let mut stream = stream;
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, stream.chunk()).await {
            Ok(Ok(Some(_))) => continue,
            Ok(Ok(None)) => return,
            Ok(Err(e)) => panic!("the stream broke instead of ending: {e}"),
            Err(_) => panic!("the stream was still open after {within:?}"),
        }
    }
}

#[tokio::test]
async fn live_streams_are_bounded_per_session_and_per_address_and_end_by_themselves() {
    let app = spawn_app_with(&[
        ("AION_EVENT_STREAMS_PER_SESSION", "2"),
        ("AION_EVENT_STREAMS_PER_ADDRESS", "3"),
        ("AION_EVENT_STREAM_MAX_SECS", "2"),
    ])
    .await;
    let (a, b) = (client(), client());
    // The first stream makes A's session (its cookie); the second is of the same session.
    let a1 = open(&a, &app.base).await;
    assert_eq!(a1.status(), 200);
    let a2 = open(&a, &app.base).await;
    assert_eq!(a2.status(), 200);
    let refused = open(&a, &app.base).await;
    assert_eq!(refused.status(), 429, "a third stream of one session");
    let body: serde_json::Value = refused.json().await.expect("JSON error");
    assert_eq!(body["error"]["code"], "rate_limited", "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("session has 2 live streams")),
        "{body}"
    );
    // Another session from the same address: one more fits the address's three.
    let b1 = open(&b, &app.base).await;
    assert_eq!(b1.status(), 200);
    let by_address = open(&client(), &app.base).await;
    assert_eq!(by_address.status(), 429, "a fourth stream of one address");
    let body: serde_json::Value = by_address.json().await.expect("JSON error");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("address has 3 live streams")),
        "{body}"
    );
    assert_eq!(app.metric("aion_live_streams").await, 3.0);
    assert!(
        app.metric("aion_live_streams_refused_total{bound=\"session\"}")
            .await
            >= 1.0
    );
    assert!(
        app.metric("aion_live_streams_refused_total{bound=\"address\"}")
            .await
            >= 1.0
    );

    // Each stream ends by itself after its two seconds, and gives its place back.
    let started = Instant::now();
    for stream in [a1, a2, b1] {
        ends_within(stream, Duration::from_secs(15)).await;
    }
    assert!(
        started.elapsed() >= Duration::from_millis(500),
        "ended early"
    );
    let again = open(&a, &app.base).await;
    assert_eq!(again.status(), 200, "the session's places are free again");
}

#[tokio::test]
async fn past_the_connection_cap_a_client_gets_a_503_and_the_server_serves_on() {
    let app = spawn_app_with(&[
        ("AION_MAX_CONNECTIONS", "16"),
        // Held connections stay open for the whole test.
        ("AION_HEADER_TIMEOUT_SECS", "60"),
    ])
    .await;
    assert_eq!(app.metric("aion_http_max_connections").await, 16.0);
    let addr = app.base.trim_start_matches("http://").to_owned();
    // The test's own client may hold a kept-alive connection too: fill up to the refusal.
    let mut held = Vec::new();
    let refused = loop {
        assert!(held.len() <= 16, "more than the cap were served");
        let (mut tcp, head) = health(&addr).await;
        if &head == b"HTTP/1.1 200" {
            // Read the rest of the answer later; the connection stays open.
            held.push(tcp);
            continue;
        }
        let mut rest = String::new();
        let _ = tcp.read_to_string(&mut rest).await;
        break format!("{}{rest}", String::from_utf8_lossy(&head));
    };
    assert!(refused.starts_with("HTTP/1.1 503"), "{refused}");
    assert!(refused.contains("too_many_connections"), "{refused}");
    assert!(
        held.len() >= 10,
        "only {} connections before the cap",
        held.len()
    );
    // An open connection is still served while new ones are refused.
    let mut first = held.remove(0);
    let mut rest = vec![0u8; 4096];
    let _ = first.read(&mut rest).await; // the rest of its first answer
    drop(first);
    // Places given back are taken again.
    drop(held.drain(..4));
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut tcp = loop {
        let (tcp, head) = health(&addr).await;
        if &head == b"HTTP/1.1 200" {
            break tcp;
        }
        assert!(Instant::now() < deadline, "no place was given back");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let mut rest = vec![0u8; 4096];
    let _ = tcp.read(&mut rest).await;
    drop(tcp);
    drop(held);
    let refused_total = {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let res = reqwest::get(app.url("/metrics")).await;
            if let Ok(res) = res
                && res.status() == 200
            {
                let text = res.text().await.expect("metrics");
                break text
                    .lines()
                    .find_map(|l| l.strip_prefix("aion_http_refused_connections_total "))
                    .and_then(|v| v.trim().parse::<f64>().ok())
                    .expect("the refused counter");
            }
            assert!(Instant::now() < deadline, "metrics never answered");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    assert!(refused_total >= 1.0);
}

/// A kept-alive `GET /api/health` on a new connection: the connection and the first 12
/// bytes of the answer (its status line's start; zeros if the server closed at once).
async fn health(addr: &str) -> (tokio::net::TcpStream, [u8; 12]) {
    let mut tcp = tokio::net::TcpStream::connect(addr)
        .await
        .expect("connects");
    tcp.write_all(b"GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .expect("writes");
    let mut head = [0u8; 12];
    let _ = tcp.read_exact(&mut head).await;
    (tcp, head)
}
