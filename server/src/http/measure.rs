//! What request metrics need from a request and a response: the route template, and a
//! body wrapper that counts the bytes of responses whose size is not known up front
//! (streamed pages).

use std::{
    pin::Pin,
    task::{Context, Poll},
};

use crate::metrics::RouteHandle;
use axum::{
    body::Body,
    extract::{MatchedPath, Request},
    http::Method,
};
use bytes::Bytes;
use http_body::{Frame, SizeHint};

/// The metrics key of a request: a method from a fixed list (`OTHER` for any other, since
/// a client may send any token as a method) and the route template, e.g.
/// `GET /api/stories/{id}`, or `(page)` for anything the router answered with its fallback
/// (server-rendered pages, 404s). Nothing of the raw path or method reaches the key.
pub fn route_of(req: &Request) -> String {
    let method = match *req.method() {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    };
    let template = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("(page)", MatchedPath::as_str);
    let mut route = String::with_capacity(method.len() + 1 + template.len());
    route.push_str(method);
    route.push(' ');
    route.push_str(template);
    route
}

/// A response body that reports its size to the metrics when it is done (or dropped).
pub struct Counted {
    inner: Body,
    bytes: u64,
    route: RouteHandle,
}

impl Counted {
    /// Counts `inner`'s bytes for `route`.
    pub fn wrap(inner: Body, route: RouteHandle) -> Body {
        Body::new(Self {
            inner,
            bytes: 0,
            route,
        })
    }
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
        self.route.add_bytes_out(self.bytes);
    }
}
