use crate::helpers::spawn_app;

#[tokio::test]
async fn health_reports_version_and_uptime() {
    let app = spawn_app().await;
    let (status, body) = app.get_json("/api/health").await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "ok");
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    assert!(body["uptime_secs"].is_u64());
}

#[tokio::test]
async fn pages_are_server_rendered_and_unknown_paths_are_404() {
    let app = spawn_app().await;
    let home = app.http.get(app.url("/")).send().await.expect("sent");
    assert_eq!(home.status(), 200);
    assert!(
        home.text()
            .await
            .expect("body")
            .contains("AION Story Engine")
    );
    let missing = app
        .http
        .get(app.url("/no/such/page"))
        .send()
        .await
        .expect("sent");
    assert_eq!(missing.status(), 404);
    assert!(
        missing
            .text()
            .await
            .expect("body")
            .contains("Page not found")
    );
}

#[tokio::test]
async fn metrics_show_the_process_and_its_open_connections() {
    let app = crate::helpers::spawn_app().await;
    assert!(app.metric("aion_process_resident_bytes").await > f64::from(1u32 << 20));
    assert!(app.metric("aion_process_threads").await >= 1.0);
    // Ten idle connections (no request yet) are open connections.
    let addr = app.base.trim_start_matches("http://").to_owned();
    let held: Vec<_> = (0..10)
        .map(|_| std::net::TcpStream::connect(&addr).expect("connect"))
        .collect();
    let wait_for = |want: fn(f64) -> bool| {
        let app = &app;
        async move {
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
            loop {
                let v = app.metric("aion_http_open_connections").await;
                if want(v) {
                    return v;
                }
                assert!(
                    std::time::Instant::now() < deadline,
                    "open connections stayed {v}"
                );
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
    };
    wait_for(|v| v >= 10.0).await;
    drop(held);
    wait_for(|v| v < 10.0).await;
}
