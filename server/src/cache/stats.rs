//! Counters of the cache, per tier and per policy, read as snapshots.
//!
//! Counters are relaxed atomics: a snapshot is a consistent-enough picture for a dashboard,
//! and counting never contends with the lookups it counts.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use serde::Serialize;

/// Live counters of one tier.
#[derive(Default)]
pub(crate) struct TierCounters {
    pub hits: AtomicU64,
    pub misses: AtomicU64,
    pub inserts: AtomicU64,
    pub evictions: AtomicU64,
    pub expirations: AtomicU64,
    pub invalidations: AtomicU64,
}

/// Live counters of one policy.
#[derive(Default)]
pub(crate) struct PolicyCounters {
    pub hits: AtomicU64,
    pub misses: AtomicU64,
    pub loads: AtomicU64,
    pub load_errors: AtomicU64,
}

/// One tier at a moment.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TierStats {
    /// `l1` or `l2`.
    pub tier: &'static str,
    /// Lookups answered by this tier.
    pub hits: u64,
    /// Lookups this tier could not answer.
    pub misses: u64,
    /// Entries written.
    pub inserts: u64,
    /// Entries pushed out to make room (capacity).
    pub evictions: u64,
    /// Entries that outlived their time to live.
    pub expirations: u64,
    /// Entries removed by invalidation (tags, keys, clear).
    pub invalidations: u64,
    /// Entries held now.
    pub entries: u64,
    /// Weighted size held now (entries, or bytes with a weigher).
    pub weighted_size: u64,
    /// Capacity in the same unit.
    pub capacity: u64,
    /// hits / (hits + misses), 0 when idle.
    pub hit_ratio: f64,
}

/// One policy at a moment.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PolicyStats {
    /// The policy's name.
    pub policy: &'static str,
    /// Its time to live in seconds.
    pub ttl_secs: u64,
    /// Lookups answered by any tier.
    pub hits: u64,
    /// Lookups that went to the loader (or waited for one).
    pub misses: u64,
    /// Loader runs (coalesced misses count once).
    pub loads: u64,
    /// Loader runs that failed (never cached).
    pub load_errors: u64,
    /// hits / (hits + misses).
    pub hit_ratio: f64,
}

/// The whole cache at a moment.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CacheStats {
    /// L1 then L2.
    pub tiers: Vec<TierStats>,
    /// Every policy.
    pub policies: Vec<PolicyStats>,
    /// Tags invalidated since start.
    pub tag_invalidations: u64,
    /// Loads in flight now.
    pub loads_in_flight: u64,
    /// The tier shared with other instances, when there is one.
    pub shared: Option<super::SharedStats>,
}

pub(crate) fn ratio(hits: u64, misses: u64) -> f64 {
    if hits + misses == 0 {
        0.0
    } else {
        hits as f64 / (hits + misses) as f64
    }
}

impl TierCounters {
    pub fn snapshot(
        &self,
        tier: &'static str,
        entries: u64,
        weighted: u64,
        capacity: u64,
    ) -> TierStats {
        let (hits, misses) = (self.hits.load(Relaxed), self.misses.load(Relaxed));
        TierStats {
            tier,
            hits,
            misses,
            inserts: self.inserts.load(Relaxed),
            evictions: self.evictions.load(Relaxed),
            expirations: self.expirations.load(Relaxed),
            invalidations: self.invalidations.load(Relaxed),
            entries,
            weighted_size: weighted,
            capacity,
            hit_ratio: ratio(hits, misses),
        }
    }
}

impl PolicyCounters {
    pub fn snapshot(&self, policy: &'static str, ttl_secs: u64) -> PolicyStats {
        let (hits, misses) = (self.hits.load(Relaxed), self.misses.load(Relaxed));
        PolicyStats {
            policy,
            ttl_secs,
            hits,
            misses,
            loads: self.loads.load(Relaxed),
            load_errors: self.load_errors.load(Relaxed),
            hit_ratio: ratio(hits, misses),
        }
    }
}
