//! The middleware stack on a plain router: compression rules, security headers, request ids,
//! panics, rate limits, the response cache and metrics.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use axum::{
    Router,
    body::{Body, to_bytes},
    extract::ConnectInfo,
    http::{Request, StatusCode, header},
    response::IntoResponse,
    routing::{get, post},
};
use tower::ServiceExt;

use super::{
    HttpStack,
    rate_limit::{Limit, RateLimits},
    response_cache::{CacheDecision, ResponseCache},
};
use crate::{
    cache::{CachePolicy, Capacity, TieredCache},
    metrics::RequestMetrics,
};

/// The one cache policy of these tests (also `deadline_tests`').
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub(super) enum Kind {
    Api,
}

impl CachePolicy for Kind {
    const ALL: &'static [Self] = &[Kind::Api];
    fn ttl(&self) -> Duration {
        Duration::from_secs(300)
    }
    fn name(&self) -> &'static str {
        "api"
    }
}

fn body(n: usize) -> String {
    format!("{{\"text\":\"{}\"}}", "word ".repeat(n / 5))
}

fn app(
    limits: Option<RateLimits>,
    cache: bool,
) -> (Router, Arc<RequestMetrics>, Arc<ResponseCache<Kind>>) {
    let counter = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let c = counter.clone();
    let router = Router::new()
        .route(
            "/small",
            get(|| async { ([(header::CONTENT_TYPE, "application/json")], body(100)) }),
        )
        .route(
            "/page",
            get(|| async { axum::response::Html("<!doctype html><p>hi</p>") }),
        )
        .route(
            "/big",
            get(|| async { ([(header::CONTENT_TYPE, "application/json")], body(5000)) }),
        )
        .route(
            "/image",
            get(|| async { ([(header::CONTENT_TYPE, "image/png")], vec![7u8; 5000]) }),
        )
        .route(
            "/sse",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "text/event-stream")],
                    "data: x\n\n".repeat(1000),
                )
            }),
        )
        .route(
            "/panic",
            get(|| async {
                if true {
                    panic!("secret detail")
                }
                "unreachable"
            }),
        )
        .route(
            "/counted",
            get(move || {
                let c = c.clone();
                async move {
                    let n = c.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    (
                        [(header::CONTENT_TYPE, "application/json")],
                        format!("{{\"n\":{n}}}"),
                    )
                }
            }),
        )
        .route("/write", post(|| async { "ok".into_response() }));
    let metrics = Arc::new(RequestMetrics::new(Duration::from_secs(1), 10));
    let rc = Arc::new(ResponseCache::new(
        TieredCache::builder()
            .l1_capacity(Capacity::Entries(10))
            .build(),
        1 << 20,
        |req: &axum::extract::Request| {
            if req.uri().path() == "/counted" {
                CacheDecision::Store {
                    key: ResponseCache::<Kind>::key(req.method(), req.uri()),
                    policy: Kind::Api,
                    tags: vec!["counted".into()],
                    on_success: None,
                }
            } else {
                CacheDecision::Pass
            }
        },
    ));
    let stack = HttpStack {
        metrics: metrics.clone(),
        rate_limits: limits.map(Arc::new),
        response_cache: cache.then(|| rc.clone()),
        body_limit: 1024,
        timeout: Duration::from_secs(5),
        page_policy: crate::http::security::page_policy(&[]),
    };
    (stack.apply(router), metrics, rc)
}

fn get_req(path: &str, accept: &str) -> Request<Body> {
    let mut req = Request::get(path)
        .header(header::ACCEPT_ENCODING, accept)
        .body(Body::empty())
        .expect("request");
    req.extensions_mut().insert(ConnectInfo::<SocketAddr>(
        "10.0.0.1:5000".parse().expect("addr"),
    ));
    req
}

async fn encoding(router: &Router, path: &str, accept: &str) -> Option<String> {
    let res = router
        .clone()
        .oneshot(get_req(path, accept))
        .await
        .expect("response");
    res.headers()
        .get(header::CONTENT_ENCODING)
        .map(|v| v.to_str().expect("ascii").to_owned())
}

#[tokio::test]
async fn compression_follows_q_values_and_skips_small_images_and_streams() {
    let (router, _, _) = app(None, false);
    assert_eq!(
        encoding(&router, "/big", "gzip;q=0.5, br;q=1.0")
            .await
            .as_deref(),
        Some("br")
    );
    assert_eq!(
        encoding(&router, "/big", "br;q=0.1, gzip;q=0.9")
            .await
            .as_deref(),
        Some("gzip")
    );
    assert_eq!(
        encoding(&router, "/big", "zstd").await.as_deref(),
        Some("zstd")
    );
    assert_eq!(
        encoding(&router, "/big", "br;q=0, gzip").await.as_deref(),
        Some("gzip")
    );
    assert_eq!(encoding(&router, "/big", "identity").await, None);
    assert_eq!(encoding(&router, "/small", "br").await, None, "under 1 KiB");
    assert_eq!(encoding(&router, "/image", "br").await, None, "images");
    assert_eq!(
        encoding(&router, "/sse", "br").await,
        None,
        "server-sent events"
    );
}

#[tokio::test]
async fn every_response_has_security_headers_and_a_request_id() {
    let (router, _, _) = app(None, false);
    let res = router
        .clone()
        .oneshot(get_req("/small", ""))
        .await
        .expect("response");
    let h = res.headers();
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["x-frame-options"], "SAMEORIGIN");
    assert!(h.contains_key("referrer-policy"));
    // JSON gets a policy under which nothing runs; pages the one the WASM app needs.
    assert_eq!(
        h["content-security-policy"],
        "default-src 'none'; frame-ancestors 'self'"
    );
    let page = router
        .clone()
        .oneshot(get_req("/page", ""))
        .await
        .expect("response");
    assert!(
        page.headers()["content-security-policy"]
            .to_str()
            .expect("ascii")
            .contains("'wasm-unsafe-eval'")
    );
    // Inline scripts only by the hashes the application names; never eval.
    let policy = crate::http::security::page_policy(&["'sha256-abc='".into()]);
    let script_src = policy
        .to_str()
        .expect("ascii")
        .split(';')
        .find(|d| d.trim_start().starts_with("script-src"))
        .expect("script-src")
        .to_owned();
    assert!(script_src.contains("'sha256-abc='"), "{script_src}");
    assert!(!script_src.contains("unsafe-inline") && !script_src.contains("'unsafe-eval'"));
    let id = h["x-request-id"].to_str().expect("ascii").to_owned();
    assert_eq!(id.len(), 27);
    let next = router
        .clone()
        .oneshot(get_req("/small", ""))
        .await
        .expect("response");
    assert_ne!(
        next.headers()["x-request-id"],
        id.as_str(),
        "ids are unique"
    );
}

#[tokio::test]
async fn a_panic_is_a_500_without_internals() {
    let (router, metrics, _) = app(None, false);
    let res = router
        .clone()
        .oneshot(get_req("/panic", ""))
        .await
        .expect("response");
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let text = String::from_utf8(
        to_bytes(res.into_body(), 1 << 20)
            .await
            .expect("body")
            .to_vec(),
    )
    .expect("utf8");
    assert!(text.contains("\"code\":\"internal\""), "{text}");
    assert!(!text.contains("secret"), "{text}");
    assert_eq!(metrics.snapshot().total.status[4], 1);
}

#[tokio::test]
async fn an_oversized_body_is_413() {
    let (router, _, _) = app(None, false);
    let mut req = Request::post("/write")
        .header(header::CONTENT_LENGTH, "4096")
        .body(Body::from(vec![b'x'; 4096]))
        .expect("request");
    req.extensions_mut().insert(ConnectInfo::<SocketAddr>(
        "10.0.0.1:5000".parse().expect("addr"),
    ));
    let res = router.clone().oneshot(req).await.expect("response");
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn writes_beyond_the_burst_get_429_with_retry_after() {
    let limits = RateLimits::new(
        Limit {
            per_minute: 0,
            burst: 0,
        },
        Limit {
            per_minute: 60,
            burst: 3,
        },
        None,
        vec!["/small".into()],
    );
    let (router, _, _) = app(Some(limits), false);
    let post = || {
        let mut req = Request::post("/write")
            .body(Body::empty())
            .expect("request");
        req.extensions_mut().insert(ConnectInfo::<SocketAddr>(
            "10.0.0.2:1".parse().expect("addr"),
        ));
        req
    };
    for remaining in [2, 1, 0] {
        let res = router.clone().oneshot(post()).await.expect("response");
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers()["ratelimit-limit"], "3");
        assert_eq!(
            res.headers()["ratelimit-remaining"],
            remaining.to_string().as_str()
        );
    }
    let res = router.clone().oneshot(post()).await.expect("response");
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = res.headers()["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("whole seconds");
    assert!((1..=2).contains(&retry), "{retry}");
    let text = String::from_utf8(
        to_bytes(res.into_body(), 1 << 20)
            .await
            .expect("body")
            .to_vec(),
    )
    .expect("utf8");
    assert!(text.contains("rate_limited"), "{text}");
    // Reads have no limit here, and another client has its own budget.
    assert_eq!(
        router
            .clone()
            .oneshot(get_req("/big", ""))
            .await
            .expect("r")
            .status(),
        StatusCode::OK
    );
    let mut other = Request::post("/write")
        .body(Body::empty())
        .expect("request");
    other.extensions_mut().insert(ConnectInfo::<SocketAddr>(
        "10.0.0.3:1".parse().expect("addr"),
    ));
    assert_eq!(
        router.clone().oneshot(other).await.expect("r").status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn the_response_cache_answers_with_etags_and_304_and_forgets_on_invalidation() {
    let (router, _, rc) = app(None, true);
    let first = router
        .clone()
        .oneshot(get_req("/counted", ""))
        .await
        .expect("r");
    assert_eq!(first.headers()["x-cache"], "MISS");
    let etag = first.headers()[header::ETAG].clone();
    assert_eq!(first.headers()[header::CACHE_CONTROL], "no-cache");
    let second = router
        .clone()
        .oneshot(get_req("/counted", ""))
        .await
        .expect("r");
    assert_eq!(second.headers()["x-cache"], "HIT");
    assert_eq!(
        to_bytes(second.into_body(), 1024).await.expect("b"),
        "{\"n\":0}"
    );

    let mut conditional = get_req("/counted", "");
    conditional
        .headers_mut()
        .insert(header::IF_NONE_MATCH, etag.clone());
    let res = router.clone().oneshot(conditional).await.expect("r");
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
    assert!(to_bytes(res.into_body(), 1024).await.expect("b").is_empty());

    rc.cache().invalidate_tag("counted");
    let mut conditional = get_req("/counted", "");
    conditional
        .headers_mut()
        .insert(header::IF_NONE_MATCH, etag.clone());
    let res = router.clone().oneshot(conditional).await.expect("r");
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "the content changed, so the old ETag no longer matches"
    );
    assert_ne!(res.headers()[header::ETAG], etag);
    assert_eq!(
        to_bytes(res.into_body(), 1024).await.expect("b"),
        "{\"n\":1}"
    );
}

#[tokio::test]
async fn metrics_count_routes_statuses_and_bytes() {
    let (router, metrics, _) = app(None, false);
    for _ in 0..3 {
        let res = router
            .clone()
            .oneshot(get_req("/small", ""))
            .await
            .expect("r");
        let _ = to_bytes(res.into_body(), 1 << 20).await;
    }
    let res = router
        .clone()
        .oneshot(get_req("/nowhere", ""))
        .await
        .expect("r");
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let s = metrics.snapshot();
    let small = s
        .routes
        .iter()
        .find(|r| r.route == "GET /small")
        .expect("route");
    assert_eq!(small.status[1], 3);
    assert_eq!(small.bytes_out, 3 * body(100).len() as u64);
    let missing = s
        .routes
        .iter()
        .find(|r| r.route == "GET (page)")
        .expect("fallback route");
    assert_eq!(missing.status[3], 1);
    assert_eq!(s.total.requests, 4);
}

/// A router whose `/page` streams an HTML page in two chunks, the second only after `gate`
/// opens (when one is given), and numbers its renders.
fn streaming_app(
    gate: Option<Arc<tokio::sync::Notify>>,
) -> (
    Router,
    Arc<ResponseCache<Kind>>,
    Arc<std::sync::atomic::AtomicU64>,
) {
    let renders = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counter = renders.clone();
    let router = Router::new().route(
        "/page",
        get(move || {
            let n = counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let gate = gate.clone();
            async move {
                let head = format!(
                    "<!doctype html><h1>render {n}</h1>{}",
                    "<p>text</p>".repeat(300)
                );
                let stream = futures_util::stream::once(
                    async move { Ok::<_, std::io::Error>(head) },
                )
                .chain(futures_util::stream::once(async move {
                    if let Some(gate) = gate {
                        gate.notified().await;
                    }
                    Ok("</html>".to_owned())
                }));
                (
                    [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                    Body::from_stream(stream),
                )
            }
        }),
    );
    let rc = Arc::new(ResponseCache::new(
        TieredCache::builder()
            .l1_capacity(Capacity::Entries(10))
            .build(),
        1 << 20,
        |_: &axum::extract::Request| CacheDecision::Store {
            key: "page".into(),
            policy: Kind::Api,
            tags: vec!["page".into()],
            on_success: None,
        },
    ));
    let stack = HttpStack {
        metrics: Arc::new(RequestMetrics::new(Duration::from_secs(1), 10)),
        rate_limits: None,
        response_cache: Some(rc.clone()),
        body_limit: 1024,
        timeout: Duration::from_secs(5),
        page_policy: crate::http::security::page_policy(&[]),
    };
    (stack.apply(router), rc, renders)
}

use futures_util::StreamExt;

#[tokio::test]
async fn a_streamed_page_streams_on_a_miss_and_is_served_from_memory_after() {
    let (router, _, renders) = streaming_app(None);
    let miss = router
        .clone()
        .oneshot(get_req("/page", "br"))
        .await
        .expect("response");
    assert_eq!(miss.headers()["x-cache"], "MISS");
    assert_eq!(miss.headers()[header::CONTENT_ENCODING], "br");
    assert!(
        miss.headers().get(header::ETAG).is_none(),
        "not known before the end"
    );
    let miss_body = to_bytes(miss.into_body(), 1 << 20).await.expect("body");
    for accept in ["br", "gzip", "identity"] {
        let hit = router
            .clone()
            .oneshot(get_req("/page", accept))
            .await
            .expect("response");
        assert_eq!(hit.headers()["x-cache"], "HIT", "{accept}");
        assert!(hit.headers().contains_key(header::ETAG));
        if accept == "identity" {
            let text = to_bytes(hit.into_body(), 1 << 20).await.expect("body");
            assert!(text.starts_with(b"<!doctype html><h1>render 0</h1>"));
            assert!(text.ends_with(b"</html>"));
        }
    }
    assert_eq!(renders.load(std::sync::atomic::Ordering::SeqCst), 1);
    assert!(!miss_body.is_empty());
}

#[tokio::test]
async fn a_page_invalidated_while_it_streams_is_not_kept() {
    let gate = Arc::new(tokio::sync::Notify::new());
    let (router, rc, renders) = streaming_app(Some(gate.clone()));
    let miss = router
        .clone()
        .oneshot(get_req("/page", "identity"))
        .await
        .expect("response");
    let mut body = miss.into_body();
    let first = http_body_util::BodyExt::frame(&mut body)
        .await
        .expect("first chunk")
        .expect("data");
    assert!(first.is_data(), "the head arrives before the page is done");
    // A write lands while the rest of the page is still being produced.
    rc.cache().invalidate_tag("page");
    gate.notify_one();
    to_bytes(body, 1 << 20).await.expect("rest");
    let next = router
        .clone()
        .oneshot(get_req("/page", "identity"))
        .await
        .expect("response");
    assert_eq!(
        next.headers()["x-cache"],
        "MISS",
        "the older render was not kept"
    );
    assert_eq!(renders.load(std::sync::atomic::Ordering::SeqCst), 2);
}
