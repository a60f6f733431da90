//! The shared tier: an optional cache behind this instance's L1 and L2 that every instance
//! reads and fills, so a value one instance loaded is a hit for the others, and a cold key
//! asked for on all of them at once is loaded from the store once.
//!
//! The tier itself is a trait ([`SharedTier`]; the Redis one is `crate::shared::RedisTier`)
//! and the cache reaches it through a [`SharedCodec`] that the application writes: which
//! keys are shared (as text) and how values become bytes. Invalidation stays exact across
//! instances: a lookup returns, with a miss, a [`Stamp`] of the entry's tag versions, and a
//! store is kept only if no tag changed since, so a load that raced another instance's
//! write never lands in the tier. A tier that fails or is slow is skipped, never an error:
//! the value is loaded from the store as if there were no tier (and counted).

use std::{
    future::Future,
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering::Relaxed},
    },
    time::Duration,
};

use serde::Serialize;

use super::{LockError, NamedLocks};

/// What a [`SharedTier`] call returns.
pub type TierFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, TierError>> + Send + 'a>>;

/// The tier could not answer (down, slow, or a malformed reply).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("shared cache tier: {0}")]
pub struct TierError(pub String);

/// The versions of an entry's tags when it was looked up; opaque to the cache.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stamp(pub Vec<i64>);

/// What a lookup found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// The entry's bytes.
    Hit(Vec<u8>),
    /// Not there; give this stamp to the store that follows the load.
    Miss(Stamp),
}

/// A cache several instances share.
pub trait SharedTier: Send + Sync {
    /// The entry `key` (whose tags are `tags`), or the stamp to store it with.
    fn lookup<'a>(&'a self, key: &'a str, tags: &'a [String]) -> TierFuture<'a, Lookup>;

    /// Stores `value` for `ttl` under `tags` unless a tag changed since `stamp` was taken;
    /// true if it was stored.
    fn store<'a>(
        &'a self,
        key: &'a str,
        value: &'a [u8],
        ttl: Duration,
        tags: &'a [String],
        stamp: &'a Stamp,
    ) -> TierFuture<'a, bool>;
}

/// How the application's keys and values cross to the shared tier.
pub trait SharedCodec<K, V>: Send + Sync {
    /// The key as text, or `None` to keep this key out of the shared tier.
    fn key(&self, key: &K) -> Option<String>;
    /// The value as bytes (`None`: do not share it).
    fn encode(&self, value: &V) -> Option<Vec<u8>>;
    /// The value back (`None`: unreadable, treated as a miss).
    fn decode(&self, bytes: &[u8]) -> Option<V>;
}

/// A shared tier with what the cache needs to use it.
pub struct Shared<K, V> {
    /// The tier.
    pub tier: Arc<dyn SharedTier>,
    /// Keys and values as the tier stores them.
    pub codec: Arc<dyn SharedCodec<K, V>>,
    /// Locks every instance sees, so one of them loads a cold key while the others wait
    /// for its value (`None`: every instance that misses loads).
    pub locks: Option<Arc<dyn NamedLocks>>,
    /// Longest wait for another instance's load before loading anyway.
    pub lock_wait: Duration,
    /// How long a loader's lock outlives a crashed loader.
    pub lock_lease: Duration,
}

impl<K, V> Shared<K, V> {
    /// A tier with locks, waiting at most 2 s for another instance's load.
    pub fn new(
        tier: Arc<dyn SharedTier>,
        codec: Arc<dyn SharedCodec<K, V>>,
        locks: Option<Arc<dyn NamedLocks>>,
    ) -> Self {
        Self {
            tier,
            codec,
            locks,
            lock_wait: Duration::from_secs(2),
            lock_lease: Duration::from_secs(10),
        }
    }
}

/// Live counters of the shared tier.
#[derive(Default)]
pub(crate) struct SharedCounters {
    pub hits: AtomicU64,
    pub misses: AtomicU64,
    pub stores: AtomicU64,
    pub stale_stores: AtomicU64,
    pub errors: AtomicU64,
    pub lock_waits: AtomicU64,
    pub lock_timeouts: AtomicU64,
}

/// The shared tier at a moment (this instance's view).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SharedStats {
    /// Local misses the shared tier answered.
    pub hits: u64,
    /// Local misses it could not answer (then loaded from the store).
    pub misses: u64,
    /// Values this instance put in it.
    pub stores: u64,
    /// Values not put in it because a tag changed while they were loaded.
    pub stale_stores: u64,
    /// Calls that failed or timed out (the value was loaded from the store instead).
    pub errors: u64,
    /// Misses answered by another instance's load after waiting for its lock.
    pub lock_waits: u64,
    /// Lock waits that gave up and loaded anyway.
    pub lock_timeouts: u64,
    /// hits / (hits + misses).
    pub hit_ratio: f64,
}

impl SharedCounters {
    /// Counts a failed call; logs the 1st, 2nd, 4th, 8th… (an outage would flood the log).
    fn error(&self, what: &str) {
        let n = self.errors.fetch_add(1, Relaxed) + 1;
        if n.is_power_of_two() {
            tracing::warn!(errors = n, "{what}");
        }
    }

    pub fn snapshot(&self) -> SharedStats {
        let (hits, misses) = (self.hits.load(Relaxed), self.misses.load(Relaxed));
        SharedStats {
            hits,
            misses,
            stores: self.stores.load(Relaxed),
            stale_stores: self.stale_stores.load(Relaxed),
            errors: self.errors.load(Relaxed),
            lock_waits: self.lock_waits.load(Relaxed),
            lock_timeouts: self.lock_timeouts.load(Relaxed),
            hit_ratio: super::stats::ratio(hits, misses),
        }
    }
}

/// The outcome of asking the shared tier before loading.
pub(crate) enum Asked<V> {
    /// It had the value.
    Hit(V),
    /// Load, then store with this stamp (holding the guard, if any, until stored).
    Load(String, Stamp, Option<super::LockGuard>),
    /// The tier is not usable for this key now: load without it.
    Bypass,
}

/// How waiting for another instance's load ended.
enum Filled<V> {
    /// Its value arrived in the tier.
    Value(V),
    /// It let the lock go without a value: ours now.
    Lock(super::LockGuard),
    /// The tier stopped answering: load without it.
    Unusable,
    /// The locks stopped answering: load (and share) without one.
    NoLocks,
    /// It held the lock for the whole wait: load anyway.
    GaveUp,
}

impl<K, V> Shared<K, V> {
    async fn lookup(
        &self,
        key: &str,
        tags: &[String],
        counters: &SharedCounters,
    ) -> Option<Result<V, Stamp>> {
        match self.tier.lookup(key, tags).await {
            Ok(Lookup::Hit(bytes)) => match self.codec.decode(&bytes) {
                Some(v) => Some(Ok(v)),
                None => {
                    counters.error(&format!("unreadable value for {key} in the shared tier"));
                    None
                }
            },
            Ok(Lookup::Miss(stamp)) => Some(Err(stamp)),
            Err(e) => {
                counters.error(&format!("{e}; loading from the store"));
                None
            }
        }
    }

    /// Looks `key` up; on a miss takes the fill lock (waiting while another instance loads
    /// it) and looks again, so only the first instance to take the lock loads.
    pub(crate) async fn ask(
        &self,
        key: &K,
        tags: &[String],
        counters: &SharedCounters,
    ) -> Asked<V> {
        let Some(key) = self.codec.key(key) else {
            return Asked::Bypass;
        };
        let stamp = match self.lookup(&key, tags, counters).await {
            None => return Asked::Bypass,
            Some(Ok(v)) => {
                counters.hits.fetch_add(1, Relaxed);
                return Asked::Hit(v);
            }
            Some(Err(stamp)) => stamp,
        };
        let Some(locks) = &self.locks else {
            counters.misses.fetch_add(1, Relaxed);
            return Asked::Load(key, stamp, None);
        };
        let name = format!("fill:{key}");
        let guard = match locks.acquire(&name, self.lock_lease, Duration::ZERO).await {
            Ok(guard) => Some(guard),
            Err(LockError::Timeout { .. }) => {
                // Another instance is loading it: wait for its value.
                counters.lock_waits.fetch_add(1, Relaxed);
                match self
                    .wait_for_fill(&key, &name, tags, counters, &**locks)
                    .await
                {
                    Filled::Value(v) => {
                        counters.hits.fetch_add(1, Relaxed);
                        return Asked::Hit(v);
                    }
                    Filled::Lock(guard) => Some(guard),
                    Filled::Unusable => return Asked::Bypass,
                    Filled::NoLocks => None,
                    Filled::GaveUp => {
                        counters.lock_timeouts.fetch_add(1, Relaxed);
                        None
                    }
                }
            }
            Err(LockError::Unavailable(_)) => None,
        };
        // Looked up again under the lock: a loader that held it since the first lookup has
        // stored its value (unless it failed or its value raced a write).
        match self.lookup(&key, tags, counters).await {
            None => Asked::Bypass,
            Some(Ok(v)) => {
                counters.hits.fetch_add(1, Relaxed);
                Asked::Hit(v)
            }
            Some(Err(stamp)) => {
                counters.misses.fetch_add(1, Relaxed);
                Asked::Load(key, stamp, guard)
            }
        }
    }

    /// While another instance holds the fill lock of `key`: looks the value up again after
    /// 1, 2, 4 ms and then every 5 ms, so a waiter sees the loader's store within a
    /// round trip or two instead of when the lock is next free (the lock alone made a
    /// fresh read after a write take 25 ms at the median through the balancer, 3 ms
    /// without the tier: `cargo xtask bench-http --only shared`). Takes the lock if the
    /// loader let it go without storing (a failed load or a value that raced a write).
    async fn wait_for_fill(
        &self,
        key: &str,
        name: &str,
        tags: &[String],
        counters: &SharedCounters,
        locks: &dyn NamedLocks,
    ) -> Filled<V> {
        let started = tokio::time::Instant::now();
        let mut pause = Duration::from_millis(1);
        loop {
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(5));
            match self.lookup(key, tags, counters).await {
                None => return Filled::Unusable,
                Some(Ok(v)) => return Filled::Value(v),
                Some(Err(_)) => {}
            }
            match locks.acquire(name, self.lock_lease, Duration::ZERO).await {
                Ok(guard) => return Filled::Lock(guard),
                Err(LockError::Timeout { .. }) => {}
                Err(LockError::Unavailable(_)) => return Filled::NoLocks,
            }
            if started.elapsed() >= self.lock_wait {
                return Filled::GaveUp;
            }
        }
    }

    /// Puts a loaded value in the tier (unless a tag changed since `stamp`).
    pub(crate) async fn store(
        &self,
        key: &str,
        value: &V,
        ttl: Duration,
        tags: &[String],
        stamp: &Stamp,
        counters: &SharedCounters,
    ) {
        let Some(bytes) = self.codec.encode(value) else {
            return;
        };
        match self.tier.store(key, &bytes, ttl, tags, stamp).await {
            Ok(true) => {
                counters.stores.fetch_add(1, Relaxed);
            }
            Ok(false) => {
                counters.stale_stores.fetch_add(1, Relaxed);
            }
            Err(e) => counters.error(&format!("{e}; value not shared")),
        }
    }
}
