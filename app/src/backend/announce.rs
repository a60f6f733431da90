//! Announcing this instance's writes to the others, when every instance is an embedded
//! replica of one libsql server: a write that changed a cached value is announced with its
//! invalidation (`AppState::invalidate_everywhere`); every other write (a task started, a
//! session, a passkey) is announced here, by its replication position alone, so that
//! another instance that reads next first catches its replica up to it
//! (`server::store::replica`) instead of answering from a replica a sync interval behind.
//!
//! Requests announce before they are answered ([`after_writes`], for every method that
//! may write): a client whose next request reaches another instance finds the write there.
//! Background work (tasks, sweeps) is announced as its transactions commit ([`spawn`]).
//! Nothing is sent when the position did not move, on a single database file, or without
//! Redis.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use axum::{Extension, extract::Request, http::Method, middleware::Next, response::Response};

use super::AppState;

/// The highest position announced.
#[derive(Default)]
pub struct Announced(AtomicU64);

impl Announced {
    /// Records `position` as announced; whether it was news.
    pub fn set(&self, position: u64) -> bool {
        self.0.fetch_max(position, Relaxed) < position
    }
}

impl AppState {
    /// Announces this instance's last write if it has not been yet.
    pub async fn announce_writes(&self) {
        let (Some(bus), Some(position)) = (self.shared(), self.store().written_position()) else {
            return;
        };
        if position > 0 && self.announced().set(position) {
            bus.publish_position(position).await;
        }
    }
}

/// Middleware: after a request that may have written, its write is announced before the
/// answer leaves.
pub async fn after_writes(
    Extension(state): Extension<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let writes = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let response = next.run(req).await;
    if writes && state.store().is_replica() {
        state.announce_writes().await;
    }
    response
}

/// Announces background writes as they commit, for as long as the state lives.
pub fn spawn(state: &AppState) -> Option<tokio::task::JoinHandle<()>> {
    if !state.store().is_replica() || state.shared().is_none() {
        return None;
    }
    let mut commits = state.store().commits();
    let weak = state.downgrade();
    Some(tokio::spawn(async move {
        while commits.changed().await.is_ok() {
            let Some(state) = weak.upgrade() else { return };
            state.announce_writes().await;
        }
    }))
}
