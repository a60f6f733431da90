//! `GET /media/{hash}-{width}.{ext}`: a cover's variant (uploads and removals are API
//! endpoints: `api::files`). A plain axum handler, because the answer is bytes with their
//! own headers.
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
    routing::get,
};
use server::http::response_cache::etag_matches;

use app::{
    backend::{AppState, http::api_errors},
    model::{ApiError, MediaFormat},
};

/// The routes.
pub fn routes() -> Router {
    Router::new().route("/media/{name}", get(serve))
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
