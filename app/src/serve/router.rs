//! The axum router: Dioxus (server-side rendering, server functions, static assets) plus our
//! own routes and the layers around all of it.

use std::path::PathBuf;

use axum::{
    Extension, Router,
    http::{HeaderValue, header},
    response::IntoResponse,
    routing::{any, get},
};
use dioxus::server::{DioxusRouterExt, ServeConfig};

use app::backend::{AppState, api_errors, http, jobs, session::Viewer};
use app::model::{ApiError, ErrorCode};

/// Builds the complete router for one app instance.
pub fn build(state: AppState) -> Router {
    let api_fallback = Router::new().route(
        "/api/{*rest}",
        any(|| async {
            api_errors::respond(&ApiError::new(
                ErrorCode::NotFound,
                "no such API endpoint; API.md lists them",
            ))
        }),
    );
    let public = public_dir();
    if let Some(dir) = &public {
        state.set_client_bundle(app::backend::bundle::BundleSize::measure(dir));
    }
    let dioxus = if public.is_some() {
        Router::new().serve_dioxus_application(ServeConfig::new(), crate::App)
    } else {
        // A server built by plain `cargo` (tests) has no client bundle next to it: serve the
        // API and server-rendered pages without static assets.
        tracing::warn!(
            "no public/ directory next to the server: pages render without the WASM client"
        );
        Router::new().serve_api_application(ServeConfig::new(), crate::App)
    };
    let metrics = Router::new()
        .route("/metrics", get(prometheus))
        .route("/api/tasks/{id}/result", get(task_result))
        .merge(super::media::routes());
    let stack = http::stack(&state);
    stack.apply(
        api_fallback
            .merge(metrics)
            .merge(dioxus)
            .layer(axum::middleware::from_fn(api_errors::normalise))
            .layer(Extension(state)),
    )
}

/// `GET /metrics`: Prometheus text format.
async fn prometheus(Extension(state): Extension<AppState>) -> impl IntoResponse {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        http::prometheus(&state).await,
    )
}

/// `GET /api/tasks/{id}/result`: the file a completed task wrote, as a download, to the
/// client that started the task (or an operator) only. Streamed from disk, never read whole.
async fn task_result(
    Extension(state): Extension<AppState>,
    viewer: Viewer,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> axum::response::Response {
    match task_file(&state, &viewer, &id).await {
        Ok((file, opened, len)) => {
            let disposition = format!(
                "attachment; filename=\"{}\"; filename*=UTF-8''{}",
                file.filename.replace(
                    |c: char| !c.is_ascii_alphanumeric() && c != '.' && c != '-',
                    "_"
                ),
                percent_encode(&file.filename)
            );
            let body = axum::body::Body::from_stream(tokio_util::io::ReaderStream::new(opened));
            let mut response = body.into_response();
            let h = response.headers_mut();
            h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
            if let Ok(v) = HeaderValue::from_str(&file.content_type) {
                h.insert(header::CONTENT_TYPE, v);
            }
            if let Ok(v) = HeaderValue::from_str(&disposition) {
                h.insert(header::CONTENT_DISPOSITION, v);
            }
            h.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, no-store"),
            );
            response
        }
        Err(e) => api_errors::respond(&e),
    }
}

async fn task_file(
    state: &AppState,
    viewer: &Viewer,
    raw: &str,
) -> Result<(jobs::FileResult, tokio::fs::File, u64), ApiError> {
    let task = state.visible_task(viewer, "id", raw).await?;
    if task.status != server::tasks::Status::Completed {
        return Err(ApiError::conflict(format!(
            "task {} is {}; its result can be downloaded once it has completed",
            task.uid,
            task.status.as_str()
        )));
    }
    let file: jobs::FileResult = task
        .result
        .and_then(|r| serde_json::from_value(r).ok())
        .ok_or_else(|| ApiError::not_found("file of task", &task.uid))?;
    // The name comes from our own handler, but never let it leave the files directory.
    if file.file.contains(['/', '\\']) || file.file.starts_with('.') {
        return Err(ApiError::internal());
    }
    let path = state.config().files_dir.join(&file.file);
    let opened = async {
        let f = tokio::fs::File::open(&path).await?;
        let len = f.metadata().await?.len();
        Ok::<_, std::io::Error>((f, len))
    };
    match opened.await {
        Ok((f, len)) => Ok((file, f, len)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(ApiError::new(
            ErrorCode::NotFound,
            format!(
                "the file of task {} has been cleaned up; run the task again",
                task.uid
            ),
        )),
        Err(e) => {
            tracing::error!(task = task.id, "opening {} failed: {e}", path.display());
            Err(ApiError::internal())
        }
    }
}

/// RFC 5987 encoding for `filename*`.
fn percent_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Where Dioxus looks for the client bundle: `DIOXUS_PUBLIC_PATH`, else `public/` next to
/// the executable.
fn public_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("DIOXUS_PUBLIC_PATH") {
        Some(dir) => PathBuf::from(dir),
        None => std::env::current_exe().ok()?.parent()?.join("public"),
    };
    dir.is_dir().then_some(dir)
}
