//! `GET /api/health`: is the server up, which build is it, since when.

use dioxus::prelude::*;

use app::model::{ApiError, Health};

/// Reports version and uptime.
#[get("/api/health", state: app::backend::AppExt)]
pub async fn health() -> Result<Health, ApiError> {
    Ok(state.health())
}
