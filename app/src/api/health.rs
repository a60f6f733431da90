//! `GET /api/health`: is the server up, which build is it, since when.

use dioxus::prelude::*;

use app::model::{ApiError, Health};

/// Reports version and uptime.
#[cfg_attr(feature = "server", utoipa::path(
    get, path = "/api/health", tag = "health",
    responses((status = 200, description = "The server is up.", body = Health))
))]
#[get("/api/health", state: app::backend::AppExt)]
pub async fn health() -> Result<Health, ApiError> {
    Ok(state.health())
}
