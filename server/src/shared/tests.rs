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
