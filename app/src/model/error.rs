//! The one error shape of the HTTP API: `{"error":{"code","message","field"?}}`.
//!
//! Server functions return `Result<T, ApiError>`. Dioxus wraps a typed error as
//! `{"message","code","data":<ApiError>}`; the server's API error layer unwraps that back to
//! this shape, and [`From<ServerFnError>`] reads it again on the client, so the same value
//! arrives at every caller, the WASM app and `curl` alike.

use dioxus::fullstack::{AsStatusCode, ServerFnError, StatusCode};
use serde::{Deserialize, Serialize};

/// What went wrong, machine-readable (its snake_case name on the wire). Each code has
/// exactly one HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// 400: a field is missing, malformed or out of range (`field` names it).
    InvalidInput,
    /// 400: the body is not the JSON the endpoint takes.
    MalformedJson,
    /// 401: an admin endpoint without the right token.
    Unauthorized,
    /// 401: the endpoint needs a signed-in writer, or the handle and password did not
    /// match.
    Unauthenticated,
    /// 403: signed in, but the caller's role does not allow this (or another site sent it).
    Forbidden,
    /// 415: the body is not declared as JSON.
    UnsupportedMediaType,
    /// 404: the id names nothing.
    NotFound,
    /// 405: the path exists, but not with this method.
    MethodNotAllowed,
    /// 409: the write is based on a stale version.
    Conflict,
    /// 413: the body is larger than the endpoint accepts.
    PayloadTooLarge,
    /// 429: slow down; `Retry-After` says for how long.
    RateLimited,
    /// 503: the server cannot take this now (queue full, shutting down).
    Unavailable,
    /// 500: a fault on our side; details are in the server log, never in the response.
    Internal,
    /// The request never got an answer (client side only).
    Network,
}

impl ErrorCode {
    /// Every code.
    pub const ALL: [ErrorCode; 14] = [
        Self::InvalidInput,
        Self::MalformedJson,
        Self::Unauthorized,
        Self::Unauthenticated,
        Self::Forbidden,
        Self::UnsupportedMediaType,
        Self::NotFound,
        Self::MethodNotAllowed,
        Self::Conflict,
        Self::PayloadTooLarge,
        Self::RateLimited,
        Self::Unavailable,
        Self::Internal,
        Self::Network,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidInput => "invalid_input",
            Self::MalformedJson => "malformed_json",
            Self::Unauthorized => "unauthorized",
            Self::Unauthenticated => "unauthenticated",
            Self::Forbidden => "forbidden",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::NotFound => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::Conflict => "conflict",
            Self::PayloadTooLarge => "payload_too_large",
            Self::RateLimited => "rate_limited",
            Self::Unavailable => "unavailable",
            Self::Internal => "internal",
            Self::Network => "network",
        }
    }

    /// From the wire name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// The HTTP status this code is sent with.
    pub fn status(self) -> StatusCode {
        match self {
            Self::InvalidInput | Self::MalformedJson => StatusCode::BAD_REQUEST,
            Self::Unauthorized | Self::Unauthenticated => StatusCode::UNAUTHORIZED,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict => StatusCode::CONFLICT,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable | Self::Network => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The code for a status that did not come with our error body.
    pub fn from_status(status: u16) -> Self {
        match status {
            400 | 422 => Self::InvalidInput,
            401 => Self::Unauthenticated,
            403 => Self::Forbidden,
            415 => Self::UnsupportedMediaType,
            404 => Self::NotFound,
            405 => Self::MethodNotAllowed,
            409 => Self::Conflict,
            413 => Self::PayloadTooLarge,
            429 => Self::RateLimited,
            503 => Self::Unavailable,
            _ => Self::Internal,
        }
    }
}

// Written by hand rather than derived: serde's derived enum code costs the client bytes.
wire_name!(ErrorCode, "error code", ErrorCode::ALL, |s| {
    ErrorCode::parse(&s)
});

/// The body of every error response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    /// Machine-readable kind of error.
    pub code: ErrorCode,
    /// A sentence for a human: what is wrong and, where possible, what to do.
    pub message: String,
    /// The request field at fault, for `invalid_input`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// An API error: `{"error":{"code","message","field"?}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[error("{}", error.message)]
pub struct ApiError {
    /// The payload.
    pub error: ErrorBody,
}

impl ApiError {
    /// An error with a code and message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            error: ErrorBody {
                code,
                message: message.into(),
                field: None,
            },
        }
    }

    /// 500 with a generic message; the cause belongs in the server log.
    pub fn internal() -> Self {
        Self::new(
            ErrorCode::Internal,
            "internal error; the server log has the details",
        )
    }

    /// The machine-readable code.
    pub fn code(&self) -> ErrorCode {
        self.error.code
    }

    /// 400 naming the field at fault.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        let mut err = Self::new(ErrorCode::InvalidInput, message);
        err.error.field = Some(field.into());
        err
    }

    /// 404 for a kind of thing and its id.
    pub fn not_found(what: &str, id: &str) -> Self {
        Self::new(ErrorCode::NotFound, format!("no {what} with id {id:?}"))
    }

    /// 409 with a message saying what to do.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Conflict, message)
    }

    /// This error, naming the field at fault.
    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.error.field = Some(field.into());
        self
    }

    /// 401: the endpoint needs a signed-in writer.
    pub fn unauthenticated() -> Self {
        Self::new(
            ErrorCode::Unauthenticated,
            "sign in first: this needs a writer's account (POST /api/account/signin)",
        )
    }

    /// 403 saying what the caller's role does not allow.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Forbidden, message)
    }

    /// The field at fault, if any.
    pub fn field(&self) -> Option<&str> {
        self.error.field.as_deref()
    }

    /// The message for a human.
    pub fn message(&self) -> &str {
        &self.error.message
    }

    /// Reads our error body out of any text that may hold one.
    pub fn parse_body(text: &str) -> Option<Self> {
        serde_json::from_str(text).ok()
    }
}

impl AsStatusCode for ApiError {
    fn as_status_code(&self) -> StatusCode {
        self.error.code.status()
    }
}

impl From<ServerFnError> for ApiError {
    fn from(err: ServerFnError) -> Self {
        match err {
            ServerFnError::ServerError {
                message,
                code,
                details,
            } => {
                // Our layer sends the bare body; Dioxus's client then reports it as the
                // message text "HTTP <status>: <body>". Without the layer it sits in `details`.
                if let Some(parsed) = details
                    .and_then(|d| serde_json::from_value::<ApiError>(d).ok())
                    .or_else(|| {
                        let body = message.split_once(": ").map(|(_, b)| b)?;
                        Self::parse_body(body)
                    })
                {
                    return parsed;
                }
                Self::new(ErrorCode::from_status(code), message)
            }
            ServerFnError::Request(req) => match req.status_code() {
                Some(status) => Self::new(ErrorCode::from_status(status), req.to_string()),
                None => Self::new(
                    ErrorCode::Network,
                    format!("the server could not be reached: {req}"),
                ),
            },
            other => Self::new(ErrorCode::Internal, other.to_string()),
        }
    }
}

/// An error as an HTTP response: its status and the `{"error": ...}` body, for handlers
/// and extractors outside server functions.
#[cfg(feature = "server")]
impl axum::response::IntoResponse for ApiError {
    fn into_response(self) -> axum::response::Response {
        let body = match serde_json::to_string(&self) {
            Ok(body) => body,
            Err(_) => r#"{"error":{"code":"internal","message":"internal error"}}"#.to_owned(),
        };
        (
            self.code().status(),
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_keeps_its_snake_case_wire_name_and_reads_back() {
        for code in ErrorCode::ALL {
            let snake = format!("{code:?}")
                .chars()
                .enumerate()
                .flat_map(|(i, c)| {
                    let lower = c.to_ascii_lowercase();
                    (c.is_ascii_uppercase() && i > 0)
                        .then_some('_')
                        .into_iter()
                        .chain([lower])
                })
                .collect::<String>();
            assert_eq!(code.as_str(), snake);
            let json = serde_json::to_value(code).expect("serialises");
            assert_eq!(json, snake.as_str());
            assert_eq!(serde_json::from_value::<ErrorCode>(json).ok(), Some(code));
        }
        assert!(serde_json::from_str::<ErrorCode>("\"teapot\"").is_err());
    }

    #[test]
    fn serialises_to_the_documented_shape() {
        let mut err = ApiError::new(ErrorCode::InvalidInput, "title must not be empty");
        err.error.field = Some("title".into());
        let json = serde_json::to_value(&err).expect("serialisable");
        assert_eq!(
            json,
            serde_json::json!({"error":{"code":"invalid_input","message":"title must not be empty","field":"title"}})
        );
        assert_eq!(err.as_status_code(), StatusCode::BAD_REQUEST);
    }

    #[test]
    fn client_reads_the_body_back_from_dioxus_message_text() {
        let body = r#"{"error":{"code":"not_found","message":"no story with id \"x\""}}"#;
        let err = ApiError::from(ServerFnError::ServerError {
            message: format!("HTTP 404: {body}"),
            code: 404,
            details: None,
        });
        assert_eq!(err.code(), ErrorCode::NotFound);
        assert_eq!(err.error.message, "no story with id \"x\"");
    }

    #[test]
    fn unknown_error_text_keeps_the_status() {
        let err = ApiError::from(ServerFnError::ServerError {
            message: "HTTP 413: too big".into(),
            code: 413,
            details: None,
        });
        assert_eq!(err.code(), ErrorCode::PayloadTooLarge);
    }
}
