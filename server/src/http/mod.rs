//! HTTP infrastructure: the listener that serves a router, the tower layers every request
//! passes through (compression, response cache, rate limits, metrics, security headers). The
//! load generator of the benchmarks is its own crate (`load/`).

pub mod compression;
pub mod cross_origin;
pub mod edge;
pub mod encoding;
mod listener;
pub mod measure;
pub mod rate_limit;
pub mod response_cache;
pub mod rewrite;
pub mod security;
pub mod stack;
pub mod timeout;

pub use listener::{
    FDS_KEPT, ServeError, ServeOptions, connection_cap, max_connections, open_connections,
    refused_connections, serve, shutdown_signal,
};
pub use stack::HttpStack;

#[cfg(test)]
mod deadline_tests;
#[cfg(test)]
mod tests;
