//! Response cache for GET API responses, with strong ETags and conditional requests.
//!
//! Which responses are cacheable, under which policy and tags, is the application's
//! decision (a function of method and URI). Cached bodies live in the tiered cache, so tag
//! invalidation on writes covers them exactly like data. Every cacheable JSON response gets
//! a strong ETag; `If-None-Match` with it answers 304 without a body. Cache-Control says
//! `no-cache` for cacheable API data (always revalidate: it changes on writes) and
//! `no-store` for what must never be kept (admin).

use std::sync::Arc;

use axum::{
    body::Body,
    extract::{Request, State},
    http::{HeaderValue, Method, StatusCode, Uri, header},
    middleware::Next,
    response::Response,
};
use bytes::Bytes;
use http_body::Body as _;

use crate::cache::{CachePolicy, TieredCache};

/// What to do with a request's response.
pub enum CacheDecision<P> {
    /// Cache a 200 JSON answer under this policy and these tags; ETag and revalidation.
    Store {
        /// Time to live and statistics bucket.
        policy: P,
        /// What invalidates it.
        tags: Vec<String>,
    },
    /// Never cache, and tell clients and proxies not to either.
    NoStore,
    /// Leave it alone (pages, assets, writes).
    Pass,
}

/// A cached response body with what is needed to answer again.
#[derive(Clone)]
pub struct CachedResponse {
    body: Bytes,
    content_type: HeaderValue,
    etag: HeaderValue,
}

type Decide<P> = Arc<dyn Fn(&Method, &Uri) -> CacheDecision<P> + Send + Sync>;

/// The response cache's state.
pub struct ResponseCache<P: CachePolicy> {
    cache: TieredCache<String, CachedResponse, P>,
    decide: Decide<P>,
    max_body: u64,
}

impl<P: CachePolicy> ResponseCache<P> {
    /// Caches what `decide` allows, bodies up to `max_body` bytes.
    pub fn new(
        cache: TieredCache<String, CachedResponse, P>,
        max_body: u64,
        decide: impl Fn(&Method, &Uri) -> CacheDecision<P> + Send + Sync + 'static,
    ) -> Self {
        Self {
            cache,
            decide: Arc::new(decide),
            max_body,
        }
    }

    /// The underlying cache (for invalidation and statistics).
    pub fn cache(&self) -> &TieredCache<String, CachedResponse, P> {
        &self.cache
    }
}

/// A strong ETag: a 64-bit hash of the exact bytes.
pub fn etag_of(body: &[u8]) -> HeaderValue {
    let h = xxhash_rust::xxh3::xxh3_64(body);
    HeaderValue::from_str(&format!("\"{h:016x}\"")).expect("hex is a valid header value")
}

fn matches(if_none_match: Option<&HeaderValue>, etag: &HeaderValue) -> bool {
    let Some(inm) = if_none_match.and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let etag = etag.to_str().unwrap_or("");
    inm.trim() == "*"
        || inm
            .split(',')
            .any(|t| t.trim().trim_start_matches("W/") == etag)
}

fn answer(
    cached: &CachedResponse,
    if_none_match: Option<&HeaderValue>,
    outcome: &'static str,
) -> Response {
    let not_modified = matches(if_none_match, &cached.etag);
    let mut res = if not_modified {
        Response::new(Body::empty())
    } else {
        Response::new(Body::from(cached.body.clone()))
    };
    if not_modified {
        *res.status_mut() = StatusCode::NOT_MODIFIED;
    }
    let h = res.headers_mut();
    if !not_modified {
        h.insert(header::CONTENT_TYPE, cached.content_type.clone());
    }
    h.insert(header::ETAG, cached.etag.clone());
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert("x-cache", HeaderValue::from_static(outcome));
    res
}

/// axum middleware (use with `from_fn_with_state`).
pub async fn layer<P: CachePolicy>(
    State(rc): State<Arc<ResponseCache<P>>>,
    req: Request,
    next: Next,
) -> Response {
    let decision = (rc.decide)(req.method(), req.uri());
    let (policy, tags) = match decision {
        CacheDecision::Pass => return next.run(req).await,
        CacheDecision::NoStore => {
            let mut res = next.run(req).await;
            res.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            return res;
        }
        CacheDecision::Store { policy, tags } => (policy, tags),
    };
    let key = format!("{} {}", req.method(), req.uri());
    let if_none_match = req.headers().get(header::IF_NONE_MATCH).cloned();
    if let Some(hit) = rc.cache.get(&key) {
        return answer(&hit, if_none_match.as_ref(), "HIT");
    }
    let epoch = rc.cache.epoch();
    let res = next.run(req).await;
    let json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    let small = res
        .body()
        .size_hint()
        .exact()
        .is_some_and(|n| n <= rc.max_body);
    if res.status() != StatusCode::OK
        || !json
        || !small
        || res.headers().contains_key(header::CONTENT_ENCODING)
    {
        return res;
    }
    let (parts, body) = res.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, rc.max_body as usize).await else {
        return Response::from_parts(parts, Body::empty());
    };
    let cached = CachedResponse {
        etag: etag_of(&bytes),
        content_type: parts
            .headers
            .get(header::CONTENT_TYPE)
            .cloned()
            .unwrap_or(HeaderValue::from_static("application/json")),
        body: bytes,
    };
    rc.cache
        .insert_since(key, cached.clone(), policy, &tags, epoch);
    let mut res = answer(&cached, if_none_match.as_ref(), "MISS");
    for (name, value) in parts.headers.iter() {
        if !res.headers().contains_key(name) && name != header::CONTENT_LENGTH {
            res.headers_mut().insert(name.clone(), value.clone());
        }
    }
    res
}
