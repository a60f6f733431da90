//! Loading misses: concurrent misses of one key share a single load (a flight), and the
//! leader of a flight goes through the shared tier, when there is one, before the loader.

use std::{
    future::Future,
    hash::Hash,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering::Relaxed},
    },
};

use tokio::sync::watch;

use super::{Inner, TieredCache};
use crate::cache::{CachePolicy, shared::Asked};

/// A load in progress that later callers can wait for.
pub(super) struct Flight {
    pub(super) tags: Arc<[String]>,
    pub(super) stale: Arc<AtomicBool>,
    /// A `watch::Receiver<Option<Result<V, E>>>`, typed by the caller.
    pub(super) result: Arc<dyn std::any::Any + Send + Sync>,
}

/// Removes a flight from the map when its leader finishes or is cancelled.
struct FlightGuard<'a, K: Hash + Eq, V, P: CachePolicy> {
    inner: &'a Inner<K, V, P>,
    key: K,
    stale: Arc<AtomicBool>,
}

impl<K: Hash + Eq, V, P: CachePolicy> Drop for FlightGuard<'_, K, V, P> {
    fn drop(&mut self) {
        let mut flights = self.inner.flights.lock().unwrap_or_else(|p| p.into_inner());
        if flights
            .get(&self.key)
            .is_some_and(|f| Arc::ptr_eq(&f.stale, &self.stale))
        {
            flights.remove(&self.key);
        }
    }
}

impl<K, V, P> TieredCache<K, V, P>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
    P: CachePolicy,
{
    /// The cached value, or the result of `load` (run once for all concurrent callers of the
    /// same key), cached under `policy` and `tags` if it succeeded and no tag was invalidated
    /// while it ran.
    pub async fn get_or_load<E, F, Fut>(
        &self,
        key: K,
        policy: P,
        tags: &[String],
        load: F,
    ) -> Result<V, E>
    where
        E: Clone + Send + Sync + 'static,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<V, E>>,
    {
        if let Some(v) = self.get(&key) {
            return Ok(v);
        }
        let mut load = Some(load);
        let mut first = true;
        loop {
            // Join a flight for this key, or start one.
            let joined = {
                let mut flights = self.inner.flights.lock().unwrap_or_else(|p| p.into_inner());
                // Counted here, under the lock, so that once `misses` says N every one of the
                // N callers has joined or started a flight (the tests rely on it).
                if std::mem::take(&mut first) {
                    self.policy(policy).misses.fetch_add(1, Relaxed);
                }
                match flights.get(&key) {
                    Some(f) => match f
                        .result
                        .downcast_ref::<watch::Receiver<Option<Result<V, E>>>>()
                    {
                        Some(rx) => Ok(rx.clone()),
                        None => Err(None),
                    },
                    None => {
                        // A flight may have ended between this caller's miss and now. Its
                        // value went into L1 before the flight was removed, so look there
                        // rather than load again. (L1 only: `get` could take the tag lock,
                        // which `invalidate` takes before this one.)
                        if let Some(e) = self.inner.l1.get(&key) {
                            return Ok(e.value);
                        }
                        let (tx, rx) = watch::channel(None);
                        let stale = Arc::new(AtomicBool::new(false));
                        flights.insert(
                            key.clone(),
                            Flight {
                                tags: tags.into(),
                                stale: stale.clone(),
                                result: Arc::new(rx),
                            },
                        );
                        Err(Some((tx, stale)))
                    }
                }
            };
            match joined {
                Ok(mut rx) => {
                    // Wait for the leader; if it was cancelled, try again.
                    if let Ok(done) = rx.wait_for(Option::is_some).await {
                        return (*done).clone().expect("waited for Some");
                    }
                    if let Some(v) = self.get(&key) {
                        return Ok(v);
                    }
                }
                Err(leader) => {
                    let epoch = self.epoch();
                    let load = load
                        .take()
                        .expect("a caller leads at most once: it returns after leading");
                    let guard = leader.as_ref().map(|(_, stale)| FlightGuard {
                        inner: &self.inner,
                        key: key.clone(),
                        stale: stale.clone(),
                    });
                    let result = self.load_through(&key, policy, tags, load).await;
                    match &result {
                        Ok(v) => {
                            let stale = leader.as_ref().is_some_and(|(_, s)| s.load(Relaxed));
                            if !stale {
                                self.insert_at(key.clone(), v.clone(), policy, tags.into(), epoch);
                            }
                        }
                        Err(_) => {
                            self.policy(policy).load_errors.fetch_add(1, Relaxed);
                        }
                    }
                    drop(guard);
                    if let Some((tx, _)) = leader {
                        let _ = tx.send(Some(result.clone()));
                    }
                    return result;
                }
            }
        }
    }

    /// Runs `load` for a leader, through the shared tier when there is one: its value if it
    /// has one, else (after at most one instance's load, with its locks) `load`'s, stored.
    async fn load_through<E, F, Fut>(
        &self,
        key: &K,
        policy: P,
        tags: &[String],
        load: F,
    ) -> Result<V, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<V, E>>,
    {
        let inner = &*self.inner;
        let asked = match &inner.shared {
            Some(shared) => shared.ask(key, tags, &inner.shared_counters).await,
            None => Asked::Bypass,
        };
        let stored = match asked {
            Asked::Hit(v) => return Ok(v),
            Asked::Bypass => None,
            Asked::Load(shared_key, stamp, guard) => Some((shared_key, stamp, guard)),
        };
        self.policy(policy).loads.fetch_add(1, Relaxed);
        let result = load().await;
        if let (Ok(v), Some((shared_key, stamp, guard)), Some(shared)) =
            (&result, stored, &inner.shared)
        {
            let ttl = self.ttl_of(policy);
            shared
                .store(&shared_key, v, ttl, tags, &stamp, &inner.shared_counters)
                .await;
            drop(guard);
        }
        result
    }
}
