//! Server-only domain code: configuration, application state, the SQL repositories for
//! stories and nodes, demo data, and the HTTP glue that gives API errors their shape.

pub mod admin;
pub mod alerts;
pub mod api_errors;
pub mod bundle;
pub mod cache;
pub mod config;
pub mod demo;
pub mod history;
pub mod history_days;
pub mod http;
pub mod jobs;
mod library;
pub mod media;
pub mod nodes;
pub mod notifications;
pub mod reads;
pub mod schema;
pub mod search_index;
pub mod session;
mod snapshot;
pub mod state;
pub mod stories;
pub mod time;
pub mod vitals;
pub mod vitals_score;

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
    /// without it (or 503 when the database was busy, which is worth a retry).
    fn from(err: StoreError) -> Self {
        if err.is_busy() {
            tracing::warn!("database busy: {err}");
            return ApiError::new(
                ErrorCode::Unavailable,
                "the database is busy; try again in a moment",
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
    /// A full or stopping queue is a 503 worth retrying later; an unknown task a 404.
    fn from(err: server::tasks::QueueError) -> Self {
        use server::tasks::QueueError;
        match err {
            QueueError::Full { .. } | QueueError::ShuttingDown => {
                ApiError::new(ErrorCode::Unavailable, err.to_string())
            }
            QueueError::NotFound(id) => ApiError::not_found("task", &id.to_string()),
            QueueError::Store(e) => e.into(),
            QueueError::UnknownKind(_) | QueueError::Payload(_) => {
                tracing::error!("task queue refused a task: {err}");
                ApiError::internal()
            }
        }
    }
}
