//! Covers over HTTP: `PUT /api/stories/{id}/cover` takes the raw image bytes (not JSON,
//! not a multipart form: the body is the file, as `curl -T` or `fetch(url, {body: file})`
//! send it), `DELETE` removes the cover, and `GET /media/{hash}-{width}.{ext}` serves a
//! variant. Plain axum handlers rather than server functions, because the body is bytes
//! and the media answers need their own headers.
//!
//! Media names are content-addressed: the bytes behind a name never change, so they are
//! sent `immutable` for a year with a strong ETag (the name itself), and a browser that
//! asks again with it gets a 304.

use axum::{
    Extension, Router,
    body::Body,
    extract::Path,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, put},
};
use serde_json::json;
use server::http::response_cache::etag_matches;

use app::{
    backend::{
        AppState, api_errors,
        media::{Upload, decode},
        session::{new_session, owner_in},
    },
    model::{ApiError, MediaFormat, fields::Id},
};

/// The routes.
pub fn routes() -> Router {
    Router::new()
        .route("/api/stories/{id}/cover", put(upload).delete(remove))
        .route("/media/{name}", get(serve))
}

/// `PUT /api/stories/{id}/cover`: 202 with `{"story", "task"}` (the task makes the
/// variants; `task` is null when the same image was uploaded before).
async fn upload(
    Extension(state): Extension<AppState>,
    Path(raw): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let (owner, cookie) = match owner_in(&headers) {
        Some(owner) => (owner, None),
        None => new_session(),
    };
    let result = async {
        let id = Id::parse("id", &raw)?;
        // An unknown story is a 404 before its body is read.
        state.story(&id).await?;
        let declared = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let bytes = axum::body::to_bytes(body, decode::MAX_BYTES)
            .await
            .map_err(|_| decode::too_large(None))?;
        let upload =
            tokio::task::spawn_blocking(move || Upload::check(bytes.to_vec(), declared.as_deref()))
                .await
                .map_err(|_| ApiError::internal())??;
        state.set_cover(&id, upload, owner.as_str()).await
    }
    .await;
    let mut response = match result {
        Ok((story, task)) => (
            StatusCode::ACCEPTED,
            axum::Json(json!({ "story": story, "task": task })),
        )
            .into_response(),
        Err(e) => api_errors::respond(&e),
    };
    if let Some(cookie) = cookie {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    response
}

/// `DELETE /api/stories/{id}/cover`: the story without its cover.
async fn remove(Extension(state): Extension<AppState>, Path(raw): Path<String>) -> Response {
    let result = async {
        let id = Id::parse("id", &raw)?;
        state.remove_cover(&id).await
    }
    .await;
    match result {
        Ok(story) => axum::Json(story).into_response(),
        Err(e) => api_errors::respond(&e),
    }
}

/// `GET /media/{name}`.
async fn serve(
    Extension(state): Extension<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Response {
    let data = match state.media(&name).await {
        Ok(Some(data)) => data,
        Ok(None) => {
            return api_errors::respond(&ApiError::not_found("media file", &name));
        }
        Err(e) => return api_errors::respond(&e),
    };
    let format = name
        .rsplit_once('.')
        .and_then(|(_, ext)| MediaFormat::from_ext(ext))
        .unwrap_or(MediaFormat::Jpeg);
    let Ok(etag) = HeaderValue::from_str(&format!("\"{name}\"")) else {
        return api_errors::respond(&ApiError::internal());
    };
    let mut response = if etag_matches(headers.get(header::IF_NONE_MATCH), &etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let len = data.len();
        let mut r = Body::from(data).into_response();
        r.headers_mut()
            .insert(header::CONTENT_LENGTH, HeaderValue::from(len));
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(format.mime()),
        );
        r
    };
    let h = response.headers_mut();
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    h.insert(header::ETAG, etag);
    response
}
