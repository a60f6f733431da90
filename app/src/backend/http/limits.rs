//! The rate limits as configured: reads and writes per client per minute, the header that
//! names the client behind a trusted proxy (believed only from `AION_TRUSTED_PROXIES`), and the paths no limit applies to (static files,
//! cover variants and the metrics scrape). Cover variants are exempt because a page of the
//! library asks for one per visible story, and scrolling would spend the reads of the API
//! on images; each is an immutable file the browser keeps for a year, served from the cache
//! or one primary-key lookup (a name that is not canonical is refused before any lookup).

use axum::http::HeaderName;
use server::http::rate_limit::{Limit, RateLimits, TrustedProxy};

use crate::backend::AppConfig;

/// Read and write limits from the configuration (0 per minute turns a limit off).
pub fn rate_limits(config: &AppConfig) -> RateLimits {
    RateLimits::new(
        Limit {
            per_minute: config.read_rate_per_minute,
            burst: config.read_rate_burst,
        },
        Limit {
            per_minute: config.write_rate_per_minute,
            burst: config.write_rate_burst,
        },
        config
            .trusted_proxy_header
            .as_deref()
            .and_then(|h| HeaderName::from_bytes(h.as_bytes()).ok())
            .map(|header| TrustedProxy {
                header,
                proxies: config.trusted_proxies.clone(),
            }),
        ["/assets/", "/wasm/", "/favicon", "/metrics", "/media/"]
            .into_iter()
            .map(String::from)
            .collect(),
    )
}
