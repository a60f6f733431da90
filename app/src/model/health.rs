//! The answer of `GET /api/health`.

use serde::{Deserialize, Serialize};

/// What the server reports about itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Health {
    /// Always `"ok"` when the server answers at all.
    pub status: String,
    /// The crate version of the running build.
    pub version: String,
    /// Seconds since the server started.
    pub uptime_secs: u64,
}
