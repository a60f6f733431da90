//! A request timeout that costs nothing for requests that finish without waiting.
//!
//! tower-http's timeout arms a tokio timer for every request; measured on this server, the
//! timer registration made the runtime threads wake each other (a futex and an eventfd write
//! per request) and cost more than the rest of the stack. Most requests here complete in
//! their first poll, so the timer is armed only when a request first has to wait, with the
//! deadline still counted from the request's start.

use std::{
    future::Future,
    pin::Pin,
    task::{Context, Poll, ready},
    time::Duration,
};

use axum::{
    body::Body,
    http::{HeaderValue, Request, Response, StatusCode, header},
};
use pin_project_lite::pin_project;
use tokio::time::{Instant, Sleep};
use tower::{Layer, Service};

/// Answers 408 when a response head takes longer than the duration.
#[derive(Clone, Copy)]
pub struct LazyTimeoutLayer(pub Duration);

impl<S> Layer<S> for LazyTimeoutLayer {
    type Service = LazyTimeout<S>;
    fn layer(&self, inner: S) -> Self::Service {
        LazyTimeout {
            inner,
            duration: self.0,
        }
    }
}

/// The service of [`LazyTimeoutLayer`].
#[derive(Clone)]
pub struct LazyTimeout<S> {
    inner: S,
    duration: Duration,
}

impl<S, B> Service<Request<B>> for LazyTimeout<S>
where
    S: Service<Request<B>, Response = Response<Body>>,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = TimeoutFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        TimeoutFuture::new(self.inner.call(req), self.duration)
    }
}

pin_project! {
    /// The response future of [`LazyTimeout`].
    pub struct TimeoutFuture<F> {
        #[pin]
        inner: F,
        #[pin]
        sleep: Option<Sleep>,
        deadline: Instant,
        duration: Duration,
    }
}

impl<F> TimeoutFuture<F> {
    /// Wraps `inner`, whose deadline starts now.
    pub fn new(inner: F, duration: Duration) -> Self {
        Self {
            inner,
            sleep: None,
            deadline: Instant::now() + duration,
            duration,
        }
    }
}

impl<F, E> Future for TimeoutFuture<F>
where
    F: Future<Output = Result<Response<Body>, E>>,
{
    type Output = Result<Response<Body>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        if let Poll::Ready(out) = this.inner.poll(cx) {
            return Poll::Ready(out);
        }
        if this.sleep.is_none() {
            this.sleep
                .set(Some(tokio::time::sleep_until(*this.deadline)));
        }
        if let Some(sleep) = this.sleep.as_pin_mut() {
            ready!(sleep.poll(cx));
        }
        let body = format!(
            r#"{{"error":{{"code":"timeout","message":"no answer within {} s; try again"}}}}"#,
            this.duration.as_secs()
        );
        let mut res = Response::new(Body::from(body));
        *res.status_mut() = StatusCode::REQUEST_TIMEOUT;
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        Poll::Ready(Ok(res))
    }
}
