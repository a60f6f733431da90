//! The tiered cache: L1 hot and L2 warm on moka, optionally a tier shared by every instance
//! behind them, with typed policies, tags, miss coalescing, named locks and statistics.
//!
//! Two decisions shape it. Invalidation is by tag and exact: a read that starts after an
//! invalidation returns never sees the old value, even when a load that read the database
//! before the write finishes afterwards. And it knows nothing of what it stores: keys,
//! values and policies are the application's types.

mod lock;
mod policy;
mod shared;
mod stats;
mod tags;
mod tiered;

pub use lock::{LocalLocks, LockError, LockGuard, NamedLocks, run_exclusive};
pub use policy::CachePolicy;
pub use shared::{
    Lookup, Shared, SharedCodec, SharedStats, SharedTier, Stamp, TierError, TierFuture,
};
pub use stats::{CacheStats, PolicyStats, TierStats};
pub use tiered::{Capacity, TieredCache, TieredCacheBuilder};

#[cfg(test)]
mod tests;
