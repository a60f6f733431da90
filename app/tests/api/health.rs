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
