use crate::helpers::spawn_app;

#[tokio::test]
async fn unknown_api_path_is_a_json_404() {
    let app = spawn_app().await;
    let (status, body) = app.get_json("/api/does-not-exist").await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "not_found");
}

#[tokio::test]
async fn wrong_method_is_a_json_405() {
    let app = spawn_app().await;
    let (status, body) = app
        .send_raw(reqwest::Method::DELETE, "/api/health", "")
        .await;
    assert_eq!(status, 405);
    assert_eq!(body["error"]["code"], "method_not_allowed");
}
