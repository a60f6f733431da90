//! The deciding half of the request cache: which values are fresh, stale or missing, what
//! is loading, optimistic updates with their rollback, eviction, and when to retry. Plain
//! data on a manual clock, unit-tested natively; `super` wires it to Dioxus.

use std::collections::HashMap;

use app::model::{ApiError, ErrorCode};

use crate::hooks::clock::Millis;

/// How many values the cache keeps at most.
pub const MAX_ENTRIES: usize = 500;
/// A value younger than this is shown without a request.
pub const STALE_TIME: Millis = 30_000.0;
/// A value unused for this long is forgotten.
pub const CACHE_TIME: Millis = 5.0 * 60_000.0;

/// What the cache has for a key.
#[derive(Debug, Clone, PartialEq)]
pub enum Lookup<V> {
    /// Young enough: use it, no request.
    Fresh(V),
    /// Show it, and revalidate in the background.
    Stale(V),
    /// Load it.
    Missing,
}

#[derive(Debug, Clone)]
struct Entry<V> {
    value: V,
    fetched_at: Millis,
    invalidated: bool,
    last_used: Millis,
}

/// The cache's state: values, their age and what is being loaded.
#[derive(Debug)]
pub struct QueryCache<V> {
    entries: HashMap<String, Entry<V>>,
    loading: HashMap<String, u32>,
    max_entries: usize,
}

/// The value a key had before an optimistic update, to put back if the write fails.
#[derive(Debug, Clone)]
pub struct Snapshot<V> {
    key: String,
    before: Option<(V, Millis)>,
}

impl<V: Clone> QueryCache<V> {
    /// An empty cache holding at most `max_entries` values.
    pub fn new(max_entries: usize) -> Self {
        Self {
            entries: HashMap::new(),
            loading: HashMap::new(),
            max_entries,
        }
    }

    /// What there is for `key` at `now`; marks it used.
    pub fn lookup(&mut self, key: &str, now: Millis, stale_time: Millis) -> Lookup<V> {
        match self.entries.get_mut(key) {
            None => Lookup::Missing,
            Some(e) => {
                e.last_used = now;
                if e.invalidated || now - e.fetched_at >= stale_time {
                    Lookup::Stale(e.value.clone())
                } else {
                    Lookup::Fresh(e.value.clone())
                }
            }
        }
    }

    /// Starts a load of `key`: `true` if this caller should make the request, `false` if
    /// one is already under way and the caller should wait for it.
    pub fn begin(&mut self, key: &str) -> bool {
        let n = self.loading.entry(key.to_owned()).or_insert(0);
        *n += 1;
        *n == 1
    }

    /// Whether a load of `key` is under way.
    pub fn is_loading(&self, key: &str) -> bool {
        self.loading.contains_key(key)
    }

    /// A load ended; with a value, it is stored as fresh.
    pub fn settle(&mut self, key: &str, value: Option<V>, now: Millis) {
        self.loading.remove(key);
        if let Some(value) = value {
            self.store(key, value, now);
        }
    }

    fn store(&mut self, key: &str, value: V, now: Millis) {
        self.entries.insert(
            key.to_owned(),
            Entry {
                value,
                fetched_at: now,
                invalidated: false,
                last_used: now,
            },
        );
        self.evict(now, CACHE_TIME);
    }

    /// Stores `value` unless the key already has one (hydration: the server's value).
    pub fn seed(&mut self, key: &str, value: V, now: Millis) {
        if !self.entries.contains_key(key) {
            self.store(key, value, now);
        }
    }

    /// Marks every key starting with `prefix` stale; returns how many.
    pub fn invalidate(&mut self, prefix: &str) -> usize {
        let mut n = 0;
        for (key, e) in &mut self.entries {
            if key.starts_with(prefix) {
                e.invalidated = true;
                n += 1;
            }
        }
        n
    }

    /// Replaces the value of `key` (if cached) with `f(value)`, keeping its age; for a
    /// write whose answer says exactly what changed.
    pub fn update(&mut self, key: &str, f: impl FnOnce(&V) -> V) -> bool {
        match self.entries.get_mut(key) {
            Some(e) => {
                e.value = f(&e.value);
                true
            }
            None => false,
        }
    }

    /// Shows `value` for `key` before the server confirms it.
    pub fn optimistic(&mut self, key: &str, value: V, now: Millis) -> Snapshot<V> {
        let before = self
            .entries
            .get(key)
            .map(|e| (e.value.clone(), e.fetched_at));
        self.store(key, value, now);
        Snapshot {
            key: key.to_owned(),
            before,
        }
    }

    /// Puts back what an optimistic update replaced.
    pub fn rollback(&mut self, snapshot: Snapshot<V>) {
        match snapshot.before {
            Some((value, fetched_at)) => {
                if let Some(e) = self.entries.get_mut(&snapshot.key) {
                    e.value = value;
                    e.fetched_at = fetched_at;
                } else {
                    self.store(&snapshot.key, value, fetched_at);
                }
            }
            None => {
                self.entries.remove(&snapshot.key);
            }
        }
    }

    /// Forgets values unused for `cache_time`, then the least recently used beyond the bound.
    pub fn evict(&mut self, now: Millis, cache_time: Millis) {
        self.entries.retain(|_, e| now - e.last_used < cache_time);
        // Usually one over the bound (one value stored at a time): a scan per eviction
        // rather than a sort.
        while self.entries.len() > self.max_entries {
            let oldest = self
                .entries
                .iter()
                .min_by(|a, b| a.1.last_used.total_cmp(&b.1.last_used))
                .map(|(k, _)| k.clone());
            match oldest {
                Some(key) => self.entries.remove(&key),
                None => break,
            };
        }
    }

    /// How many values are cached.
    pub fn len(&self) -> usize {
        self.entries.len()
    }
}

/// How long to wait before retry number `attempt` (0-based) after `error`; `None` to give
/// up. Only failures a retry can fix are retried: the network and 503; never a 4xx.
pub fn retry_delay(attempt: u32, error: &ApiError) -> Option<Millis> {
    let retryable = matches!(error.code(), ErrorCode::Network | ErrorCode::Unavailable);
    (retryable && attempt < 3).then(|| 1_000.0 * f64::from(1u32 << attempt))
}
