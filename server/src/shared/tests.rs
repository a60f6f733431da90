//! The shared parts against a real `redis-server` ([`LocalRedis`], on a Unix socket in a
//! temp directory, killed at the end): locks held by one
//! holder at a time, kept while held, freed when a holder vanishes; limits exact across two
//! limiters; events and invalidations delivered to the other bus only.

use std::time::{Duration, Instant};

use super::*;
use crate::cache::{LockError, NamedLocks};

struct Redis {
    server: LocalRedis,
    _dir: tempfile::TempDir,
}

impl Redis {
    fn start() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        Self {
            server: LocalRedis::start(dir.path()).expect("redis-server"),
            _dir: dir,
        }
    }

    fn bus(&self) -> SharedBus {
        SharedBus::new(&self.server.url(), "test").expect("url")
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lock_has_one_holder_across_instances_and_outlives_its_lease_while_held() {
    let redis = Redis::start();
    let (a, b) = (
        RedisLocks::new(&redis.bus(), "test"),
        RedisLocks::new(&redis.bus(), "test"),
    );
    let lease = Duration::from_millis(150);
    let held = a
        .acquire("warm", lease, Duration::ZERO)
        .await
        .expect("free");
    // Held for several leases: the keeper extends it, B keeps being refused.
    for _ in 0..4 {
        let refused = b.acquire("warm", lease, Duration::from_millis(100)).await;
        assert!(matches!(refused, Err(LockError::Timeout { .. })));
    }
    drop(held);
    let started = Instant::now();
    let taken = b
        .acquire("warm", lease, Duration::from_secs(2))
        .await
        .expect("released");
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "release is prompt"
    );
    drop(taken);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vanished_holders_lock_frees_itself_and_is_not_released_by_it() {
    let redis = Redis::start();
    let bus = redis.bus();
    let mut conn = bus.conn.clone();
    // A holder that crashed: its key, with its token, and nobody extending it.
    let _: () = redis::cmd("SET")
        .arg("test:lock:backup")
        .arg("crashed-holder")
        .arg("PX")
        .arg(200)
        .query_async(&mut conn)
        .await
        .expect("set");
    let locks = RedisLocks::new(&bus, "test");
    let held = locks
        .acquire("backup", Duration::from_secs(5), Duration::from_secs(2))
        .await
        .expect("free once the lease ran out");
    // Only the holder's token releases: a stale release script with another token does not.
    let other: i64 = redis::Script::new(
        "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0",
    )
    .key("test:lock:backup")
    .arg("crashed-holder")
    .invoke_async(&mut conn)
    .await
    .expect("script");
    assert_eq!(other, 0);
    assert!(matches!(
        locks
            .acquire("backup", Duration::from_secs(5), Duration::ZERO)
            .await,
        Err(LockError::Timeout { .. })
    ));
    drop(held);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_are_exact_across_two_limiters() {
    let redis = Redis::start();
    let (a, b) = (redis.bus(), redis.bus());
    let (a, b) = (SharedLimits::new(&a, "test"), SharedLimits::new(&b, "test"));
    let client: std::net::IpAddr = "192.0.2.1".parse().expect("ip");
    let mut allowed = 0;
    for i in 0..20 {
        let limits = if i % 2 == 0 { &a } else { &b };
        let d = limits
            .check("write", client, 60, 5)
            .await
            .expect("redis answers");
        if d.allowed {
            allowed += 1;
        } else {
            assert!(d.wait > Duration::from_millis(500) && d.wait <= Duration::from_secs(1));
        }
    }
    assert_eq!(allowed, 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_and_invalidations_reach_the_other_bus_only() {
    let redis = Redis::start();
    let (a, b) = (redis.bus(), redis.bus());
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let seen_by_a = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counter = seen_by_a.clone();
    let listening_a = a.spawn_listener(move |m| {
        if !matches!(m, BusMessage::Resync) {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    });
    let listening_b = b.spawn_listener(move |m| {
        let _ = tx.send(m);
    });
    assert_eq!(rx.recv().await, Some(BusMessage::Resync));
    let deadline = Instant::now() + Duration::from_secs(5);
    while !a.connected() {
        assert!(Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(a.publish_tags(&["story:1", "stories:list"]).await);
    assert!(a.publish_event("{\"type\":\"task\"}").await);
    assert!(a.publish_clear().await);
    let want = [
        BusMessage::Tags(vec!["story:1".into(), "stories:list".into()]),
        BusMessage::Event("{\"type\":\"task\"}".into()),
        BusMessage::All,
    ];
    for w in want {
        let got = tokio::time::timeout(Duration::from_secs(5), rx.recv()).await;
        assert_eq!(got.ok().flatten(), Some(w));
    }
    assert_eq!(
        seen_by_a.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "own messages skipped"
    );
    assert!(b.delay_quantile(0.99).is_some());
    listening_a.abort();
    listening_b.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalidation_that_failed_to_publish_reaches_the_others_once_redis_answers() {
    let redis = Redis::start();
    let (a, b) = (redis.bus(), redis.bus());
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let listening_a = a.spawn_listener(|_| {});
    let listening_b = b.spawn_listener(move |m| {
        let _ = tx.send(m);
    });
    assert_eq!(rx.recv().await, Some(BusMessage::Resync));
    assert!(a.publish_tags(&["story:0"]).await, "A's connection is up");
    let first = tokio::time::timeout(Duration::from_secs(5), rx.recv()).await;
    assert_eq!(
        first.ok().flatten(),
        Some(BusMessage::Tags(vec!["story:0".into()]))
    );
    // Only the publishers' connections go (pub/sub ones are of another type): B stays
    // subscribed and A's next publish meets a dead connection.
    let killer = redis::Client::open(redis.server.url()).expect("url");
    let mut killer = killer
        .get_multiplexed_async_connection()
        .await
        .expect("connect");
    let killed: i64 = redis::cmd("CLIENT")
        .arg(&["KILL", "TYPE", "normal"])
        .query_async(&mut killer)
        .await
        .expect("client kill");
    assert!(killed >= 1, "A's connection was killed");
    assert!(!a.publish_tags(&["story:1"]).await, "the publish failed");
    // Nothing else is published: the owed tags alone must reach B.
    let repaired = tokio::time::timeout(Duration::from_secs(5), rx.recv()).await;
    assert_eq!(
        repaired.ok().flatten(),
        Some(BusMessage::Tags(vec!["story:1".into()])),
        "the failed invalidation reached B once Redis answered A again"
    );
    assert!(
        b.connected(),
        "B never resubscribed: no resync dropped its caches"
    );
    assert_eq!(a.owed(), 0);
    listening_a.abort();
    listening_b.abort();
}

mod tier {
    //! The shared cache tier between caches standing for instances: values cross, a cold key
    //! loads once, invalidation reaches it, a load that raced a write is not kept, and an
    //! outage only costs loads.

    use std::sync::{
        Arc,
        atomic::{AtomicU64, Ordering::SeqCst},
    };

    use super::*;
    use crate::cache::{CachePolicy, Shared, SharedCodec, TieredCache};

    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    struct Kind;
    impl CachePolicy for Kind {
        const ALL: &'static [Self] = &[Kind];
        fn ttl(&self) -> Duration {
            Duration::from_secs(60)
        }
        fn name(&self) -> &'static str {
            "kind"
        }
    }

    struct Text;
    impl SharedCodec<u64, String> for Text {
        fn key(&self, key: &u64) -> Option<String> {
            Some(format!("k:{key}"))
        }
        fn encode(&self, value: &String) -> Option<Vec<u8>> {
            Some(value.clone().into_bytes())
        }
        fn decode(&self, bytes: &[u8]) -> Option<String> {
            String::from_utf8(bytes.to_vec()).ok()
        }
    }

    fn instance(bus: &SharedBus, locks: bool) -> TieredCache<u64, String, Kind> {
        let locks: Option<Arc<dyn crate::cache::NamedLocks>> =
            locks.then(|| Arc::new(RedisLocks::new(bus, "test")) as _);
        TieredCache::builder()
            .shared(Shared::new(
                Arc::new(RedisTier::new(bus)),
                Arc::new(Text),
                locks,
            ))
            .build()
    }

    fn tags(key: u64) -> Vec<String> {
        vec![format!("story:{key}")]
    }

    async fn get(
        cache: &TieredCache<u64, String, Kind>,
        key: u64,
        value: &str,
        loads: &AtomicU64,
    ) -> String {
        cache
            .get_or_load(key, Kind, &tags(key), || async {
                loads.fetch_add(1, SeqCst);
                Ok::<_, String>(value.to_owned())
            })
            .await
            .expect("loads")
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_value_loaded_by_one_instance_is_a_hit_for_another_until_its_tag_changes() {
        let redis = Redis::start();
        let (a, b) = (instance(&redis.bus(), true), instance(&redis.bus(), true));
        let loads = AtomicU64::new(0);
        assert_eq!(get(&a, 1, "v1", &loads).await, "v1");
        assert_eq!(get(&b, 1, "never", &loads).await, "v1", "B reads A's value");
        assert_eq!(loads.load(SeqCst), 1);
        let shared = b.stats().shared.expect("shared stats");
        assert_eq!((shared.hits, shared.misses), (1, 0));
        assert_eq!(a.stats().shared.expect("shared").stores, 1);

        // Another instance's write: the entry leaves the shared tier (B's own L1 is the
        // bus listener's business, tested elsewhere).
        assert!(redis.bus().publish_tags(&["story:1"]).await);
        let c = instance(&redis.bus(), true);
        assert_eq!(get(&c, 1, "v2", &loads).await, "v2");
        assert_eq!(loads.load(SeqCst), 2);
        // Clearing empties it too.
        assert!(redis.bus().publish_clear().await);
        let d = instance(&redis.bus(), true);
        assert_eq!(get(&d, 1, "v3", &loads).await, "v3");
        assert_eq!(loads.load(SeqCst), 3);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_cold_key_asked_for_on_three_instances_at_once_loads_once() {
        let redis = Redis::start();
        let instances: Vec<_> = (0..3).map(|_| instance(&redis.bus(), true)).collect();
        let loads = Arc::new(AtomicU64::new(0));
        let (release, released) = tokio::sync::watch::channel(false);
        let mut asking = Vec::new();
        for cache in &instances {
            let (cache, loads, mut released) = (cache.clone(), loads.clone(), released.clone());
            asking.push(tokio::spawn(async move {
                cache
                    .get_or_load(7, Kind, &tags(7), || async move {
                        loads.fetch_add(1, SeqCst);
                        // The load is slow: it ends only once every instance has asked.
                        let _ = released.wait_for(|r| *r).await;
                        Ok::<_, String>("cold".to_owned())
                    })
                    .await
            }));
        }
        // Every instance has missed locally and either loads or waits for the lock.
        let deadline = Instant::now() + Duration::from_secs(10);
        while instances
            .iter()
            .map(|c| {
                let s = c.stats().shared.expect("shared");
                s.misses + s.lock_waits
            })
            .sum::<u64>()
            < 3
        {
            assert!(Instant::now() < deadline, "all three asked");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        release.send(true).expect("receivers");
        for a in asking {
            assert_eq!(a.await.expect("joined").as_deref(), Ok("cold"));
        }
        assert_eq!(loads.load(SeqCst), 1, "one load across the instances");
        let waited: u64 = instances
            .iter()
            .map(|c| c.stats().shared.expect("shared").lock_waits)
            .sum();
        assert_eq!(waited, 2);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_load_that_raced_another_instances_write_is_not_shared() {
        let redis = Redis::start();
        let (a, b) = (instance(&redis.bus(), true), instance(&redis.bus(), true));
        let writer = redis.bus();
        let loads = AtomicU64::new(0);
        let old = a
            .get_or_load(3, Kind, &tags(3), || async {
                loads.fetch_add(1, SeqCst);
                // The store changes while this load reads the old row.
                assert!(writer.publish_tags(&["story:3"]).await);
                Ok::<_, String>("old".to_owned())
            })
            .await;
        assert_eq!(
            old.as_deref(),
            Ok("old"),
            "the reader that started first gets it"
        );
        assert_eq!(a.stats().shared.expect("shared").stale_stores, 1);
        assert_eq!(get(&b, 3, "new", &loads).await, "new");
        assert_eq!(loads.load(SeqCst), 2);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn without_redis_every_miss_loads_and_nothing_fails() {
        let mut redis = Redis::start();
        let a = instance(&redis.bus(), true);
        redis.server.stop();
        let loads = AtomicU64::new(0);
        for key in 0..5 {
            assert_eq!(get(&a, key, "v", &loads).await, "v");
        }
        assert_eq!(loads.load(SeqCst), 5);
        let shared = a.stats().shared.expect("shared");
        assert!(shared.errors >= 1, "{shared:?}");
        assert_eq!(shared.hits + shared.stores, 0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn singleton_work_runs_on_one_instance_at_a_time_and_anywhere_without_redis() {
    use crate::cache::run_exclusive;
    let mut redis = Redis::start();
    let (a, b) = (
        RedisLocks::new(&redis.bus(), "test"),
        RedisLocks::new(&redis.bus(), "test"),
    );
    let lease = Duration::from_secs(5);
    let (started, start) = tokio::sync::oneshot::channel();
    let (finish, finished) = tokio::sync::oneshot::channel::<()>();
    let on_a = tokio::spawn(async move {
        run_exclusive(&a, "sweep", lease, async move {
            let _ = started.send(());
            let _ = finished.await;
            "a"
        })
        .await
    });
    start.await.expect("A started");
    // While A runs it, B skips it (without running its work).
    let on_b = run_exclusive(&b, "sweep", lease, async { "b" }).await;
    assert_eq!(on_b, None);
    let _ = finish.send(());
    assert_eq!(on_a.await.expect("joined"), Some("a"));
    // Once A is done (its release reaches Redis just after), the next round may run anywhere.
    let deadline = Instant::now() + Duration::from_secs(2);
    while run_exclusive(&b, "sweep", lease, async { "b" }).await != Some("b") {
        assert!(Instant::now() < deadline, "A's lock was released");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // Redis gone: the work still runs (it is safe to repeat).
    redis.server.stop();
    assert_eq!(
        run_exclusive(&b, "sweep", lease, async { "b" }).await,
        Some("b")
    );
}
