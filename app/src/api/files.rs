//! The API's endpoints whose bodies are files rather than JSON: a story's cover up
//! (`PUT /api/stories/{id}/cover`, the raw image as the body, as `curl -T` or
//! `fetch(url, {body: file})` send it) and away (`DELETE`), and a task's result down
//! (`GET /api/tasks/{id}/result`, streamed from disk). Plain axum handlers, because their
//! bodies are bytes; they get the caller the same way as the server functions do, through
//! `identity`'s extractors.

use axum::{
    Extension, Router,
    body::Body,
    extract::Path,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, put},
};

use app::{
    backend::{
        AppState, exports,
        http::api_errors,
        identity::{Session, Viewer},
        media::{Upload, budget, decode},
    },
    model::{ApiError, CoverUploaded, ErrorCode, fields::Id},
};

/// The routes.
pub fn routes() -> Router {
    Router::new()
        .route("/api/stories/{id}/cover", put(upload).delete(remove))
        .route("/api/tasks/{id}/result", get(task_result))
}

/// `PUT /api/stories/{id}/cover`: 202 with `{"story", "task"}` (the task makes the
/// variants; `task` is null when the same image was uploaded before).
#[cfg_attr(feature = "server", utoipa::path(
    put, path = "/api/stories/{id}/cover", tag = "stories",
    security(("session" = [])),
    params(("id" = String, Path, description = "The story's id (a UUID).")),
    request_body(
        description = "The image itself.",
        content((Vec<u8> = "image/jpeg"), (Vec<u8> = "image/png"), (Vec<u8> = "image/webp"))
    ),
    responses(
        (
            status = 202,
            description = "Stored; the task makes its variants (`task` is null when the same image was uploaded before).",
            body = CoverUploaded
        )
    )
))]
pub(crate) async fn upload(
    Extension(state): Extension<AppState>,
    session: Session,
    Path(raw): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let result = async {
        let id = Id::parse("id", &raw)?;
        // An unknown story (or one the caller may not change) is refused before its body
        // is read.
        state.editable_story(session.viewer(), &id).await?;
        let declared = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let bytes = axum::body::to_bytes(body, decode::MAX_BYTES)
            .await
            .map_err(|_| decode::too_large(None))?;
        let upload = Upload::check_within(
            state.image_budget(),
            bytes.to_vec(),
            declared,
            Some(budget::UPLOAD_WAIT),
        )
        .await?;
        state.set_cover(&id, upload, session.owner().as_str()).await
    }
    .await;
    let mut response = match result {
        Ok((story, task)) => (
            StatusCode::ACCEPTED,
            axum::Json(CoverUploaded { story, task }),
        )
            .into_response(),
        Err(e) => {
            let mut response = api_errors::respond(&e);
            // The image budget was taken for longer than an upload waits.
            if e.code() == ErrorCode::Unavailable {
                response.headers_mut().insert(
                    header::RETRY_AFTER,
                    HeaderValue::from(budget::RETRY_AFTER_SECS),
                );
            }
            response
        }
    };
    session.send_cookie(&mut response);
    response
}

/// `DELETE /api/stories/{id}/cover`: the story without its cover.
#[cfg_attr(feature = "server", utoipa::path(
    delete, path = "/api/stories/{id}/cover", tag = "stories",
    security(("session" = [])),
    params(("id" = String, Path, description = "The story's id (a UUID).")),
    responses((status = 200, body = app::model::Story))
))]
pub(crate) async fn remove(
    Extension(state): Extension<AppState>,
    viewer: Viewer,
    Path(raw): Path<String>,
) -> Response {
    let result = async {
        let id = Id::parse("id", &raw)?;
        state.editable_story(&viewer, &id).await?;
        state.remove_cover(&id).await
    }
    .await;
    match result {
        Ok(story) => axum::Json(story).into_response(),
        Err(e) => api_errors::respond(&e),
    }
}

/// `GET /api/tasks/{id}/result`: the file a completed task wrote, as a download, to the
/// client that started the task (or an operator) only. Streamed from disk, never read whole.
#[cfg_attr(feature = "server", utoipa::path(
    get, path = "/api/tasks/{id}/result", tag = "tasks",
    security((), ("session" = [])),
    params(("id" = String, Path, description = "The task's id.")),
    responses(
        (
            status = 200,
            description = "The task's file.",
            content(
                (Object = "application/json"),
                (Vec<u8> = "application/pdf"),
                (String = "text/markdown; charset=utf-8")
            )
        )
    )
))]
pub(crate) async fn task_result(
    Extension(state): Extension<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Response {
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
) -> Result<(exports::FileResult, tokio::fs::File, u64), ApiError> {
    let task = state.visible_task(viewer, "id", raw).await?;
    if task.status != server::tasks::Status::Completed {
        return Err(ApiError::conflict(format!(
            "task {} is {}; its result can be downloaded once it has completed",
            task.uid,
            task.status.as_str()
        )));
    }
    let file: exports::FileResult = task
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
