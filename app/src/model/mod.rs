//! Serde types shared by client and server: what travels over the wire.

mod error;
mod health;

#[cfg_attr(not(feature = "server"), allow(unused_imports))]
pub use error::{ApiError, ErrorCode};
pub use health::Health;
