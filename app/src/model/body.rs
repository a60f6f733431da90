//! `JsonBody<T>`: the request body of a server function, as one flat JSON object.
//!
//! Dioxus decodes plain arguments itself and reports malformed or mistyped JSON as a 500
//! without naming the field. This extractor reads the body with a size limit (413 beyond
//! it) and deserializes it while tracking the path, so a client gets a 400 that says which
//! field is wrong and why. On the client it is sent as plain JSON.

use dioxus::fullstack::{ClientRequest, ClientResponse, IntoRequest, RequestError};
use serde::Serialize;

/// Default body limit: 2 MiB (a node's 1 MB of content plus JSON overhead).
pub const DEFAULT_BODY_LIMIT: usize = 2 * 1024 * 1024;

/// Batch body limit: 10,000 nodes with room for real content (32 MiB).
pub const BATCH_BODY_LIMIT: usize = 32 * 1024 * 1024;

/// A JSON request body of at most `MAX` bytes, declared as JSON (`Content-Type:
/// application/json` or a `+json` type; no type at all is read as JSON too). Another
/// declared type is refused with 415: an HTML form or a `text/plain` fetch from another
/// site cannot pass for an API call. `BEACON` also takes `text/plain`, which is what
/// `navigator.sendBeacon` sends (the Web Vitals beacon only).
#[derive(Debug, Clone, PartialEq)]
pub struct JsonBody<T, const MAX: usize = DEFAULT_BODY_LIMIT, const BEACON: bool = false>(pub T);

impl<T: Serialize + 'static, const MAX: usize, const BEACON: bool> IntoRequest
    for JsonBody<T, MAX, BEACON>
{
    async fn into_request(self, request: ClientRequest) -> Result<ClientResponse, RequestError> {
        request.send_json(&self.0).await
    }
}

#[cfg(all(test, feature = "server"))]
pub(crate) use extract::parse as parse_json;

#[cfg(feature = "server")]
mod extract {
    use axum::{
        extract::{FromRequest, Request},
        http::header::CONTENT_LENGTH,
        response::Response,
    };
    use serde::de::DeserializeOwned;

    use super::JsonBody;
    use crate::model::{ApiError, ErrorCode};

    fn respond(error: &ApiError) -> Response {
        axum::response::IntoResponse::into_response(error.clone())
    }

    /// Whether the declared type (if any) is JSON, or text for a beacon.
    fn declared_json(req: &Request, beacon: bool) -> bool {
        let Some(declared) = req.headers().get(axum::http::header::CONTENT_TYPE) else {
            return true;
        };
        let essence = declared
            .to_str()
            .unwrap_or("")
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        essence == "application/json"
            || (essence.starts_with("application/") && essence.ends_with("+json"))
            || (beacon && essence == "text/plain")
    }

    impl<S, T, const MAX: usize, const BEACON: bool> FromRequest<S> for JsonBody<T, MAX, BEACON>
    where
        S: Send + Sync,
        T: DeserializeOwned,
    {
        type Rejection = Response;

        async fn from_request(req: Request, _state: &S) -> Result<Self, Response> {
            if !declared_json(&req, BEACON) {
                return Err(respond(&ApiError::new(
                    ErrorCode::UnsupportedMediaType,
                    "the body must be declared as JSON: send Content-Type: application/json",
                )));
            }
            let too_large = || {
                respond(&ApiError::new(
                    ErrorCode::PayloadTooLarge,
                    format!("the request body is larger than this endpoint accepts ({MAX} bytes)"),
                ))
            };
            let declared = req
                .headers()
                .get(CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok());
            let body = req.into_body();
            if declared.is_some_and(|n| n > MAX as u64) {
                drain(body, declared.unwrap_or(0)).await;
                return Err(too_large());
            }
            let bytes = axum::body::to_bytes(body, MAX)
                .await
                .map_err(|_| too_large())?;
            parse(&bytes).map(JsonBody).map_err(|e| respond(&e))
        }
    }

    /// Reads and discards a body that is too large but not absurdly so, so the client, still
    /// sending, gets to read the 413 instead of a broken connection.
    async fn drain(body: axum::body::Body, declared: u64) {
        const DRAIN_AT_MOST: u64 = 64 * 1024 * 1024;
        if declared > DRAIN_AT_MOST {
            return;
        }
        use futures_util::StreamExt;
        let mut stream = body.into_data_stream();
        while let Some(Ok(_)) = stream.next().await {}
    }

    /// Deserializes `bytes` (empty means `{}`), naming the field of any type error.
    pub(crate) fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
        let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
            b"{}"
        } else {
            bytes
        };
        let mut de = serde_json::Deserializer::from_slice(bytes);
        let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            let at_field = !matches!(path.as_str(), "." | "" | "?");
            if inner.is_syntax() && at_field {
                // serde_json reports a value of the wrong kind for an enum field (`true`
                // where a name is expected) as a syntax error; the path names the field.
                let text = inner.to_string();
                let what = text
                    .rsplit_once(" at line ")
                    .map_or(text.as_str(), |(m, _)| m);
                return ApiError::invalid(
                    path.clone(),
                    format!("{path} does not hold a value of the right kind ({what})"),
                );
            }
            if inner.is_syntax() || inner.is_eof() {
                return ApiError::new(
                    ErrorCode::MalformedJson,
                    format!("the request body is not valid JSON: {inner}"),
                );
            }
            let text = inner.to_string();
            let message = text
                .rsplit_once(" at line ")
                .map_or(text.as_str(), |(m, _)| m);
            // serde names missing and unknown fields in the message, not the path.
            let named = message
                .strip_prefix("missing field `")
                .or_else(|| message.strip_prefix("unknown field `"))
                .and_then(|rest| rest.split('`').next());
            // The path already ends with an unknown field; a missing one is only named.
            let field = match (path.as_str(), named) {
                (".", Some(f)) | ("", Some(f)) => f.to_owned(),
                (p, Some(f)) if !p.ends_with(f) => format!("{p}.{f}"),
                (p, _) => p.to_owned(),
            };
            ApiError::invalid(field, message.to_owned())
        })?;
        de.end().map_err(|e| {
            ApiError::new(
                ErrorCode::MalformedJson,
                format!("the request body has data after its JSON value: {e}"),
            )
        })?;
        Ok(value)
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use crate::model::{NewStory, NodeBatch};

        #[test]
        fn malformed_json_is_named_as_such() {
            let err = parse::<NewStory>(b"{\"title\": ").expect_err("eof");
            assert_eq!(err.code(), ErrorCode::MalformedJson);
            let err = parse::<NewStory>(b"{\"title\": \"x\"} trailing").expect_err("trailing");
            assert_eq!(err.code(), ErrorCode::MalformedJson);
        }

        #[test]
        fn type_errors_name_the_field() {
            let err = parse::<NewStory>(br#"{"title": 5}"#).expect_err("type");
            assert_eq!(err.code(), ErrorCode::InvalidInput);
            assert_eq!(err.field(), Some("title"));
            assert!(
                err.message().contains("expected a string"),
                "{}",
                err.message()
            );

            let err = parse::<NewStory>(br#"{"summary": "s"}"#).expect_err("missing");
            assert_eq!(err.field(), Some("title"));

            let err = parse::<NewStory>(br#"{"title": "t", "titel": "x"}"#).expect_err("unknown");
            assert_eq!(err.field(), Some("titel"));

            let err =
                parse::<NewStory>(br#"{"title": "t", "status": "done"}"#).expect_err("variant");
            assert_eq!(err.field(), Some("status"));

            let err = parse::<NodeBatch>(
                br#"{"nodes": [{"kind": "scene", "title": "a"}, {"kind": "scene", "title": 3}]}"#,
            )
            .expect_err("nested");
            assert_eq!(err.field(), Some("nodes[1].title"));
        }

        #[test]
        fn a_value_of_the_wrong_kind_for_a_named_value_names_the_field() {
            let err = parse::<NewStory>(br#"{"title": "t", "status": true}"#).expect_err("bool");
            assert_eq!(err.code(), ErrorCode::InvalidInput);
            assert_eq!(err.field(), Some("status"));
            let err = parse::<NewStory>(br#"{"title": "t", "status": "#).expect_err("eof");
            assert_eq!(err.code(), ErrorCode::MalformedJson);
        }

        #[test]
        fn an_empty_body_is_an_empty_object() {
            let err = parse::<NewStory>(b"").expect_err("title missing");
            assert_eq!(err.field(), Some("title"));
        }
    }
}
