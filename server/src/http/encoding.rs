//! Picking a content encoding from `Accept-Encoding` (with q-values), and compressing a
//! whole body in memory, at one of two efforts: once for a cached body that is then sent
//! many times, or once per answer for everything else.
//!
//! The two differ in which encoding wins a tie and how hard it works, from this machine's
//! measurements of the three encoders on AION's own pages (`cargo xtask bench-http --only
//! pages` records the effect; times from one compression of the 17 KB reader page and the
//! 108 KB list page, release build):
//!
//! | encoder | reader | list |
//! |---|---:|---:|
//! | brotli 4, 4 MiB window (tower-http's default, used before) | 216 µs, 4,505 B | 1,303 µs, 16,552 B |
//! | brotli 5, window fitted (≥ 128 KiB) | 357 µs, 4,241 B | 1,731 µs, 15,393 B |
//! | brotli 2, window fitted | 127 µs, 4,938 B | 656 µs, 18,350 B |
//! | zstd 1, context reused | 23 µs, 5,139 B | 119 µs, 18,607 B |
//! | gzip 2 (zlib-rs) | 58 µs, 4,915 B | 386 µs, 21,570 B |
//!
//! The brotli crate is pure Rust and several times slower than zstd here, and a brotli
//! window of 64 KiB or less at quality 5 and up switches to a hasher whose tables cost
//! milliseconds to set up, so windows are fitted to the body but never below 128 KiB. A
//! cached body takes the smallest result (brotli 5 first at equal q-values); a body
//! compressed for one answer takes the cheapest the client accepts (zstd, then gzip, then
//! brotli at quality 2), within a few percent of the same size.

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

    /// Compresses a whole `body` in one call, with the window and tables fitted to its
    /// length (see [`Effort`] for the levels and why).
    pub fn compress(self, body: &[u8], effort: Effort) -> std::io::Result<Vec<u8>> {
        match self {
            Self::Br => {
                let mut out = Vec::with_capacity(body.len() / 4 + 64);
                let params = Self::brotli_params(Some(body.len()), effort);
                brotli::BrotliCompress(&mut &body[..], &mut out, &params)?;
                Ok(out)
            }
            Self::Zstd => ZSTD.with(|cell| {
                let mut contexts = cell.borrow_mut();
                let slot = &mut contexts[effort as usize];
                if slot.is_none() {
                    *slot = Some(zstd::bulk::Compressor::new(effort.zstd_level())?);
                }
                match slot.as_mut() {
                    Some(c) => c.compress(body),
                    None => unreachable!("the context was just made"),
                }
            }),
            Self::Gzip => {
                let mut w = flate2::write::GzEncoder::new(
                    Vec::with_capacity(body.len() / 4 + 64),
                    flate2::Compression::new(effort.gzip_level()),
                );
                w.write_all(body)?;
                w.finish()
            }
        }
    }

    /// The strong ETag of the body in this encoding, from the plain body's (`"x"` becomes
    /// `"x-br"`): a strong ETag names exact bytes. `None` for a weak or malformed one.
    pub fn etag(self, plain: &HeaderValue) -> Option<HeaderValue> {
        let inner = plain.to_str().ok()?.strip_prefix('"')?.strip_suffix('"')?;
        let name = self.header();
        HeaderValue::from_str(&format!("\"{inner}-{}\"", name.to_str().ok()?)).ok()
    }

    /// Brotli parameters for a body of `len` bytes (unknown: a stream).
    pub fn brotli_params(len: Option<usize>, effort: Effort) -> brotli::enc::BrotliEncoderParams {
        let mut params = brotli::enc::BrotliEncoderParams {
            quality: effort.brotli_quality(),
            ..Default::default()
        };
        match len {
            Some(len) => {
                // The smallest window that holds the whole body, but never 64 KiB or less
                // (see the module comment).
                let bits = usize::BITS - len.max(1).leading_zeros();
                params.lgwin = (bits as i32).clamp(17, 22);
                params.size_hint = len;
            }
            None => params.lgwin = 18,
        }
        params
    }
}

/// How hard to compress (levels from the measurements in the module comment).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effort {
    /// A cached body: compressed once, sent many times.
    Cached,
    /// A body compressed for one answer.
    Live,
}

impl Effort {
    fn brotli_quality(self) -> i32 {
        match self {
            Self::Cached => 5,
            Self::Live => 2,
        }
    }

    fn zstd_level(self) -> i32 {
        match self {
            Self::Cached => 3,
            Self::Live => 1,
        }
    }

    fn gzip_level(self) -> u32 {
        match self {
            Self::Cached => 6,
            Self::Live => 2,
        }
    }
}

thread_local! {
    /// One zstd context per thread and [`Effort`], reused: making one costs more than
    /// compressing a small page.
    static ZSTD: std::cell::RefCell<[Option<zstd::bulk::Compressor<'static>>; 2]> =
        const { std::cell::RefCell::new([None, None]) };
}

/// The encoding for a body compressed once and kept: highest q-value, then the smallest
/// result (br, zstd, gzip).
pub fn negotiate(headers: &HeaderMap) -> Option<Encoding> {
    pick(headers, [Encoding::Br, Encoding::Zstd, Encoding::Gzip])
}

/// The encoding for a body compressed for one answer: highest q-value, then the cheapest
/// (zstd, gzip, br).
pub fn negotiate_live(headers: &HeaderMap) -> Option<Encoding> {
    pick(headers, [Encoding::Zstd, Encoding::Gzip, Encoding::Br])
}

/// Highest q-value, ties broken by the order of `preference`.
fn pick(headers: &HeaderMap, preference: [Encoding; 3]) -> Option<Encoding> {
    let rank = |e: Encoding| preference.iter().position(|p| *p == e).unwrap_or(3);
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
                    && best.is_none_or(|(bq, be)| q > bq || (q == bq && rank(enc) < rank(be)))
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
    fn an_empty_body_compresses_in_every_encoding() {
        for enc in [Encoding::Br, Encoding::Zstd, Encoding::Gzip] {
            for effort in [Effort::Cached, Effort::Live] {
                let packed = enc.compress(b"", effort);
                assert!(packed.is_ok_and(|p| !p.is_empty()), "{enc:?} {effort:?}");
            }
        }
    }

    #[test]
    fn live_answers_take_the_cheapest_of_equal_q_values() {
        let live = |accept: &str| {
            let mut h = HeaderMap::new();
            h.insert(
                header::ACCEPT_ENCODING,
                HeaderValue::from_str(accept).expect("ascii"),
            );
            negotiate_live(&h)
        };
        assert_eq!(live("gzip, deflate, br, zstd"), Some(Encoding::Zstd));
        assert_eq!(live("br, gzip"), Some(Encoding::Gzip));
        assert_eq!(live("br;q=1, gzip;q=0.5"), Some(Encoding::Br));
        assert_eq!(live("br"), Some(Encoding::Br));
        assert_eq!(live("identity"), None);
    }

    #[test]
    fn compressed_bodies_decompress_to_the_original() {
        let body = "故事 story ".repeat(500);
        for enc in [Encoding::Br, Encoding::Zstd, Encoding::Gzip] {
            for effort in [Effort::Cached, Effort::Live] {
                let packed = enc.compress(body.as_bytes(), effort).expect("compresses");
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
}
