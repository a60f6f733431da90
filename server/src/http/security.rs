//! Security headers, request ids and panic handling.
//!
//! The Content-Security-Policy is as strict as the WASM client allows: its own origin only;
//! `wasm-unsafe-eval` to compile the WebAssembly; no `unsafe-eval` and no `unsafe-inline`
//! scripts: an inline script runs only if its SHA-256 is one the application named (the
//! framework's fixed bootstrap script), so a script injected into a page does not run.
//! Inline styles stay allowed (server-rendered pages carry them). Objects, foreign frames
//! and other origins stay forbidden.

use std::{
    any::Any,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering::Relaxed},
    },
};

use axum::{
    body::Body,
    http::{HeaderValue, Request, StatusCode, header},
    response::Response,
};
use tower_http::request_id::{MakeRequestId, RequestId};

/// Request ids unique per process run: a random prefix chosen at start and a counter.
/// (A random UUID per request cost a `getrandom` system call each, measured.)
#[derive(Clone)]
pub struct RequestIds {
    prefix: u64,
    counter: Arc<AtomicU64>,
}

impl Default for RequestIds {
    fn default() -> Self {
        use std::hash::{BuildHasher, RandomState};
        Self {
            prefix: RandomState::new().hash_one(std::time::SystemTime::now()),
            counter: Arc::new(AtomicU64::new(0)),
        }
    }
}

/// `x-request-id`, parsed once.
pub static X_REQUEST_ID: header::HeaderName = header::HeaderName::from_static("x-request-id");

impl RequestIds {
    /// The next id: 16 hex digits of prefix, a dash, 10 of counter.
    pub fn next(&self) -> HeaderValue {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let n = self.counter.fetch_add(1, Relaxed);
        let mut buf = [b'-'; 27];
        for i in 0..16 {
            buf[i] = HEX[((self.prefix >> (60 - 4 * i)) & 0xf) as usize];
        }
        for i in 0..10 {
            buf[17 + i] = HEX[((n >> (36 - 4 * i)) & 0xf) as usize];
        }
        HeaderValue::from_bytes(&buf).expect("hex digits and a dash are a valid header value")
    }
}

impl MakeRequestId for RequestIds {
    fn make_request_id<B>(&mut self, _: &Request<B>) -> Option<RequestId> {
        Some(RequestId::new(self.next()))
    }
}

/// The Content-Security-Policy of HTML pages with no inline script allowed.
pub const CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; \
connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'self'";

/// The page policy with the given inline scripts allowed by hash: each entry is a CSP
/// hash source (`'sha256-…'`, base64 of the script's SHA-256, quotes included).
pub fn page_policy(script_hashes: &[String]) -> HeaderValue {
    if script_hashes.is_empty() {
        return HeaderValue::from_static(CSP);
    }
    let extra = script_hashes.join(" ");
    let policy = CSP.replacen(
        "script-src 'self' 'wasm-unsafe-eval';",
        &format!("script-src 'self' 'wasm-unsafe-eval' {extra};"),
        1,
    );
    HeaderValue::try_from(policy).unwrap_or_else(|_| HeaderValue::from_static(CSP))
}

/// The Content-Security-Policy of everything else (JSON, files, streams): nothing in it may
/// run or load anything. A tenth of the page policy's bytes, on the responses that are
/// most numerous and smallest.
pub const CSP_NON_HTML: &str = "default-src 'none'; frame-ancestors 'self'";

/// The headers every response gets (unless the handler set them itself); `page_policy` is
/// the policy of HTML documents, `None` for every other response.
pub fn headers(page_policy: Option<&HeaderValue>) -> [(header::HeaderName, HeaderValue); 4] {
    // All static: building them is a few pointer copies.
    [
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("SAMEORIGIN"),
        ),
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("strict-origin-when-cross-origin"),
        ),
        (
            header::CONTENT_SECURITY_POLICY,
            page_policy
                .cloned()
                .unwrap_or(HeaderValue::from_static(CSP_NON_HTML)),
        ),
    ]
}

/// Whether a response is an HTML document (or has no type, as some error pages do).
pub fn is_html(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .is_none_or(|v| v.as_bytes().starts_with(b"text/html"))
}

/// A panic in a handler becomes a 500 with the API's error body and no internals; the
/// panic message goes to the log only.
pub fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response {
    let detail = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)");
    tracing::error!(panic = detail, "handler panicked");
    let mut res = Response::new(Body::from(
        r#"{"error":{"code":"internal","message":"internal error; the server log has the details"}}"#,
    ));
    *res.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    res
}
