//! Response cache for GET responses (JSON and server-rendered HTML pages), with strong
//! ETags and conditional requests.
//!
//! Which responses are cacheable, under which policy and tags, is the application's
//! decision (a function of method and URI). Cached bodies live in the tiered cache, so tag
//! invalidation on writes covers them exactly like data. Every cached answer has a strong
//! ETag; `If-None-Match` with it answers 304 without a body. Cache-Control says `no-cache`
//! for cached answers (always revalidate: they change on writes) and `no-store` for what
//! must never be kept (admin). A cached body is compressed at most once per encoding, on
//! first demand, and kept next to the plain one; each encoding has its own ETag, as a
//! strong ETag names exact bytes.
//!
//! A body that is already whole (JSON) is kept and answered with its ETag at once. A body
//! that streams (a rendered page) still streams on a miss: it reaches the client as it is
//! produced (compressed by [`super::compression`]) while a copy is collected, and the copy
//! enters the cache when the body has ended, unless a write invalidated one of its tags
//! since the lookup. Responses that set a cookie, or that say `Cache-Control: private` or
//! `no-store`, are never kept.

use std::sync::{Arc, OnceLock};

use axum::{
    body::Body,
    extract::Request,
    http::{HeaderValue, Method, StatusCode, Uri, header},
    response::Response,
};
use bytes::Bytes;
use http_body::Body as _;

use super::{
    compression::MIN_SIZE,
    encoding::{Effort, Encoding, negotiate},
};
use crate::cache::{CachePolicy, TieredCache};

/// Called once when the client got a success (200, or 304 from its own copy) for the
/// request, after the rate limit: the app counts reads with it, so that refused, failed
/// and unknown requests never count.
pub type OnSuccess = Box<dyn FnOnce() + Send>;

/// What to do with a request's response.
pub enum CacheDecision<P> {
    /// Cache a 200 JSON answer under `key` (one canonical spelling of the request, so
    /// every spelling of the same resource shares one entry and one set of tags), this
    /// policy and these tags; ETag and revalidation.
    Store {
        /// The cache key.
        key: String,
        /// Time to live and statistics bucket.
        policy: P,
        /// What invalidates it.
        tags: Vec<String>,
        /// Called if the client got the answer.
        on_success: Option<OnSuccess>,
    },
    /// Answer from the cache if it holds `key`, but never keep the fresh answer: for
    /// personal requests (a signed-in caller), whose answer may hold what only they may
    /// see, while what the cache holds is the same for everyone.
    Serve {
        /// The cache key.
        key: String,
        /// Called if the client got the answer.
        on_success: Option<OnSuccess>,
    },
    /// Never cache, and tell clients and proxies not to either.
    NoStore,
    /// Leave it alone (pages, assets, writes).
    Pass,
    /// Leave it alone, but call this if the answer is a success.
    Notify(OnSuccess),
}

impl<P> CacheDecision<P> {
    /// The decision without its callback, and the callback.
    pub fn split(self) -> (Self, Option<OnSuccess>) {
        match self {
            Self::Store {
                key,
                policy,
                tags,
                on_success,
            } => (
                Self::Store {
                    key,
                    policy,
                    tags,
                    on_success: None,
                },
                on_success,
            ),
            Self::Serve { key, on_success } => (
                Self::Serve {
                    key,
                    on_success: None,
                },
                on_success,
            ),
            Self::Notify(f) => (Self::Pass, Some(f)),
            other => (other, None),
        }
    }

    /// The decision, with `f` called instead of any callback it had if the client gets a
    /// successful answer: stored answers keep being stored, answers left alone become
    /// `Notify`. `NoStore` answers are private or live and call nothing.
    pub fn then_on_success(self, f: OnSuccess) -> Self {
        match self {
            Self::Store {
                key, policy, tags, ..
            } => Self::Store {
                key,
                policy,
                tags,
                on_success: Some(f),
            },
            Self::Serve { key, .. } => Self::Serve {
                key,
                on_success: Some(f),
            },
            Self::Pass | Self::Notify(_) => Self::Notify(f),
            Self::NoStore => Self::NoStore,
        }
    }
}

/// A miss in progress: what storing its answer needs.
pub struct Pending<P> {
    key: String,
    policy: P,
    tags: Vec<String>,
    epoch: u64,
    if_none_match: Option<HeaderValue>,
    encoding: Option<Encoding>,
}

/// A body in one encoding and its ETag.
type Encoded = (Bytes, HeaderValue);

/// A cached response body with what is needed to answer again.
#[derive(Clone)]
pub struct CachedResponse {
    body: Bytes,
    content_type: HeaderValue,
    etag: HeaderValue,
    /// The body compressed per encoding, made on first request (`None`: the encoder failed).
    encoded: Arc<[OnceLock<Option<Encoded>>; 3]>,
}

impl CachedResponse {
    /// Bytes held (the plain body; compressed variants are smaller and made on demand).
    pub fn weight(&self) -> u32 {
        u32::try_from(self.body.len()).unwrap_or(u32::MAX)
    }

    /// The body and ETag for `encoding` (plain below the compression threshold).
    fn variant(&self, encoding: Option<Encoding>) -> (Bytes, HeaderValue, Option<Encoding>) {
        match encoding {
            Some(enc) if self.body.len() >= MIN_SIZE => {
                let packed = self.encoded[enc.index()].get_or_init(|| {
                    let bytes = enc.compress(&self.body, Effort::Cached).ok()?;
                    Some((Bytes::from(bytes), enc.etag(&self.etag)?))
                });
                match packed {
                    Some((bytes, etag)) => (bytes.clone(), etag.clone(), Some(enc)),
                    // The encoder failed: the plain body is always right.
                    None => (self.body.clone(), self.etag.clone(), None),
                }
            }
            _ => (self.body.clone(), self.etag.clone(), None),
        }
    }
}

type Decide<P> = Arc<dyn Fn(&Request) -> CacheDecision<P> + Send + Sync>;

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
        decide: impl Fn(&Request) -> CacheDecision<P> + Send + Sync + 'static,
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

static X_CACHE: header::HeaderName = header::HeaderName::from_static("x-cache");

/// A strong ETag: a 64-bit hash of the exact bytes.
pub fn etag_of(body: &[u8]) -> HeaderValue {
    let h = xxhash_rust::xxh3::xxh3_64(body);
    HeaderValue::from_str(&format!("\"{h:016x}\"")).expect("hex is a valid header value")
}

/// Whether an `If-None-Match` header names `etag` (weak comparison, as RFC 9110 asks for
/// this header, or `*`): the request can be answered with a 304.
pub fn etag_matches(if_none_match: Option<&HeaderValue>, etag: &HeaderValue) -> bool {
    let Some(inm) = if_none_match.and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let etag = etag.to_str().unwrap_or("");
    inm.trim() == "*"
        || inm
            .split(',')
            .any(|t| t.trim().trim_start_matches("W/") == etag)
}

/// Whether the handler said its answer is for this client only (`Cache-Control: private`
/// or `no-store`): never kept.
fn is_private(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get_all(header::CACHE_CONTROL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|d| {
            let d = d.trim();
            d.eq_ignore_ascii_case("private") || d.eq_ignore_ascii_case("no-store")
        })
}

fn answer(
    cached: &CachedResponse,
    if_none_match: Option<&HeaderValue>,
    outcome: &'static str,
    encoding: Option<Encoding>,
) -> Response {
    let (body, etag, encoded) = cached.variant(encoding);
    let not_modified = etag_matches(if_none_match, &etag);
    let mut res = if not_modified {
        Response::new(Body::empty())
    } else {
        Response::new(Body::from(body))
    };
    if not_modified {
        *res.status_mut() = StatusCode::NOT_MODIFIED;
    }
    let h = res.headers_mut();
    if !not_modified {
        h.insert(header::CONTENT_TYPE, cached.content_type.clone());
        if let Some(enc) = encoded {
            h.insert(header::CONTENT_ENCODING, enc.header());
        }
    }
    h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    h.insert(header::ETAG, etag);
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(X_CACHE.clone(), HeaderValue::from_static(outcome));
    res
}

impl<P: CachePolicy> ResponseCache<P> {
    /// What to do with this request's response.
    pub fn decide(&self, req: &Request) -> CacheDecision<P> {
        (self.decide)(req)
    }

    /// The cached answer to `req` under `key`, if there is one (200, or 304 when
    /// `If-None-Match` matches).
    pub fn hit(&self, req: &Request, key: &String) -> Option<Response> {
        self.lookup(
            key,
            req.headers().get(header::IF_NONE_MATCH),
            negotiate(req.headers()),
        )
    }

    /// The plain cache key of a request: its method and URI as sent. Deciders use it for
    /// resources that have only one spelling.
    pub fn key(method: &Method, uri: &Uri) -> String {
        format!("{method} {uri}")
    }

    /// A cached answer (200, or 304 when `If-None-Match` matches), in `encoding`.
    pub fn lookup(
        &self,
        key: &String,
        if_none_match: Option<&HeaderValue>,
        encoding: Option<Encoding>,
    ) -> Option<Response> {
        self.cache
            .get(key)
            .map(|hit| answer(&hit, if_none_match, "HIT", encoding))
    }

    /// Looks `req` up under `key`: the cached answer, or what is needed to store the fresh one.
    pub fn begin(
        &self,
        req: &Request,
        key: String,
        policy: P,
        tags: Vec<String>,
    ) -> Result<Response, Pending<P>> {
        let if_none_match = req.headers().get(header::IF_NONE_MATCH).cloned();
        let encoding = negotiate(req.headers());
        if let Some(hit) = self.lookup(&key, if_none_match.as_ref(), encoding) {
            return Ok(hit);
        }
        Err(Pending {
            key,
            policy,
            tags,
            epoch: self.cache.epoch(),
            if_none_match,
            encoding,
        })
    }

    /// Keeps a fresh 200 JSON or HTML answer (unless a tag was invalidated since the
    /// lookup): a whole body is answered at once with its ETag in the client's encoding, a
    /// streamed one passes through and is kept when it ends. Anything else passes untouched.
    pub async fn store(&self, pending: Pending<P>, res: Response) -> Response {
        let content_type = res.headers().get(header::CONTENT_TYPE);
        let keepable_type = content_type.is_some_and(|v| {
            let v = v.as_bytes();
            v.starts_with(b"application/json") || v.starts_with(b"text/html")
        });
        let hint = res.body().size_hint();
        if res.status() != StatusCode::OK
            || !keepable_type
            || hint.lower() > self.max_body
            || res.headers().contains_key(header::CONTENT_ENCODING)
            || res.headers().contains_key(header::SET_COOKIE)
            || is_private(res.headers())
        {
            return res;
        }
        if hint.exact().is_none() {
            return self.keep_when_streamed(pending, res);
        }
        let (parts, body) = res.into_parts();
        let Ok(bytes) = axum::body::to_bytes(body, self.max_body as usize).await else {
            return Response::from_parts(parts, Body::empty());
        };
        let cached = keep(
            &self.cache,
            pending.key,
            &parts.headers,
            bytes,
            pending.policy,
            &pending.tags,
            pending.epoch,
        );
        let mut res = answer(
            &cached,
            pending.if_none_match.as_ref(),
            "MISS",
            pending.encoding,
        );
        for (name, value) in parts.headers.iter() {
            if !res.headers().contains_key(name) && name != header::CONTENT_LENGTH {
                res.headers_mut().insert(name.clone(), value.clone());
            }
        }
        res
    }

    /// Passes a streamed body through and keeps a copy once it has ended whole.
    fn keep_when_streamed(&self, pending: Pending<P>, res: Response) -> Response {
        let (mut parts, body) = res.into_parts();
        let cache = self.cache.clone();
        let headers = parts.headers.clone();
        let Pending {
            key,
            policy,
            tags,
            epoch,
            ..
        } = pending;
        let on_end: Box<dyn FnOnce(Bytes) + Send> = Box::new(move |bytes| {
            keep(&cache, key, &headers, bytes, policy, &tags, epoch);
        });
        parts
            .headers
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        parts
            .headers
            .insert(X_CACHE.clone(), HeaderValue::from_static("MISS"));
        super::compression::add_vary(&mut parts.headers);
        let body = Body::new(Tee {
            inner: body,
            copy: Some(bytes::BytesMut::new()),
            limit: self.max_body as usize,
            on_end: Some(on_end),
        });
        Response::from_parts(parts, body)
    }
}

/// Inserts a finished body under `key` (unless its tags were invalidated since `epoch`).
fn keep<P: CachePolicy>(
    cache: &TieredCache<String, CachedResponse, P>,
    key: String,
    headers: &axum::http::HeaderMap,
    bytes: Bytes,
    policy: P,
    tags: &[String],
    epoch: u64,
) -> CachedResponse {
    let cached = CachedResponse {
        etag: etag_of(&bytes),
        content_type: headers
            .get(header::CONTENT_TYPE)
            .cloned()
            .unwrap_or(HeaderValue::from_static("application/json")),
        body: bytes,
        encoded: Arc::default(),
    };
    cache.insert_since(key, cached.clone(), policy, tags, epoch);
    cached
}

/// A body passed through while a copy of it is collected; the copy is handed over when the
/// body ends whole within the limit (a body dropped half-way, or an error, keeps nothing).
struct Tee {
    inner: Body,
    copy: Option<bytes::BytesMut>,
    limit: usize,
    on_end: Option<Box<dyn FnOnce(Bytes) + Send>>,
}

impl Tee {
    fn hand_over(&mut self) {
        if let (Some(copy), Some(on_end)) = (self.copy.take(), self.on_end.take()) {
            on_end(copy.freeze());
        }
    }
}

impl http_body::Body for Tee {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        let this = &mut *self;
        let poll = std::pin::Pin::new(&mut this.inner).poll_frame(cx);
        match &poll {
            std::task::Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    let limit = this.limit;
                    if let Some(copy) = this.copy.as_mut() {
                        if copy.len() + data.len() > limit {
                            this.copy = None;
                        } else {
                            copy.extend_from_slice(data);
                        }
                    }
                }
                // A body that knows it has ended is not polled again.
                if this.inner.is_end_stream() {
                    this.hand_over();
                }
            }
            std::task::Poll::Ready(Some(Err(_))) => this.copy = None,
            std::task::Poll::Ready(None) => this.hand_over(),
            std::task::Poll::Pending => {}
        }
        poll
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}
