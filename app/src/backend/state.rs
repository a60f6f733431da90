//! Application state shared by every request: configuration and the running services.
//!
//! It travels as an axum `Extension` rather than a global, so that several instances can run
//! in one process (tests) and server functions name what they use in their signature.

use std::{sync::Arc, time::Instant};

use super::{AppConfig, StartError};
use crate::model::Health;

/// Cheap to clone: everything lives behind one `Arc`.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

struct Inner {
    config: AppConfig,
    started: Instant,
}

/// The extractor server functions use: `#[get("/api/x", state: AppExt)]`.
pub type AppExt = axum::Extension<AppState>;

impl AppState {
    /// Opens and starts everything the app needs.
    pub async fn start(config: AppConfig) -> Result<Self, StartError> {
        Ok(Self(Arc::new(Inner {
            config,
            started: Instant::now(),
        })))
    }

    /// The configuration the server started with.
    #[allow(dead_code)]
    pub fn config(&self) -> &AppConfig {
        &self.0.config
    }

    /// Version and uptime.
    pub fn health(&self) -> Health {
        Health {
            status: "ok".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            uptime_secs: self.0.started.elapsed().as_secs(),
        }
    }

    /// Stops background work and flushes state.
    pub async fn shutdown(&self) {}
}
