//! A request cache around server-function calls, with stale-while-revalidate semantics
//! (the model of TanStack Query and SWR).
//!
//! A [`Query`] is a key plus the call that loads it. [`use_query`] shows the cached value
//! at once when there is one: fresh (younger than the stale time) means no request at all;
//! stale means the old value now and a revalidation in the background, after which every
//! view of the key renders again. Concurrent loads of one key share one request. Network
//! errors (and 503s) are retried with exponential backoff, 4xx answers never. A mutation
//! invalidates keys by prefix ([`QueryClient::invalidate`]) and may show its result at once
//! ([`QueryClient::optimistic`]) with a rollback when it fails. The cache holds at most
//! [`MAX_ENTRIES`] values and forgets those unused for the cache time. Focusing the window
//! or coming back online revalidates what is stale.
//!
//! Server rendering: [`use_query`] loads through Dioxus's `use_loader`, so the server's
//! value is serialised into the page; on hydration it seeds the cache and no second
//! request is made.
//!
//! ```ignore
//! let story = use_query(move || queries::story(id()))?;   // Loader<Arc<Story>>
//! client.invalidate("story/");                             // after a write
//! ```
//!
//! Why written here: TanStack Query and SWR are JavaScript; no published Dioxus 0.7 crate
//! does keyed SWR caching with shared in-flight requests. The deciding half ([`QueryCache`],
//! [`retry_delay`]) is plain data on a manual clock and unit-tested natively.

use std::{any::Any, collections::HashMap, future::Future, marker::PhantomData, rc::Rc};

use dioxus::core::Runtime;
use dioxus::fullstack::{Loader, Loading};
use dioxus::prelude::*;
use futures_util::future::{FutureExt, LocalBoxFuture, Shared};
use serde::{Serialize, de::DeserializeOwned};

use app::model::ApiError;

use super::clock;
use super::hydrated::Hydrated;

mod cache;

pub use cache::{Lookup, MAX_ENTRIES, QueryCache, STALE_TIME, Snapshot, retry_delay};

type Value = Rc<dyn Any>;
type Load = Shared<LocalBoxFuture<'static, Result<Value, ApiError>>>;

type Fetch = Rc<dyn Fn() -> LocalBoxFuture<'static, Result<Value, ApiError>>>;

/// A key and the call that loads its value. The call is type-erased, so the cache's
/// machinery (loading, sharing, retrying) exists once rather than once per value type.
pub struct Query<T> {
    /// The cache key; keys that share a prefix are invalidated together.
    pub key: String,
    fetch: Fetch,
    _value: PhantomData<fn() -> T>,
}

impl<T> Clone for Query<T> {
    fn clone(&self) -> Self {
        Self {
            key: self.key.clone(),
            fetch: self.fetch.clone(),
            _value: PhantomData,
        }
    }
}

impl<T: 'static> Query<T> {
    /// A query for `key` loaded by `fetch` (called again for retries).
    pub fn new<F, Fut>(key: impl Into<String>, fetch: F) -> Self
    where
        F: Fn() -> Fut + 'static,
        Fut: Future<Output = Result<T, ApiError>> + 'static,
    {
        Self {
            key: key.into(),
            fetch: Rc::new(move || {
                let call = fetch();
                async move { call.await.map(|v| Rc::new(v) as Value) }.boxed_local()
            }),
            _value: PhantomData,
        }
    }
}

/// The app's request cache; provided once at the root, `Copy`.
#[derive(Clone, Copy)]
pub struct QueryClient {
    cache: CopyValue<QueryCache<Value>>,
    loads: CopyValue<HashMap<String, Load>>,
    /// Bumped whenever cached values change, so views of them load again (from the cache).
    generation: Signal<u64>,
}

fn downcast<T: Clone + 'static>(v: &Value) -> Result<T, ApiError> {
    v.downcast_ref::<T>()
        .cloned()
        .ok_or_else(ApiError::internal)
}

impl QueryClient {
    /// The client of this app.
    pub fn get() -> Self {
        consume_context()
    }

    /// The cached value if fresh; else loads it (sharing a load under way). A stale value
    /// is returned at once and revalidated in the background.
    pub async fn fetch<T: Clone + 'static>(self, query: Query<T>) -> Result<T, ApiError> {
        downcast(&self.fetch_value(query.key, query.fetch).await?)
    }

    async fn fetch_value(self, key: String, fetch: Fetch) -> Result<Value, ApiError> {
        let found = self
            .cache
            .write_unchecked()
            .lookup(&key, clock::now(), STALE_TIME);
        match found {
            Lookup::Fresh(v) => Ok(v),
            Lookup::Stale(v) => {
                self.revalidate(key, fetch);
                Ok(v)
            }
            Lookup::Missing => self.load(key, fetch).await,
        }
    }

    /// Loads `query` into the cache in the background unless it is fresh or loading.
    pub fn prefetch<T>(self, query: Query<T>) {
        let found = self
            .cache
            .write_unchecked()
            .lookup(&query.key, clock::now(), STALE_TIME);
        if !matches!(found, Lookup::Fresh(_)) {
            self.revalidate(query.key, query.fetch);
        }
    }

    fn revalidate(self, key: String, fetch: Fetch) {
        if self.cache.read_unchecked().is_loading(&key) {
            return;
        }
        // On the app's scope: a revalidation outlives the view that started it.
        Runtime::current().spawn(ScopeId::APP, async move {
            if self.load(key, fetch).await.is_ok() {
                self.changed();
            }
        });
    }

    /// One load of `key`, shared by everyone who asks while it runs.
    fn load(self, key: String, fetch: Fetch) -> Load {
        if let Some(load) = self.loads.read_unchecked().get(&key) {
            return load.clone();
        }
        self.cache.write_unchecked().begin(&key);
        let load = {
            let key = key.clone();
            async move {
                let mut attempt = 0;
                let out = loop {
                    match fetch().await {
                        Ok(v) => break Ok(v),
                        Err(e) => match retry_delay(attempt, &e)
                            .filter(|_| cfg!(target_arch = "wasm32"))
                        {
                            Some(ms) => {
                                clock::sleep(ms).await;
                                attempt += 1;
                            }
                            None => break Err(e),
                        },
                    }
                };
                self.loads.write_unchecked().remove(&key);
                self.cache
                    .write_unchecked()
                    .settle(&key, out.as_ref().ok().cloned(), clock::now());
                out
            }
        }
        .boxed_local()
        .shared();
        self.loads.write_unchecked().insert(key, load.clone());
        load
    }

    /// Marks every key starting with `prefix` stale; views of them revalidate.
    pub fn invalidate(self, prefix: &str) {
        if self.cache.write_unchecked().invalidate(prefix) > 0 {
            self.changed();
        }
    }

    /// Shows `value` under `key` now; returns what to pass to [`Self::rollback`].
    pub fn optimistic<T: 'static>(self, key: &str, value: T) -> Snapshot<Value> {
        let snap = self
            .cache
            .write_unchecked()
            .optimistic(key, Rc::new(value), clock::now());
        self.changed();
        snap
    }

    /// Replaces the cached value of `key` with `f(value)` (a write's answer applied in place).
    pub fn update<T: Clone + 'static>(self, key: &str, f: impl FnOnce(T) -> T) {
        let changed = self
            .cache
            .write_unchecked()
            .update(key, |v| match v.downcast_ref::<T>() {
                Some(t) => Rc::new(f(t.clone())) as Value,
                None => v.clone(),
            });
        if changed {
            self.changed();
        }
    }

    /// Undoes an optimistic update whose write failed.
    pub fn rollback(self, snapshot: Snapshot<Value>) {
        self.cache.write_unchecked().rollback(snapshot);
        self.changed();
    }

    /// Puts the server-rendered value of `key` into the cache (hydration).
    pub fn seed<T: 'static>(self, key: &str, value: T) {
        self.cache
            .write_unchecked()
            .seed(key, Rc::new(value), clock::now());
    }

    /// Makes the calling reactive scope (a loader) run again whenever cached values change.
    pub fn subscribe(self) {
        let _ = self.generation.read();
    }

    /// Views of cached keys load again; fresh ones come from memory without a request.
    pub fn changed(mut self) {
        *self.generation.write() += 1;
    }

    /// How many values are cached (for the memory panel and tests).
    pub fn len(self) -> usize {
        self.cache.read_unchecked().len()
    }
}

/// Provides the [`QueryClient`]; call once in the root component. In the browser it also
/// revalidates stale views when the window regains focus or the network comes back.
pub fn use_query_provider() -> QueryClient {
    let client = use_context_provider(|| QueryClient {
        cache: CopyValue::new(QueryCache::new(MAX_ENTRIES)),
        loads: CopyValue::new(HashMap::new()),
        generation: Signal::new(0),
    });
    #[cfg(target_arch = "wasm32")]
    use_hook(move || {
        Rc::new(super::browser::on_window(&["focus", "online"], move || {
            client.changed()
        }))
    });
    client
}

/// The value of `query`, through the cache; see the module documentation. The loader holds
/// it as [`Hydrated`] (JSON in the hydration data), which derefs to the value.
#[allow(clippy::result_large_err)]
pub fn use_query<T>(
    mut query: impl FnMut() -> Query<T> + 'static,
) -> Result<Loader<Hydrated<T>>, Loading>
where
    T: Clone + PartialEq + Serialize + DeserializeOwned + 'static,
{
    let client = QueryClient::get();
    let key = use_hook(|| CopyValue::new(String::new()));
    let loader = use_loader(move || {
        let q = query();
        // Subscribes this view to cache changes: a revalidated or invalidated key loads
        // again (instantly when fresh).
        client.subscribe();
        *key.write_unchecked() = q.key.clone();
        let fetch = client.fetch(q);
        async move { fetch.await.map(Hydrated) }
    })?;
    // On hydration the loader holds the server's value without having asked the cache.
    client.seed(&key.read_unchecked(), loader.cloned().0);
    Ok(loader)
}

#[cfg(test)]
mod tests {
    use super::cache::CACHE_TIME;
    use super::*;
    use crate::hooks::clock::ManualClock;
    use app::model::ErrorCode;

    #[test]
    fn fresh_then_stale_then_forgotten() {
        let mut clock = ManualClock::default();
        let mut c = QueryCache::new(10);
        assert_eq!(c.lookup("a", clock.0, 100.0), Lookup::Missing);
        assert!(c.begin("a"));
        c.settle("a", Some(1), clock.0);
        assert_eq!(c.lookup("a", clock.advance(99.0), 100.0), Lookup::Fresh(1));
        assert_eq!(c.lookup("a", clock.advance(1.0), 100.0), Lookup::Stale(1));
        c.evict(clock.advance(CACHE_TIME - 1.0), CACHE_TIME);
        assert_eq!(c.len(), 1, "used {} ms ago", CACHE_TIME - 1.0);
        c.evict(clock.advance(CACHE_TIME), CACHE_TIME);
        assert_eq!(c.len(), 0);
    }

    #[test]
    fn concurrent_loads_of_one_key_share_one_request() {
        let mut c: QueryCache<i32> = QueryCache::new(10);
        assert!(c.begin("k"), "the first caller fetches");
        assert!(!c.begin("k"), "the second waits for it");
        assert!(c.is_loading("k"));
        c.settle("k", Some(7), 0.0);
        assert!(!c.is_loading("k"));
        assert!(c.begin("k"), "a later load is a new request");
    }

    #[test]
    fn a_failed_load_stores_nothing_and_keeps_the_old_value() {
        let mut c = QueryCache::new(10);
        c.settle("k", Some("old"), 0.0);
        c.invalidate("k");
        c.begin("k");
        c.settle("k", None, 10.0);
        assert_eq!(c.lookup("k", 10.0, 1_000.0), Lookup::Stale("old"));
    }

    #[test]
    fn invalidation_by_prefix_marks_only_those_keys_stale() {
        let mut c = QueryCache::new(10);
        for k in ["story/1", "story/2", "stories|a", "tree/1"] {
            c.settle(k, Some(k.len()), 0.0);
        }
        assert_eq!(c.invalidate("story/"), 2);
        assert!(matches!(c.lookup("story/1", 1.0, 1e9), Lookup::Stale(_)));
        assert!(matches!(c.lookup("story/2", 1.0, 1e9), Lookup::Stale(_)));
        assert!(matches!(c.lookup("stories|a", 1.0, 1e9), Lookup::Fresh(_)));
        // A reload makes it fresh again.
        c.settle("story/1", Some(99), 2.0);
        assert_eq!(c.lookup("story/1", 3.0, 1e9), Lookup::Fresh(99));
    }

    #[test]
    fn optimistic_updates_roll_back_to_the_old_value_or_to_nothing() {
        let mut c = QueryCache::new(10);
        c.settle("story/1", Some("saved"), 0.0);
        let snap = c.optimistic("story/1", "typed", 5.0);
        assert_eq!(c.lookup("story/1", 6.0, 1e9), Lookup::Fresh("typed"));
        c.rollback(snap);
        assert_eq!(c.lookup("story/1", 7.0, 1e9), Lookup::Fresh("saved"));

        let snap = c.optimistic("story/2", "new", 8.0);
        c.rollback(snap);
        assert_eq!(c.lookup("story/2", 9.0, 1e9), Lookup::Missing);
    }

    #[test]
    fn the_bound_evicts_the_least_recently_used() {
        let mut c = QueryCache::new(3);
        for (i, k) in ["a", "b", "c"].into_iter().enumerate() {
            c.settle(k, Some(i), i as f64);
        }
        c.lookup("a", 10.0, 1e9); // a is now the most recently used
        c.settle("d", Some(3), 11.0);
        assert_eq!(c.len(), 3);
        assert_eq!(c.lookup("b", 12.0, 1e9), Lookup::Missing);
        assert!(matches!(c.lookup("a", 12.0, 1e9), Lookup::Fresh(0)));
    }

    #[test]
    fn update_in_place_keeps_the_age_and_skips_missing_keys() {
        let mut c = QueryCache::new(10);
        c.settle("tree/1", Some(vec![1, 2]), 0.0);
        assert!(c.update("tree/1", |v| [v.as_slice(), &[3]].concat()));
        assert!(!c.update("tree/2", |v| v.clone()));
        assert_eq!(
            c.lookup("tree/1", 50.0, 100.0),
            Lookup::Fresh(vec![1, 2, 3])
        );
        assert!(matches!(c.lookup("tree/1", 100.0, 100.0), Lookup::Stale(_)));
    }

    #[test]
    fn seeding_never_replaces_a_value() {
        let mut c = QueryCache::new(10);
        c.seed("k", 1, 0.0);
        c.seed("k", 2, 1.0);
        assert_eq!(c.lookup("k", 2.0, 1e9), Lookup::Fresh(1));
    }

    #[test]
    fn retries_back_off_on_the_network_and_never_on_4xx() {
        let net = ApiError::new(ErrorCode::Network, "offline");
        let delays: Vec<_> = (0..5).map(|a| retry_delay(a, &net)).collect();
        assert_eq!(
            delays,
            vec![Some(1_000.0), Some(2_000.0), Some(4_000.0), None, None]
        );
        assert_eq!(
            retry_delay(0, &ApiError::new(ErrorCode::Unavailable, "disk")),
            Some(1_000.0)
        );
        for code in [
            ErrorCode::InvalidInput,
            ErrorCode::NotFound,
            ErrorCode::Conflict,
            ErrorCode::RateLimited,
        ] {
            assert_eq!(retry_delay(0, &ApiError::new(code, "no")), None, "{code:?}");
        }
    }
}
