//! What several instances share through Redis: cache invalidations and live events
//! ([`SharedBus`]), rate limits ([`SharedLimits`]) and named locks ([`RedisLocks`]). Each part works without Redis too, falling back to what one
//! instance can do alone, so a Redis outage never reaches clients as an error.

mod bus;
mod limits;
mod local_redis;
mod locks;
#[cfg(test)]
mod tests;

pub use bus::{BusMessage, PUBLISH_TIMEOUT, SharedBus, SharedError};
pub use limits::{LIMIT_TIMEOUT, SharedDecision, SharedLimits};
pub use local_redis::LocalRedis;
pub use locks::RedisLocks;
