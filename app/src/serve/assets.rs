//! The client bundle's files (`/assets/…`) as Dioxus serves them, with headers a shared
//! cache in front can trust.
//!
//! Dioxus serves each file from disk, its brotli copy (`.br`) to browsers that accept it,
//! and the edge compresses the rest with gzip on the way out. Only the gzip answer said
//! `Vary: accept-encoding`, so a cache could keep the brotli bytes under the plain URL and
//! hand them to a client that never asked for brotli; and the `.br` file, written after the
//! original, sent another `Last-Modified`. Every answer here now varies on the encoding,
//! and none carries `Last-Modified`: the names hold a hash of the content and are served
//! `immutable` for a year, so there is nothing to revalidate.

use axum::{
    extract::Request,
    http::{HeaderValue, header},
    middleware::Next,
    response::Response,
};

/// Where the bundle's files are served.
pub const PREFIX: &str = "/assets/";

/// Normalises the headers of answers under [`PREFIX`].
pub async fn headers(req: Request, next: Next) -> Response {
    let asset = req.uri().path().starts_with(PREFIX);
    let mut res = next.run(req).await;
    if asset {
        normalise(&mut res);
    }
    res
}

fn normalise(res: &mut Response) {
    let h = res.headers_mut();
    h.remove(header::LAST_MODIFIED);
    let varies = h.get_all(header::VARY).iter().any(|v| {
        v.to_str()
            .is_ok_and(|v| v.to_ascii_lowercase().contains("accept-encoding"))
    });
    if !varies {
        h.append(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_encoding_varies_and_none_says_when_it_was_written() {
        for (encoding, vary) in [
            (None, None),
            (Some("br"), None),
            (Some("gzip"), Some("accept-encoding")),
        ] {
            let mut res = Response::new(axum::body::Body::empty());
            let h = res.headers_mut();
            h.insert(
                header::LAST_MODIFIED,
                HeaderValue::from_static("Mon, 07 Dec 2026 07:09:23 GMT"),
            );
            if let Some(e) = encoding {
                h.insert(header::CONTENT_ENCODING, HeaderValue::from_static(e));
            }
            if let Some(v) = vary {
                h.insert(header::VARY, HeaderValue::from_static(v));
            }
            normalise(&mut res);
            let varies: Vec<_> = res.headers().get_all(header::VARY).iter().collect();
            assert_eq!(
                varies,
                [HeaderValue::from_static("accept-encoding")],
                "{encoding:?}"
            );
            assert!(
                res.headers().get(header::LAST_MODIFIED).is_none(),
                "{encoding:?}"
            );
        }
    }
}
