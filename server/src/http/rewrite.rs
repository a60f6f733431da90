//! Rewriting a streamed body on the way out: the first occurrence of a fixed byte string is
//! replaced, wherever the chunk boundaries fall, without holding the body back.
//!
//! The application uses it to turn a framework's inline data script into an inert one (so
//! the page policy needs no `unsafe-inline`). Only the bytes that could begin the marker are
//! held at the end of each chunk; the rest passes at once. Hand-written: an HTML rewriter
//! (lol_html) would tokenise every page to replace one fixed string the framework always
//! writes the same way, and adds a dependency to the hot path of every page render.

use std::{
    pin::Pin,
    task::{Context, Poll},
};

use axum::{
    body::{Body, Bytes},
    http::header,
    response::Response,
};
use http_body::{Frame, SizeHint};

/// Replaces the first `from` in `res`'s body with `to`. The length changes, so the
/// response's `Content-Length` goes.
pub fn replace_first(res: Response, from: &'static [u8], to: &'static [u8]) -> Response {
    let (mut parts, body) = res.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(
        parts,
        Body::new(ReplaceFirst {
            inner: body,
            from,
            to,
            held: Vec::new(),
            done: from.is_empty(),
            ended: false,
        }),
    )
}

struct ReplaceFirst {
    inner: Body,
    from: &'static [u8],
    to: &'static [u8],
    /// Bytes at the end of what was read that could be the start of `from`.
    held: Vec<u8>,
    /// The replacement happened (or cannot any more): pass everything through.
    done: bool,
    /// The inner body ended; `held` is the last thing to send.
    ended: bool,
}

impl ReplaceFirst {
    /// Takes in a chunk; returns what may be sent now.
    fn feed(&mut self, chunk: Bytes) -> Bytes {
        if self.done {
            return chunk;
        }
        let mut buf = std::mem::take(&mut self.held);
        buf.extend_from_slice(&chunk);
        if let Some(at) = find(&buf, self.from) {
            self.done = true;
            let mut out = Vec::with_capacity(buf.len() + self.to.len());
            out.extend_from_slice(&buf[..at]);
            out.extend_from_slice(self.to);
            out.extend_from_slice(&buf[at + self.from.len()..]);
            return Bytes::from(out);
        }
        // Hold the longest tail that is a prefix of `from`.
        let keep = (1..self.from.len().min(buf.len() + 1))
            .rev()
            .find(|&n| buf.ends_with(&self.from[..n]))
            .unwrap_or(0);
        self.held = buf.split_off(buf.len() - keep);
        Bytes::from(buf)
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

impl http_body::Body for ReplaceFirst {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = &mut *self;
        loop {
            if this.ended {
                if this.held.is_empty() {
                    return Poll::Ready(None);
                }
                let rest = std::mem::take(&mut this.held);
                return Poll::Ready(Some(Ok(Frame::data(Bytes::from(rest)))));
            }
            match Pin::new(&mut this.inner).poll_frame(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => this.ended = true,
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(e))),
                Poll::Ready(Some(Ok(frame))) => match frame.into_data() {
                    Ok(data) => {
                        let out = this.feed(data);
                        if !out.is_empty() {
                            return Poll::Ready(Some(Ok(Frame::data(out))));
                        }
                    }
                    Err(frame) => return Poll::Ready(Some(Ok(frame))),
                },
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.ended && self.held.is_empty()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn rewritten(chunks: &[&'static str], from: &'static str, to: &'static str) -> String {
        let stream = futures_util::stream::iter(
            chunks
                .iter()
                .map(|c| Ok::<_, std::io::Error>(Bytes::from_static(c.as_bytes())))
                .collect::<Vec<_>>(),
        );
        let res = Response::new(Body::from_stream(stream));
        let res = replace_first(res, from.as_bytes(), to.as_bytes());
        let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .expect("body");
        String::from_utf8(bytes.to_vec()).expect("utf-8")
    }

    #[tokio::test]
    async fn replaces_the_first_occurrence_across_chunk_boundaries() {
        let page = "<p>a</p><script>data=1</script><script>data=2</script>";
        let want = "<p>a</p><script type=x>data=1</script><script>data=2</script>";
        // Every split of the page into two chunks, the marker cut at every place.
        for cut in 0..=page.len() {
            let (a, b) = page.split_at(cut);
            let a: &'static str = Box::leak(a.to_string().into_boxed_str());
            let b: &'static str = Box::leak(b.to_string().into_boxed_str());
            assert_eq!(
                rewritten(&[a, b], "<script>data", "<script type=x>data").await,
                want,
                "cut at {cut}"
            );
        }
        // One byte per chunk.
        let bytes: Vec<&'static str> = (0..page.len())
            .map(|i| &*Box::leak(page[i..i + 1].to_string().into_boxed_str()))
            .collect();
        assert_eq!(
            rewritten(&bytes, "<script>data", "<script type=x>data").await,
            want
        );
    }

    #[tokio::test]
    async fn a_body_without_the_marker_passes_unchanged() {
        let page = "<p>no scripts here, only <scrip and <script</p>";
        assert_eq!(
            rewritten(&[page], "<script>data", "<script type=x>data").await,
            page
        );
        assert_eq!(
            rewritten(&["<scr", "ipt>dat"], "<script>data", "X").await,
            "<script>dat"
        );
    }
}
