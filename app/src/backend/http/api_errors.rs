//! Gives every `/api/` error response the documented shape `{"error":{"code","message","field"?}}`.
//!
//! Errors reach the wire from three places: our server functions (Dioxus wraps an `ApiError`
//! as `{"message","code","data"}`), Dioxus itself (`{"error":"..."}`, e.g. when arguments do
//! not deserialize, which it reports as 500), and axum (plain text, e.g. 405). This layer
//! rewrites all three into one shape, turns argument errors into 400, and keeps 500s free of
//! internals (those go to the log).

use axum::{
    body::{Body, Bytes},
    extract::Request,
    http::{HeaderValue, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use serde::Deserialize;

use crate::model::{ApiError, ErrorCode};

/// Error bodies are small; anything larger is not one of ours and is replaced.
const MAX_ERROR_BODY: usize = 64 * 1024;

/// axum middleware: normalises error responses of `/api/` paths.
pub async fn normalise(req: Request, next: Next) -> Response {
    let is_api = req.uri().path().starts_with("/api/");
    let response = next.run(req).await;
    let status = response.status();
    if !is_api || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_ERROR_BODY)
        .await
        .unwrap_or_default();
    let error = to_api_error(status, &bytes);
    parts.status = error.code().status();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Response::from_parts(parts, Body::from(to_json(&error)))
}

/// A response carrying `error` with its status (its `IntoResponse`, in the model).
pub fn respond(error: &ApiError) -> Response {
    error.clone().into_response()
}

fn to_json(error: &ApiError) -> String {
    serde_json::to_string(error).expect("ApiError serialises: plain strings and enums")
}

/// Dioxus's wrapper around a typed server-function error.
#[derive(Deserialize)]
struct DioxusPayload {
    message: String,
    data: Option<serde_json::Value>,
}

/// `ServerFnError`'s own response body.
#[derive(Deserialize)]
struct DioxusServerFnError {
    error: String,
}

fn to_api_error(status: StatusCode, body: &Bytes) -> ApiError {
    if let Ok(ours) = serde_json::from_slice::<ApiError>(body) {
        return ours;
    }
    if let Ok(payload) = serde_json::from_slice::<DioxusPayload>(body) {
        if let Some(ours) = payload
            .data
            .and_then(|d| serde_json::from_value::<ApiError>(d).ok())
        {
            return ours;
        }
        return from_status(status, &payload.message);
    }
    if let Ok(sfe) = serde_json::from_slice::<DioxusServerFnError>(body) {
        // Arguments that do not deserialize are the client's fault, whatever status Dioxus chose.
        if sfe
            .error
            .starts_with("error deserializing server function arguments")
            || sfe.error.starts_with("missing argument")
        {
            let detail = sfe.error.split_once(": ").map_or("", |(_, d)| d);
            return ApiError::new(
                ErrorCode::MalformedJson,
                format!("the request body is not valid JSON for this endpoint: {detail}"),
            );
        }
        // On the server this is a query string that did not parse (Dioxus names it after
        // the client's side of the same error), e.g. a parameter given twice.
        if let Some(detail) = sfe
            .error
            .strip_prefix("error deserializing server function results: ")
        {
            let detail = detail.lines().next().unwrap_or_default();
            return ApiError::new(
                ErrorCode::InvalidInput,
                format!("the query string is not valid for this endpoint: {detail}"),
            );
        }
        return from_status(status, &sfe.error);
    }
    from_status(status, String::from_utf8_lossy(body).trim())
}

fn from_status(status: StatusCode, message: &str) -> ApiError {
    let code = ErrorCode::from_status(status.as_u16());
    if code == ErrorCode::Internal {
        tracing::error!(%status, message, "internal error in an API handler");
        return ApiError::internal();
    }
    let message = if message.is_empty() {
        status.canonical_reason().unwrap_or("error").to_owned()
    } else {
        message.to_owned()
    };
    ApiError::new(code, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewrite(status: u16, body: &str) -> serde_json::Value {
        let err = to_api_error(
            StatusCode::from_u16(status).expect("valid status"),
            &Bytes::from(body.to_owned()),
        );
        let mut v = serde_json::to_value(&err).expect("serialisable");
        v["status"] = err.code().status().as_u16().into();
        v
    }

    #[test]
    fn unwraps_a_typed_server_function_error() {
        let v = rewrite(
            400,
            r#"{"message":"title is empty","code":400,"data":{"error":{"code":"invalid_input","message":"title is empty","field":"title"}}}"#,
        );
        assert_eq!(v["error"]["field"], "title");
        assert_eq!(v["status"], 400);
    }

    #[test]
    fn argument_errors_become_400() {
        let v = rewrite(
            500,
            r#"{"error":"error deserializing server function arguments: expected value at line 1 column 1"}"#,
        );
        assert_eq!(v["error"]["code"], "malformed_json");
        assert_eq!(v["status"], 400);
    }

    #[test]
    fn query_strings_that_do_not_parse_become_400() {
        let v = rewrite(
            500,
            r#"{"error":"error deserializing server function results: Multiple values for one key: \"limit\""}"#,
        );
        assert_eq!(v["error"]["code"], "invalid_input");
        assert_eq!(
            v["error"]["message"],
            "the query string is not valid for this endpoint: Multiple values for one key: \"limit\""
        );
    }

    #[test]
    fn internal_errors_hide_details() {
        let v = rewrite(500, "thread panicked at src/secret.rs:12");
        assert_eq!(v["error"]["code"], "internal");
        assert!(!v.to_string().contains("secret"));
    }

    #[test]
    fn plain_text_keeps_its_status() {
        let v = rewrite(405, "");
        assert_eq!(v["error"]["code"], "method_not_allowed");
        assert_eq!(v["status"], 405);
    }
}
