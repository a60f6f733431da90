//! The layer that feeds [`RequestMetrics`]: route template, status, latency to the response
//! head, request and response body bytes. Each request runs in a tracing span carrying its
//! request id, so every log line it causes can be traced back.

use std::{
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
    time::Instant,
};

use axum::{
    body::Body,
    extract::{MatchedPath, Request, State},
    http::header::CONTENT_LENGTH,
    middleware::Next,
    response::Response,
};
use bytes::Bytes;
use http_body::{Frame, SizeHint};
use tracing::Instrument;

use crate::metrics::RequestMetrics;

/// The route template of a request: `GET /api/stories/{id}`, or `GET (page)` for anything
/// the router answered with its fallback (server-rendered pages, 404s).
pub fn route_of(req: &Request) -> String {
    match req.extensions().get::<MatchedPath>() {
        Some(p) => format!("{} {}", req.method(), p.as_str()),
        None => format!("{} (page)", req.method()),
    }
}

/// axum middleware (use with `from_fn_with_state`).
pub async fn layer(
    State(metrics): State<Arc<RequestMetrics>>,
    req: Request,
    next: Next,
) -> Response {
    let route = route_of(&req);
    let bytes_in = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
        .to_owned();
    metrics.begin(&route, bytes_in);
    let start = Instant::now();
    let span = tracing::info_span!("request", id = %id, route = %route);
    let res = next.run(req).instrument(span).await;
    let status = res.status().as_u16();
    metrics.finish(&route, status, start.elapsed());
    if status >= 500 {
        tracing::error!(request_id = %id, route = %route, status, "request failed");
    }
    let (parts, body) = res.into_parts();
    Response::from_parts(
        parts,
        Body::new(Counted {
            inner: body,
            bytes: 0,
            metrics,
            route,
        }),
    )
}

/// A response body that reports its size to the metrics when it is done (or dropped).
struct Counted {
    inner: Body,
    bytes: u64,
    metrics: Arc<RequestMetrics>,
    route: String,
}

impl http_body::Body for Counted {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let poll = Pin::new(&mut self.inner).poll_frame(cx);
        if let Poll::Ready(Some(Ok(frame))) = &poll
            && let Some(data) = frame.data_ref()
        {
            self.bytes += data.len() as u64;
        }
        poll
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.metrics.add_bytes_out(&self.route, self.bytes);
    }
}
