//! The two-tier cache: L1 hot (small, short-lived) in front of L2 warm (larger, longer).
//!
//! Both tiers are moka caches (TinyLFU admission, so one-off keys do not flush hot ones).
//! Reads check L1, then L2 and promote L2 hits into L1; loads fill both. Concurrent misses of
//! one key share a single load; a failed load is not cached and every waiter gets its error.
//! Tags make invalidation exact: see [`super::tags`] for how a load that raced a write is
//! kept out. Loading misses is in [`load`].

mod load;

use std::{
    collections::HashMap,
    hash::Hash,
    sync::{
        Arc, Mutex, Weak,
        atomic::{AtomicU64, Ordering::Relaxed},
    },
    time::{Duration, Instant},
};

use moka::{Expiry, notification::RemovalCause, sync::Cache};

use load::Flight;

use super::{
    CachePolicy, CacheStats, Shared,
    shared::SharedCounters,
    stats::{PolicyCounters, TierCounters},
    tags::{ALL, TagIndex},
};

/// How a tier's capacity is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capacity {
    /// At most this many entries.
    Entries(u64),
    /// At most this many bytes, as reported by the builder's weigher.
    Bytes(u64),
}

impl Capacity {
    fn limit(self) -> u64 {
        match self {
            Self::Entries(n) | Self::Bytes(n) => n,
        }
    }
}

type Weigher<K, V> = Arc<dyn Fn(&K, &V) -> u32 + Send + Sync>;

#[derive(Clone)]
struct Entry<V, P> {
    value: V,
    policy: P,
    tags: Arc<[String]>,
    /// Tag epoch when the load that produced this value started.
    epoch: u64,
    ttl: Duration,
}

struct TierExpiry {
    cap: Duration,
}

impl<K, V, P> Expiry<K, Entry<V, P>> for TierExpiry {
    fn expire_after_create(&self, _: &K, e: &Entry<V, P>, _: Instant) -> Option<Duration> {
        Some(e.ttl.min(self.cap))
    }
    fn expire_after_update(
        &self,
        _: &K,
        e: &Entry<V, P>,
        _: Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        Some(e.ttl.min(self.cap))
    }
}

struct Inner<K, V, P: CachePolicy> {
    l1: Cache<K, Entry<V, P>>,
    l2: Cache<K, Entry<V, P>>,
    l1_counters: Arc<TierCounters>,
    l2_counters: Arc<TierCounters>,
    l1_capacity: Capacity,
    l2_capacity: Capacity,
    ttls: HashMap<P, Duration>,
    policies: HashMap<P, PolicyCounters>,
    tags: Mutex<TagIndex<K>>,
    flights: Mutex<HashMap<K, Flight>>,
    tag_invalidations: AtomicU64,
    shared: Option<Shared<K, V>>,
    shared_counters: SharedCounters,
}

/// A tiered cache from `K` to `V`, with entries typed by policy `P`.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// use std::time::Duration;
/// use server::cache::{CachePolicy, TieredCache};
///
/// #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
/// enum Kind { Profile }
/// impl CachePolicy for Kind {
///     const ALL: &'static [Self] = &[Kind::Profile];
///     fn ttl(&self) -> Duration { Duration::from_secs(60) }
///     fn name(&self) -> &'static str { "profile" }
/// }
///
/// let cache: TieredCache<u64, String, Kind> = TieredCache::builder().build();
/// let tags = vec!["user:7".to_string()];
/// let v = cache
///     .get_or_load(7, Kind::Profile, &tags, || async { Ok::<_, String>("Ada".to_string()) })
///     .await
///     .unwrap();
/// assert_eq!(v, "Ada");
/// assert_eq!(cache.get(&7).as_deref(), Some("Ada"));
/// cache.invalidate_tag("user:7");
/// assert_eq!(cache.get(&7), None);
/// # });
/// ```
pub struct TieredCache<K, V, P: CachePolicy> {
    inner: Arc<Inner<K, V, P>>,
}

impl<K, V, P: CachePolicy> Clone for TieredCache<K, V, P> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
        }
    }
}

/// Builder with the defaults of the design: L1 100 entries / 300 s, L2 1,000 entries / 3,600 s.
pub struct TieredCacheBuilder<K, V, P> {
    l1: Capacity,
    l1_ttl: Duration,
    l2: Capacity,
    l2_ttl: Duration,
    ttls: HashMap<P, Duration>,
    weigher: Option<Weigher<K, V>>,
    shared: Option<Shared<K, V>>,
}

impl<K, V, P> TieredCacheBuilder<K, V, P>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
    P: CachePolicy,
{
    /// L1 (hot) capacity.
    pub fn l1_capacity(mut self, c: Capacity) -> Self {
        self.l1 = c;
        self
    }
    /// Longest life of an L1 entry.
    pub fn l1_ttl(mut self, ttl: Duration) -> Self {
        self.l1_ttl = ttl;
        self
    }
    /// L2 (warm) capacity.
    pub fn l2_capacity(mut self, c: Capacity) -> Self {
        self.l2 = c;
        self
    }
    /// Longest life of an L2 entry.
    pub fn l2_ttl(mut self, ttl: Duration) -> Self {
        self.l2_ttl = ttl;
        self
    }
    /// Overrides one policy's time to live.
    pub fn ttl(mut self, policy: P, ttl: Duration) -> Self {
        self.ttls.insert(policy, ttl);
        self
    }
    /// Weighs entries (in bytes) for [`Capacity::Bytes`].
    pub fn weigher(mut self, w: impl Fn(&K, &V) -> u32 + Send + Sync + 'static) -> Self {
        self.weigher = Some(Arc::new(w));
        self
    }

    /// Puts a tier shared with other instances behind L2: misses ask it before loading,
    /// and loads fill it (see [`super::SharedTier`]).
    pub fn shared(mut self, shared: Shared<K, V>) -> Self {
        self.shared = Some(shared);
        self
    }

    /// Builds the cache.
    pub fn build(self) -> TieredCache<K, V, P> {
        let l1_counters = Arc::new(TierCounters::default());
        let l2_counters = Arc::new(TierCounters::default());
        let tier = |cap: Capacity, ttl: Duration, counters: Arc<TierCounters>| {
            let mut b = Cache::builder()
                .max_capacity(cap.limit())
                .expire_after(TierExpiry { cap: ttl })
                .eviction_listener(move |_k, _v, cause| match cause {
                    RemovalCause::Size => {
                        counters.evictions.fetch_add(1, Relaxed);
                    }
                    RemovalCause::Expired => {
                        counters.expirations.fetch_add(1, Relaxed);
                    }
                    RemovalCause::Explicit | RemovalCause::Replaced => {}
                });
            if let (Capacity::Bytes(_), Some(w)) = (cap, &self.weigher) {
                let w = w.clone();
                b = b.weigher(move |k: &K, e: &Entry<V, P>| w(k, &e.value));
            }
            b.build()
        };
        let ttls = P::ALL
            .iter()
            .map(|p| (*p, self.ttls.get(p).copied().unwrap_or_else(|| p.ttl())))
            .collect();
        TieredCache {
            inner: Arc::new(Inner {
                l1: tier(self.l1, self.l1_ttl, l1_counters.clone()),
                l2: tier(self.l2, self.l2_ttl, l2_counters.clone()),
                l1_counters,
                l2_counters,
                l1_capacity: self.l1,
                l2_capacity: self.l2,
                ttls,
                policies: P::ALL
                    .iter()
                    .map(|p| (*p, PolicyCounters::default()))
                    .collect(),
                tags: Mutex::new(TagIndex::new()),
                flights: Mutex::new(HashMap::new()),
                tag_invalidations: AtomicU64::new(0),
                shared: self.shared,
                shared_counters: SharedCounters::default(),
            }),
        }
    }
}

impl<K, V, P> TieredCache<K, V, P>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
    P: CachePolicy,
{
    /// A builder with the default capacities and time-to-live caps.
    pub fn builder() -> TieredCacheBuilder<K, V, P> {
        TieredCacheBuilder {
            l1: Capacity::Entries(100),
            l1_ttl: Duration::from_secs(300),
            l2: Capacity::Entries(1_000),
            l2_ttl: Duration::from_secs(3_600),
            ttls: HashMap::new(),
            weigher: None,
            shared: None,
        }
    }

    fn policy(&self, p: P) -> &PolicyCounters {
        self.inner.policies.get(&p).expect("every policy is in ALL")
    }

    /// The cached value, from L1 or (promoting it) from L2.
    pub fn get(&self, key: &K) -> Option<V> {
        let inner = &*self.inner;
        if let Some(e) = inner.l1.get(key) {
            inner.l1_counters.hits.fetch_add(1, Relaxed);
            self.policy(e.policy).hits.fetch_add(1, Relaxed);
            return Some(e.value);
        }
        inner.l1_counters.misses.fetch_add(1, Relaxed);
        if let Some(e) = inner.l2.get(key) {
            inner.l2_counters.hits.fetch_add(1, Relaxed);
            self.policy(e.policy).hits.fetch_add(1, Relaxed);
            let tags = inner.tags.lock().unwrap_or_else(|p| p.into_inner());
            if tags.invalidated_since(&e.tags, e.epoch) {
                // Invalidated between the L2 read and now: serve it (the read began first)
                // but do not spread it.
                return Some(e.value);
            }
            inner.l1.insert(key.clone(), e.clone());
            inner.l1_counters.inserts.fetch_add(1, Relaxed);
            return Some(e.value);
        }
        inner.l2_counters.misses.fetch_add(1, Relaxed);
        None
    }

    /// Stores `value` in both tiers under `tags`.
    pub fn insert(&self, key: K, value: V, policy: P, tags: &[String]) {
        self.insert_since(key, value, policy, tags, self.epoch());
    }

    /// The invalidation epoch now: take it before producing a value, and give it to
    /// [`Self::insert_since`], so a value produced across an invalidation is not kept.
    pub fn epoch(&self) -> u64 {
        self.inner
            .tags
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .epoch()
    }

    /// Stores `value` unless one of `tags` was invalidated after `epoch`.
    pub fn insert_since(&self, key: K, value: V, policy: P, tags: &[String], epoch: u64) {
        self.insert_at(key, value, policy, tags.into(), epoch);
    }

    fn insert_at(&self, key: K, value: V, policy: P, tags: Arc<[String]>, epoch: u64) {
        let inner = &*self.inner;
        let mut index = inner.tags.lock().unwrap_or_else(|p| p.into_inner());
        if index.invalidated_since(&tags, epoch) {
            return;
        }
        index.register(&key, &tags);
        let ttl = self.ttl_of(policy);
        let entry = Entry {
            value,
            policy,
            tags,
            epoch,
            ttl,
        };
        inner.l2.insert(key.clone(), entry.clone());
        inner.l1.insert(key, entry);
        inner.l1_counters.inserts.fetch_add(1, Relaxed);
        inner.l2_counters.inserts.fetch_add(1, Relaxed);
    }

    fn ttl_of(&self, policy: P) -> Duration {
        self.inner
            .ttls
            .get(&policy)
            .copied()
            .unwrap_or_else(|| policy.ttl())
    }

    /// Removes one key from both tiers.
    pub fn invalidate(&self, key: &K) {
        let inner = &*self.inner;
        let _index = inner.tags.lock().unwrap_or_else(|p| p.into_inner());
        if inner.l1.remove(key).is_some() {
            inner.l1_counters.invalidations.fetch_add(1, Relaxed);
        }
        if inner.l2.remove(key).is_some() {
            inner.l2_counters.invalidations.fetch_add(1, Relaxed);
        }
        if let Some(f) = inner
            .flights
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(key)
        {
            f.stale.store(true, Relaxed);
        }
    }

    /// Removes every entry carrying `tag` from every tier; loads in flight for such entries
    /// will not be cached. Returns how many keys carried the tag.
    pub fn invalidate_tag(&self, tag: &str) -> usize {
        let inner = &*self.inner;
        let mut index = inner.tags.lock().unwrap_or_else(|p| p.into_inner());
        let (_, keys) = index.invalidate(tag);
        {
            let mut flights = inner.flights.lock().unwrap_or_else(|p| p.into_inner());
            flights.retain(|_, f| {
                let hit = tag == ALL || f.tags.iter().any(|t| t == tag);
                if hit {
                    f.stale.store(true, Relaxed);
                }
                !hit
            });
        }
        for key in &keys {
            if inner.l1.remove(key).is_some() {
                inner.l1_counters.invalidations.fetch_add(1, Relaxed);
            }
            if inner.l2.remove(key).is_some() {
                inner.l2_counters.invalidations.fetch_add(1, Relaxed);
            }
        }
        inner.tag_invalidations.fetch_add(1, Relaxed);
        keys.len()
    }

    /// Empties both tiers.
    pub fn clear(&self) {
        self.invalidate_tag(ALL);
        let inner = &*self.inner;
        let _index = inner.tags.lock().unwrap_or_else(|p| p.into_inner());
        inner.l1.invalidate_all();
        inner.l2.invalidate_all();
    }

    /// Runs moka's pending maintenance (expiry, eviction) and forgets tags of entries that
    /// are gone, so idle memory is returned.
    pub fn sweep(&self) {
        let inner = &*self.inner;
        inner.l1.run_pending_tasks();
        inner.l2.run_pending_tasks();
        let mut index = inner.tags.lock().unwrap_or_else(|p| p.into_inner());
        index.prune(|k| inner.l1.contains_key(k) || inner.l2.contains_key(k));
    }

    /// Sweeps every `every` in the background until the cache is dropped.
    pub fn spawn_sweeper(&self, every: Duration) -> tokio::task::JoinHandle<()> {
        let weak: Weak<Inner<K, V, P>> = Arc::downgrade(&self.inner);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let Some(inner) = weak.upgrade() else { return };
                TieredCache { inner }.sweep();
            }
        })
    }

    /// Counters per tier and per policy.
    pub fn stats(&self) -> CacheStats {
        let inner = &*self.inner;
        CacheStats {
            tiers: vec![
                inner.l1_counters.snapshot(
                    "l1",
                    inner.l1.entry_count(),
                    inner.l1.weighted_size(),
                    inner.l1_capacity.limit(),
                ),
                inner.l2_counters.snapshot(
                    "l2",
                    inner.l2.entry_count(),
                    inner.l2.weighted_size(),
                    inner.l2_capacity.limit(),
                ),
            ],
            policies: P::ALL
                .iter()
                .map(|p| {
                    let ttl = inner.ttls.get(p).copied().unwrap_or_else(|| p.ttl());
                    self.policy(*p).snapshot(p.name(), ttl.as_secs())
                })
                .collect(),
            tag_invalidations: inner.tag_invalidations.load(Relaxed),
            loads_in_flight: inner
                .flights
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .len() as u64,
            shared: inner
                .shared
                .as_ref()
                .map(|_| inner.shared_counters.snapshot()),
        }
    }
}
