//! Cache behaviour: tiers, expiry, tags, coalescing, errors and statistics.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use super::*;

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Kind {
    Story,
    Short,
}

impl CachePolicy for Kind {
    const ALL: &'static [Self] = &[Kind::Story, Kind::Short];
    fn ttl(&self) -> Duration {
        match self {
            Kind::Story => Duration::from_secs(3600),
            Kind::Short => Duration::from_millis(60),
        }
    }
    fn name(&self) -> &'static str {
        match self {
            Kind::Story => "story",
            Kind::Short => "short",
        }
    }
}

type Cache = TieredCache<u32, Arc<String>, Kind>;

fn tags(t: &[&str]) -> Vec<String> {
    t.iter().map(|s| s.to_string()).collect()
}

fn value(s: &str) -> Arc<String> {
    Arc::new(s.to_owned())
}

#[tokio::test]
async fn entries_expire_after_their_policy_ttl() {
    let cache = Cache::builder().build();
    cache.insert(1, value("short"), Kind::Short, &[]);
    cache.insert(2, value("long"), Kind::Story, &[]);
    assert!(cache.get(&1).is_some());
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(cache.get(&1), None);
    assert_eq!(cache.get(&2).as_deref().map(String::as_str), Some("long"));
    // moka's timer wheel removes expired entries within about a second; the sweeper then
    // frees them even if nobody asks for the key again.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        cache.sweep();
        let s = cache.stats();
        if s.tiers[1].expirations >= 1 && s.tiers[1].entries == 1 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{s:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn l2_hits_are_promoted_into_l1() {
    let cache = Cache::builder()
        .l1_capacity(Capacity::Entries(100))
        .l1_ttl(Duration::from_millis(50))
        .build();
    cache.insert(1, value("v"), Kind::Story, &[]);
    tokio::time::sleep(Duration::from_millis(120)).await;
    // L1's short cap expired it; L2 still has it and puts it back into L1.
    assert!(cache.get(&1).is_some());
    assert!(cache.get(&1).is_some());
    let s = cache.stats();
    assert_eq!(s.tiers[1].hits, 1, "{s:?}");
    assert_eq!(s.tiers[0].hits, 1, "{s:?}");
    assert_eq!(s.tiers[0].inserts, 2, "insert plus promotion: {s:?}");
}

#[tokio::test]
async fn a_tag_invalidation_clears_every_tier() {
    let cache = Cache::builder().build();
    cache.insert(1, value("a"), Kind::Story, &tags(&["story:1", "list"]));
    cache.insert(2, value("b"), Kind::Story, &tags(&["story:2", "list"]));
    cache.insert(3, value("c"), Kind::Story, &tags(&["story:3"]));
    assert_eq!(cache.invalidate_tag("list"), 2);
    assert_eq!(cache.get(&1), None);
    assert_eq!(cache.get(&2), None);
    assert!(cache.get(&3).is_some());
    let s = cache.stats();
    assert_eq!(s.tiers[0].invalidations, 2);
    assert_eq!(s.tiers[1].invalidations, 2);
    assert_eq!(s.tag_invalidations, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_misses_run_one_load() {
    let cache = Cache::builder().build();
    let loads = Arc::new(AtomicUsize::new(0));
    let gate = Arc::new(tokio::sync::Notify::new());
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..1000 {
        let (cache, loads, gate) = (cache.clone(), loads.clone(), gate.clone());
        tasks.spawn(async move {
            cache
                .get_or_load(7, Kind::Story, &tags(&["story:7"]), || async move {
                    loads.fetch_add(1, Ordering::SeqCst);
                    gate.notified().await;
                    Ok::<_, String>(value("loaded"))
                })
                .await
        });
    }
    // Let every task reach the cache before the one load finishes.
    while cache.stats().policies[0].misses < 1000 {
        tokio::task::yield_now().await;
    }
    gate.notify_one();
    while let Some(r) = tasks.join_next().await {
        assert_eq!(r.expect("task").expect("value").as_str(), "loaded");
    }
    assert_eq!(loads.load(Ordering::SeqCst), 1);
    let s = cache.stats();
    assert_eq!(s.policies[0].loads, 1);
    assert_eq!(s.loads_in_flight, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_load_reaches_every_waiter_and_is_not_cached() {
    let cache = Cache::builder().build();
    let gate = Arc::new(tokio::sync::Notify::new());
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..50 {
        let (cache, gate) = (cache.clone(), gate.clone());
        tasks.spawn(async move {
            cache
                .get_or_load(9, Kind::Story, &[], || async move {
                    gate.notified().await;
                    Err::<Arc<String>, _>("database down".to_string())
                })
                .await
        });
    }
    while cache.stats().policies[0].misses < 50 {
        tokio::task::yield_now().await;
    }
    gate.notify_one();
    while let Some(r) = tasks.join_next().await {
        assert_eq!(r.expect("task").expect_err("error"), "database down");
    }
    assert_eq!(cache.get(&9), None);
    let ok = cache
        .get_or_load(9, Kind::Story, &[], || async {
            Ok::<_, String>(value("back"))
        })
        .await;
    assert_eq!(ok.expect("ok").as_str(), "back");
    let s = cache.stats();
    assert_eq!((s.policies[0].loads, s.policies[0].load_errors), (2, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_load_that_raced_an_invalidation_is_served_but_never_cached() {
    let cache = Cache::builder().build();
    let (read_db, write_done) = (
        Arc::new(tokio::sync::Notify::new()),
        Arc::new(tokio::sync::Notify::new()),
    );
    let slow = {
        let (cache, read_db, write_done) = (cache.clone(), read_db.clone(), write_done.clone());
        tokio::spawn(async move {
            cache
                .get_or_load(1, Kind::Story, &tags(&["story:1"]), || async move {
                    let old = value("old");
                    read_db.notify_one();
                    write_done.notified().await;
                    Ok::<_, String>(old)
                })
                .await
        })
    };
    read_db.notified().await;
    // The write commits and invalidates while the slow load still holds the old value.
    cache.invalidate_tag("story:1");
    // A read that starts now must not join the old load.
    let fresh = cache
        .get_or_load(1, Kind::Story, &tags(&["story:1"]), || async {
            Ok::<_, String>(value("new"))
        })
        .await
        .expect("loads");
    assert_eq!(fresh.as_str(), "new");
    write_done.notify_one();
    assert_eq!(slow.await.expect("task").expect("value").as_str(), "old");
    assert_eq!(cache.get(&1).as_deref().map(String::as_str), Some("new"));
}

#[tokio::test]
async fn a_cancelled_leader_hands_over_to_a_waiter() {
    let cache = Cache::builder().build();
    let leader = {
        let cache = cache.clone();
        tokio::spawn(async move {
            cache
                .get_or_load(5, Kind::Story, &[], || {
                    std::future::pending::<Result<Arc<String>, String>>()
                })
                .await
        })
    };
    while cache.stats().loads_in_flight == 0 {
        tokio::task::yield_now().await;
    }
    let waiter = {
        let cache = cache.clone();
        tokio::spawn(async move {
            cache
                .get_or_load(5, Kind::Story, &[], || async {
                    Ok::<_, String>(value("second"))
                })
                .await
        })
    };
    tokio::task::yield_now().await;
    leader.abort();
    let got = tokio::time::timeout(Duration::from_secs(5), waiter)
        .await
        .expect("waiter is not stuck")
        .expect("task")
        .expect("value");
    assert_eq!(got.as_str(), "second");
}

#[tokio::test]
async fn stats_add_up() {
    let cache = Cache::builder().build();
    cache.insert(1, value("a"), Kind::Story, &[]);
    for _ in 0..3 {
        cache.get(&1);
    }
    cache.get(&2);
    let s = cache.stats();
    assert_eq!((s.tiers[0].hits, s.tiers[0].misses), (3, 1));
    assert_eq!((s.tiers[1].hits, s.tiers[1].misses), (0, 1));
    assert!((s.tiers[0].hit_ratio - 0.75).abs() < 1e-9);
    assert_eq!(s.policies[0].hits, 3);
    cache.sweep();
    assert_eq!(cache.stats().tiers[0].entries, 1);
}

#[tokio::test]
async fn capacity_in_bytes_uses_the_weigher() {
    let cache: Cache = Cache::builder()
        .l1_capacity(Capacity::Bytes(1_000))
        .l2_capacity(Capacity::Bytes(1_000))
        .weigher(|_, v| v.len() as u32)
        .build();
    for i in 0..50 {
        cache.insert(i, Arc::new("x".repeat(100)), Kind::Story, &[]);
    }
    cache.sweep();
    let s = cache.stats();
    assert!(s.tiers[1].weighted_size <= 1_000, "{s:?}");
    assert!(s.tiers[1].evictions > 0, "{s:?}");
}

#[tokio::test]
async fn local_locks_time_out_and_release() {
    let locks = LocalLocks::default();
    let held = locks
        .acquire("export:1", Duration::from_secs(10), Duration::ZERO)
        .await
        .expect("free");
    let err = locks
        .acquire(
            "export:1",
            Duration::from_secs(10),
            Duration::from_millis(20),
        )
        .await
        .err()
        .expect("held");
    assert!(matches!(err, LockError::Timeout { .. }));
    assert!(
        locks
            .acquire("export:2", Duration::from_secs(10), Duration::ZERO)
            .await
            .is_ok()
    );
    drop(held);
    assert!(
        locks
            .acquire("export:1", Duration::from_secs(10), Duration::ZERO)
            .await
            .is_ok()
    );
}
