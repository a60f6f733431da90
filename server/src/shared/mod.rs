//! What several instances share through Redis: cache invalidations ([`SharedBus`]) and rate
//! limits ([`SharedLimits`]). Each part works without Redis too, falling back to what one
//! instance can do alone, so a Redis outage never reaches clients as an error.

mod bus;
mod limits;

pub use bus::{BusMessage, PUBLISH_TIMEOUT, SharedBus, SharedError};
pub use limits::{LIMIT_TIMEOUT, SharedDecision, SharedLimits};
