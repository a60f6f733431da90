//! The server half of the product, by feature. Each feature folder owns its SQL, its cache
//! rules and its task handlers; [`state`] holds them all and starts their background work.
//!
//! | module | owns |
//! |---|---|
//! | [`library`] | stories and nodes in SQL, their cached reads and invalidating writes, search index, read counts |
//! | [`media`] | story covers: upload checks, variants (the `cover.variants` task), `/media` bytes |
//! | [`exports`] | story exports (JSON, PDF), import, reports: the tasks that write files |
//! | [`identity`] | the caller of a request: anonymous session, admin role (accounts go here) |
//! | [`notifications`] | what finished tasks tell their owner, stored and pushed live |
//! | [`live_streams`] | the open live-event streams: how many per session and address, how long |
//! | [`ops`] | Web Vitals, alerts, metrics history and snapshot, the dashboard's server-rendered panels, `/metrics`, backups, maintenance |
//! | [`demo`] | the deterministic demo library and its procedural cover art |
//! | [`tasks`] | what every task kind shares: its environment, the task as the API shows it |
//! | [`http`] | the middleware as configured: response cache rules, rate limits, error shape |
//! | [`cache`] | the tiered data cache's keys, policies and tags |
//! | [`state`] | the application state: opens the store, builds every service |
//! | `loops` | every background loop on one scheduler: what runs, how often, why |
//! | [`html`] | markup rendered on the server for the client to show as it comes (bundle cap) |
//! | [`config`], [`schema`], [`time`] | environment configuration, migrations, timestamps |

pub mod announce;
pub mod cache;
pub mod config;
pub mod demo;
pub mod exports;
pub mod html;
pub mod http;
pub mod identity;
pub mod library;
pub mod live_streams;
mod loops;
pub mod media;
pub mod notifications;
pub mod ops;
pub mod schema;
pub mod state;
pub mod tasks;
pub mod time;

pub use config::AppConfig;
pub use state::{AppExt, AppState, StartError};

use server::store::StoreError;

use crate::model::{ApiError, ErrorCode};

/// A new id: UUIDv7, sortable by creation time and safe to generate on many machines.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

impl From<StoreError> for ApiError {
    /// Database failures are the server's problem: logged with their cause, sent as 500
    /// without it (or 503 when the database was busy, or the request ran out of time there,
    /// which are worth a retry).
    fn from(err: StoreError) -> Self {
        if err.is_busy() {
            tracing::warn!("database busy: {err}");
            return ApiError::new(
                ErrorCode::Unavailable,
                "the database is busy; try again in a moment",
            );
        }
        if err.is_interrupted() {
            tracing::warn!("statement stopped at its request's deadline: {err}");
            return ApiError::new(
                ErrorCode::Unavailable,
                "this request took longer than it may (AION_REQUEST_TIMEOUT_SECS) and was stopped; try again later",
            );
        }
        if err.is_primary_unreachable() {
            tracing::error!("the primary database cannot be reached: {err}");
            return ApiError::new(
                ErrorCode::Unavailable,
                "the primary database cannot be reached, so this change may not have been stored; reading still works, check and try again later",
            );
        }
        if err.is_unwritable() {
            tracing::error!("database cannot be written: {err}");
            return ApiError::new(
                ErrorCode::Unavailable,
                "the server cannot store changes right now (its disk is full or read-only); reading still works, try the change again later",
            );
        }
        tracing::error!("database error: {err}");
        ApiError::internal()
    }
}

impl From<server::tasks::QueueError> for ApiError {
    /// A full or stopping queue is a 503 worth retrying later; a client's full share a 429
    /// (its own tasks must finish first); an unknown task a 404.
    fn from(err: server::tasks::QueueError) -> Self {
        use server::tasks::QueueError;
        match err {
            QueueError::Full { .. } | QueueError::ShuttingDown => {
                ApiError::new(ErrorCode::Unavailable, err.to_string())
            }
            QueueError::OwnerFull { .. } => ApiError::new(ErrorCode::RateLimited, err.to_string()),
            QueueError::Recent { .. } => ApiError::new(ErrorCode::Conflict, err.to_string()),
            QueueError::NotFound(id) => ApiError::not_found("task", &id.to_string()),
            QueueError::Store(e) => e.into(),
            QueueError::UnknownKind(_) | QueueError::Payload(_) => {
                tracing::error!("task queue refused a task: {err}");
                ApiError::internal()
            }
        }
    }
}
