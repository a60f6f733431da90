//! Response compression: brotli, zstd and gzip, negotiated from `Accept-Encoding` with its
//! q-values (tower-http). Brotli runs at quality 4: tower-http's default maps to 11, which
//! costs milliseconds per response for a few percent of size. Bodies under 1 KiB, images,
//! server-sent events and anything already encoded (precompressed assets) are left alone.

use tower_http::compression::{
    CompressionLayer, CompressionLevel,
    predicate::{And, DefaultPredicate, Predicate, SizeAbove},
};

/// Smallest body worth compressing.
pub const MIN_SIZE: u16 = 1024;

/// When to compress: tower-http's defaults (not images, not server-sent events, not
/// gRPC) and at least [`MIN_SIZE`] bytes.
pub type Rules = And<DefaultPredicate, SizeAbove>;

/// The compression layer with AION's settings.
pub fn compression() -> CompressionLayer<Rules> {
    CompressionLayer::new()
        .br(true)
        .zstd(true)
        .gzip(true)
        .no_deflate()
        .quality(CompressionLevel::Precise(4))
        .compress_when(DefaultPredicate::new().and(SizeAbove::new(MIN_SIZE)))
}
