//! Picking a content encoding from `Accept-Encoding` (with q-values), and compressing a
//! whole body in memory: used for cached responses, which are compressed once per encoding
//! and then served as stored bytes.

use std::io::Write;

use axum::http::{HeaderMap, HeaderValue, header};

/// An encoding we produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// Brotli.
    Br,
    /// Zstandard.
    Zstd,
    /// gzip.
    Gzip,
}

impl Encoding {
    /// The `Content-Encoding` value.
    pub fn header(self) -> HeaderValue {
        HeaderValue::from_static(match self {
            Self::Br => "br",
            Self::Zstd => "zstd",
            Self::Gzip => "gzip",
        })
    }

    /// Index into per-encoding tables.
    pub fn index(self) -> usize {
        self as usize
    }

    /// Compresses `body` (levels chosen for cached bodies: compressed once, sent many times).
    pub fn compress(self, body: &[u8]) -> Vec<u8> {
        match self {
            Self::Br => {
                let mut out = Vec::with_capacity(body.len() / 4);
                {
                    let mut w = brotli::CompressorWriter::new(&mut out, 32 * 1024, 5, 22);
                    let _ = w.write_all(body);
                }
                out
            }
            Self::Zstd => zstd::bulk::compress(body, 3).unwrap_or_else(|_| body.to_vec()),
            Self::Gzip => {
                let mut w = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
                let _ = w.write_all(body);
                w.finish().unwrap_or_else(|_| body.to_vec())
            }
        }
    }
}

/// The best encoding the client accepts: highest q-value, then br, zstd, gzip.
pub fn negotiate(headers: &HeaderMap) -> Option<Encoding> {
    let mut best: Option<(f32, Encoding)> = None;
    for value in headers.get_all(header::ACCEPT_ENCODING) {
        let Ok(value) = value.to_str() else { continue };
        for item in value.split(',') {
            let mut parts = item.split(';');
            let name = parts.next().unwrap_or("").trim();
            let q = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            let candidates: &[Encoding] = match name {
                "br" => &[Encoding::Br],
                "zstd" => &[Encoding::Zstd],
                "gzip" | "x-gzip" => &[Encoding::Gzip],
                "*" => &[Encoding::Br, Encoding::Zstd, Encoding::Gzip],
                _ => &[],
            };
            for &enc in candidates {
                if q > 0.0
                    && best.is_none_or(|(bq, be)| q > bq || (q == bq && enc.index() < be.index()))
                {
                    best = Some((q, enc));
                }
            }
        }
    }
    best.map(|(_, e)| e)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pick(accept: &str) -> Option<Encoding> {
        let mut h = HeaderMap::new();
        h.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_str(accept).expect("ascii"),
        );
        negotiate(&h)
    }

    #[test]
    fn q_values_decide_then_preference() {
        assert_eq!(pick("gzip, br"), Some(Encoding::Br));
        assert_eq!(pick("gzip;q=1.0, br;q=0.5"), Some(Encoding::Gzip));
        assert_eq!(pick("br;q=0, gzip"), Some(Encoding::Gzip));
        assert_eq!(pick("identity"), None);
        assert_eq!(pick("*;q=0.1"), Some(Encoding::Br));
        assert_eq!(pick("zstd, gzip;q=0.9"), Some(Encoding::Zstd));
    }

    #[test]
    fn compressed_bodies_decompress_to_the_original() {
        let body = "故事 story ".repeat(500);
        for enc in [Encoding::Br, Encoding::Zstd, Encoding::Gzip] {
            let packed = enc.compress(body.as_bytes());
            assert!(packed.len() < body.len() / 3, "{enc:?}");
            let unpacked = match enc {
                Encoding::Zstd => zstd::bulk::decompress(&packed, body.len()).expect("zstd"),
                Encoding::Gzip => {
                    use std::io::Read;
                    let mut out = Vec::new();
                    flate2::read::GzDecoder::new(&packed[..])
                        .read_to_end(&mut out)
                        .expect("gzip");
                    out
                }
                Encoding::Br => {
                    use std::io::Read;
                    let mut out = Vec::new();
                    brotli::Decompressor::new(&packed[..], 4096)
                        .read_to_end(&mut out)
                        .expect("br");
                    out
                }
            };
            assert_eq!(unpacked, body.as_bytes());
        }
    }
}
