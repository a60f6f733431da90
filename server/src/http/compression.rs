//! Response compression for everything the response cache does not serve from memory:
//! brotli, zstd and gzip, negotiated from `Accept-Encoding` with its q-values
//! ([`super::encoding::negotiate`]).
//!
//! Written here instead of taking tower-http's `CompressionLayer`, because that layer
//! streams every body through one fixed encoder per encoding (brotli 4 with a 4 MiB
//! window): it cannot pick the cheapest encoding the client accepts, fit the encoder to the
//! body, or reuse a zstd context, and compressing a 17 KB page with it took about as long as
//! rendering the page (see [`super::encoding`] for the encoders measured, BENCHMARKS.md for
//! the throughput). Here a body is collected while it arrives and compressed in one call at
//! [`Effort::Live`]: Dioxus sends a page in three chunks within microseconds of each other,
//! so a pause of the producer starts a short wait ([`COALESCE`]) before anything is flushed.
//! A body that grows past [`COLLECT_LIMIT`], or whose producer stays paused longer (a real
//! stream), switches to a streaming encoder that is flushed at every such pause, so a
//! stream never waits more than [`COALESCE`] on compression.
//!
//! Left alone: bodies under [`MIN_SIZE`], responses already encoded (precompressed assets),
//! ranges, `204`/`304`, images (SVG excepted), audio, video, archives, fonts, server-sent
//! events and gRPC.

use std::{
    future::Future,
    io::{self, Write},
    pin::Pin,
    task::{Context, Poll},
};

use axum::{
    body::Body,
    http::{HeaderValue, StatusCode, header},
    response::Response,
};
use bytes::{Bytes, BytesMut};
use http_body::{Body as _, Frame, SizeHint};

use super::encoding::{Effort, Encoding};

/// Smallest body worth compressing.
pub const MIN_SIZE: usize = 1024;

/// A body is collected up to this many bytes and compressed in one call; past it, it streams.
pub const COLLECT_LIMIT: usize = 512 * 1024;

/// How long a paused producer may keep collected bytes waiting before they are flushed.
pub const COALESCE: std::time::Duration = std::time::Duration::from_millis(5);

/// Content types that are already compressed or must reach the client unbuffered.
const SKIPPED_TYPES: &[&str] = &[
    "image/",
    "audio/",
    "video/",
    "font/woff",
    "application/zip",
    "application/gzip",
    "application/zstd",
    "application/grpc",
    "text/event-stream",
];

/// Whether `res` is worth compressing at all.
pub fn worth_compressing(res: &Response) -> bool {
    let status = res.status();
    if status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED
    {
        return false;
    }
    let h = res.headers();
    if h.contains_key(header::CONTENT_ENCODING) || h.contains_key(header::CONTENT_RANGE) {
        return false;
    }
    if res
        .body()
        .size_hint()
        .exact()
        .is_some_and(|n| n < MIN_SIZE as u64)
    {
        return false;
    }
    let content_type = h
        .get(header::CONTENT_TYPE)
        .map_or(&b""[..], |v| v.as_bytes())
        .trim_ascii_start();
    let is = |prefix: &str| {
        content_type
            .get(..prefix.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(prefix.as_bytes()))
    };
    is("image/svg+xml") || !SKIPPED_TYPES.iter().any(|t| is(t))
}

/// `res` compressed in `encoding` if it is worth it (see [`worth_compressing`]), else as is.
pub fn compress(res: Response, encoding: Encoding) -> Response {
    if !worth_compressing(&res) {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let h = &mut parts.headers;
    h.remove(header::CONTENT_LENGTH);
    h.remove(header::ACCEPT_RANGES);
    h.insert(header::CONTENT_ENCODING, encoding.header());
    add_vary(h);
    // A strong ETag names exact bytes: the encoded ones get their own.
    if let Some(etag) = h.get(header::ETAG).and_then(|v| encoding.etag(v)) {
        h.insert(header::ETAG, etag);
    }
    Response::from_parts(parts, Body::new(Compressing::new(body, encoding)))
}

/// Adds `Vary: accept-encoding` unless the response already varies on it.
pub fn add_vary(h: &mut axum::http::HeaderMap) {
    let varies = h.get_all(header::VARY).iter().any(|v| {
        v.to_str().is_ok_and(|v| {
            v.split(',')
                .any(|t| t.trim().eq_ignore_ascii_case("accept-encoding") || t.trim() == "*")
        })
    });
    if !varies {
        h.append(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
}

/// The compressing body: collects, then compresses once; streams past the limit or a pause.
struct Compressing {
    inner: Body,
    encoding: Encoding,
    collected: BytesMut,
    stream: Option<StreamEncoder>,
    /// Armed when the producer paused with bytes collected: flush when it fires.
    flush_at: Option<Pin<Box<tokio::time::Sleep>>>,
    /// The streaming encoder holds bytes not yet flushed.
    unflushed: bool,
    done: bool,
}

impl Compressing {
    fn new(inner: Body, encoding: Encoding) -> Self {
        Self {
            inner,
            encoding,
            collected: BytesMut::new(),
            stream: None,
            flush_at: None,
            unflushed: false,
            done: false,
        }
    }

    /// Moves what was collected into the streaming encoder (made on first use) and returns
    /// what it has produced, flushed if `flush`.
    fn stream_out(&mut self, flush: bool) -> io::Result<Bytes> {
        if self.stream.is_none() {
            self.stream = Some(StreamEncoder::new(self.encoding)?);
        }
        let Some(stream) = self.stream.as_mut() else {
            unreachable!("made above")
        };
        if !self.collected.is_empty() {
            stream.write(&self.collected)?;
            self.collected.clear();
        }
        if flush {
            stream.flush()?;
        }
        self.unflushed = !flush;
        Ok(stream.take())
    }

    fn finish(&mut self) -> io::Result<Bytes> {
        match self.stream.take() {
            Some(mut stream) => {
                if !self.collected.is_empty() {
                    stream.write(&self.collected)?;
                }
                stream.finish()
            }
            None => Ok(Bytes::from(
                self.encoding.compress(&self.collected, Effort::Live)?,
            )),
        }
    }
}

fn io_error(e: io::Error) -> axum::Error {
    axum::Error::new(e)
}

impl http_body::Body for Compressing {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = self.get_mut();
        if this.done {
            return Poll::Ready(None);
        }
        loop {
            match Pin::new(&mut this.inner).poll_frame(cx) {
                Poll::Ready(Some(Ok(frame))) => {
                    // Trailers are dropped: HTTP/1.1 clients do not ask for them here.
                    let Ok(data) = frame.into_data() else {
                        continue;
                    };
                    this.collected.extend_from_slice(&data);
                    if this.collected.len() > COLLECT_LIMIT {
                        let out = this.stream_out(false).map_err(io_error)?;
                        if !out.is_empty() {
                            return Poll::Ready(Some(Ok(Frame::data(out))));
                        }
                    }
                }
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(e))),
                Poll::Ready(None) => {
                    this.done = true;
                    let out = this.finish().map_err(io_error)?;
                    return Poll::Ready((!out.is_empty()).then(|| Ok(Frame::data(out))));
                }
                Poll::Pending => {
                    if this.collected.is_empty() && !this.unflushed {
                        return Poll::Pending;
                    }
                    // The producer paused with bytes collected: give it a moment to finish,
                    // then send what there is, so a stream never waits long on us.
                    let timer = this
                        .flush_at
                        .get_or_insert_with(|| Box::pin(tokio::time::sleep(COALESCE)));
                    if timer.as_mut().poll(cx).is_pending() {
                        return Poll::Pending;
                    }
                    this.flush_at = None;
                    let out = this.stream_out(true).map_err(io_error)?;
                    if !out.is_empty() {
                        return Poll::Ready(Some(Ok(Frame::data(out))));
                    }
                    return Poll::Pending;
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.done
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}

/// An encoder for bodies that stream: what it has produced is taken after each write.
enum StreamEncoder {
    Br(Box<brotli::CompressorWriter<Vec<u8>>>),
    Zstd(zstd::stream::write::Encoder<'static, Vec<u8>>),
    Gzip(flate2::write::GzEncoder<Vec<u8>>),
}

impl StreamEncoder {
    fn new(encoding: Encoding) -> io::Result<Self> {
        Ok(match encoding {
            Encoding::Br => Self::Br(Box::new(brotli::CompressorWriter::with_params(
                Vec::new(),
                16 * 1024,
                &Encoding::brotli_params(None, Effort::Live),
            ))),
            Encoding::Zstd => Self::Zstd(zstd::stream::write::Encoder::new(Vec::new(), 1)?),
            Encoding::Gzip => Self::Gzip(flate2::write::GzEncoder::new(
                Vec::new(),
                flate2::Compression::new(2),
            )),
        })
    }

    fn write(&mut self, data: &[u8]) -> io::Result<()> {
        match self {
            Self::Br(w) => w.write_all(data),
            Self::Zstd(w) => w.write_all(data),
            Self::Gzip(w) => w.write_all(data),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Self::Br(w) => w.flush(),
            Self::Zstd(w) => w.flush(),
            Self::Gzip(w) => w.flush(),
        }
    }

    fn take(&mut self) -> Bytes {
        Bytes::from(std::mem::take(match self {
            Self::Br(w) => w.get_mut(),
            Self::Zstd(w) => w.get_mut(),
            Self::Gzip(w) => w.get_mut(),
        }))
    }

    fn finish(self) -> io::Result<Bytes> {
        Ok(Bytes::from(match self {
            Self::Br(w) => w.into_inner(),
            Self::Zstd(w) => w.finish()?,
            Self::Gzip(w) => w.finish()?,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    fn decode(encoding: Encoding, packed: &[u8]) -> Vec<u8> {
        use std::io::Read;
        let mut out = Vec::new();
        match encoding {
            Encoding::Br => {
                brotli::Decompressor::new(packed, 4096)
                    .read_to_end(&mut out)
                    .expect("valid brotli");
            }
            Encoding::Zstd => {
                zstd::stream::read::Decoder::new(packed)
                    .expect("zstd context")
                    .read_to_end(&mut out)
                    .expect("valid zstd");
            }
            Encoding::Gzip => {
                flate2::read::GzDecoder::new(packed)
                    .read_to_end(&mut out)
                    .expect("valid gzip");
            }
        }
        out
    }

    fn page(n: usize) -> String {
        (0..n)
            .map(|i| format!("<li class=\"card\"><a href=\"/stories/{i}\">Story {i}</a></li>"))
            .collect()
    }

    /// A body that arrives in chunks with a pause before each, like a real stream.
    fn paused_stream(chunks: Vec<String>) -> Body {
        let stream = futures_util::stream::iter(chunks).then(|c| async move {
            tokio::task::yield_now().await;
            Ok::<_, io::Error>(c)
        });
        Body::from_stream(stream)
    }

    use futures_util::StreamExt;

    #[tokio::test]
    async fn every_encoding_round_trips_whole_and_streamed_bodies() {
        let whole = page(400);
        let chunks: Vec<String> = (0..20).map(|i| page(50 + i)).collect();
        let streamed = chunks.concat();
        let big = page(20_000);
        assert!(big.len() > COLLECT_LIMIT);
        for encoding in [Encoding::Br, Encoding::Zstd, Encoding::Gzip] {
            for (body, plain) in [
                (Body::from(whole.clone()), whole.as_bytes()),
                (paused_stream(chunks.clone()), streamed.as_bytes()),
                (Body::from(big.clone()), big.as_bytes()),
            ] {
                let res = compress(Response::new(body), encoding);
                assert_eq!(
                    res.headers().get(header::CONTENT_ENCODING),
                    Some(&encoding.header())
                );
                let packed = res.into_body().collect().await.expect("body").to_bytes();
                assert!(packed.len() < plain.len() / 3, "{encoding:?}");
                assert_eq!(decode(encoding, &packed), plain, "{encoding:?}");
            }
        }
    }

    #[tokio::test]
    async fn a_paused_stream_is_sent_before_it_ends() {
        // The producer sends one chunk, then waits for a signal that only comes after the
        // client has seen compressed bytes of that chunk.
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let first = page(100);
        let stream = futures_util::stream::once(async move { Ok::<_, io::Error>(first) }).chain(
            futures_util::stream::once(async move {
                let _ = rx.await;
                Ok(page(10))
            }),
        );
        let res = compress(Response::new(Body::from_stream(stream)), Encoding::Br);
        let mut body = res.into_body();
        let frame = body.frame().await.expect("a frame").expect("data");
        assert!(!frame.data_ref().expect("data").is_empty());
        tx.send(()).expect("producer waits");
        let rest = body.collect().await.expect("rest").to_bytes();
        let mut all = frame.into_data().expect("data").to_vec();
        all.extend_from_slice(&rest);
        assert_eq!(
            decode(Encoding::Br, &all),
            (page(100) + &page(10)).as_bytes()
        );
    }

    #[test]
    fn small_encoded_images_and_streams_are_left_alone() {
        let with = |ct: &str, body: String| {
            let mut res = Response::new(Body::from(body));
            res.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_str(ct).expect("ascii"),
            );
            res
        };
        assert!(worth_compressing(&with("text/html", page(100))));
        assert!(worth_compressing(&with("image/svg+xml", page(100))));
        assert!(!worth_compressing(&with("text/html", "<p>hi</p>".into())));
        assert!(!worth_compressing(&with("image/png", page(100))));
        assert!(!worth_compressing(&with("text/event-stream", page(100))));
        let mut encoded = with("text/html", page(100));
        encoded
            .headers_mut()
            .insert(header::CONTENT_ENCODING, HeaderValue::from_static("br"));
        assert!(!worth_compressing(&encoded));
    }
}
