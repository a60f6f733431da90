//! What several instances share through Redis: cache invalidations and live events
//! ([`SharedBus`]), a cache tier ([`RedisTier`]), rate limits ([`SharedLimits`]) and named
//! locks ([`RedisLocks`]). Each part works without Redis too, falling back to what one
//! instance can do alone, so a Redis outage never reaches clients as an error. For tests and
//! local runs: a `redis-server` ([`LocalRedis`]) and an HAProxy ([`LocalBalancer`]) of our own.

mod bus;
mod limits;
mod local_balancer;
mod local_redis;
mod locks;
mod owed;
#[cfg(test)]
mod tests;
mod tier;

pub use bus::{BusMessage, PUBLISH_TIMEOUT, SharedBus, SharedError};
pub use limits::{LIMIT_TIMEOUT, SharedDecision, SharedLimits};
pub use local_balancer::{HAPROXY_TEMPLATE, LocalBalancer, haproxy_config};
pub use local_redis::LocalRedis;
pub use locks::RedisLocks;
pub use owed::MAX_OWED_TAGS;
pub use tier::{MAX_TTL, RedisTier, TIER_BACKOFF, TIER_TIMEOUT};
