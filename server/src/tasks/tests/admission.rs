//! What the queue accepts: its bound, each owner's share, the operators' reserve, and once
//! per interval for schedules every instance keeps.

use super::*;

#[tokio::test]
async fn enqueue_beyond_the_bound_is_refused_with_a_clear_message() {
    let (_dir, store) = store().await;
    let (rec, _) = recorder();
    let q = TaskQueue::builder(store)
        .config(TaskConfig {
            max_pending: 2,
            reserved_pending: 0,
            ..TaskConfig::default()
        })
        .register(rec)
        .build();
    for n in 0..2 {
        q.enqueue::<Recorder>(&Note { n }, EnqueueOptions::default())
            .await
            .unwrap();
    }
    let err = q
        .enqueue::<Recorder>(&Note { n: 3 }, EnqueueOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(err, QueueError::Full { max: 2 }));
    assert!(err.to_string().contains("queue is full (2 tasks waiting)"));
    assert_eq!(q.stats().await.unwrap().depth, 2);
}

#[tokio::test]
async fn one_owner_cannot_fill_the_queue_and_operators_keep_their_reserve() {
    let (_dir, store) = store().await;
    let (rec, _) = recorder();
    // Not started: everything stays pending.
    let q = TaskQueue::builder(store)
        .config(TaskConfig {
            max_pending: 10,
            reserved_pending: 3,
            max_pending_per_owner: 4,
            ..TaskConfig::default()
        })
        .register(rec)
        .build();
    let as_owner = |o: &str| EnqueueOptions::default().owned_by(o);
    for n in 0..4 {
        q.enqueue::<Recorder>(&Note { n }, as_owner("hog"))
            .await
            .unwrap();
    }
    let err = q
        .enqueue::<Recorder>(&Note { n: 4 }, as_owner("hog"))
        .await
        .unwrap_err();
    assert!(matches!(err, QueueError::OwnerFull { max: 4 }), "{err}");
    assert!(err.to_string().contains("4 tasks waiting already"), "{err}");
    // Others still get in, up to the bound less the reserve (10 - 3 = 7).
    for n in 0..3 {
        q.enqueue::<Recorder>(&Note { n }, as_owner(&format!("other{n}")))
            .await
            .unwrap();
    }
    let err = q
        .enqueue::<Recorder>(&Note { n: 9 }, as_owner("late"))
        .await
        .unwrap_err();
    assert!(matches!(err, QueueError::Full { max: 10 }), "{err}");
    // An operator's work takes the reserve, whatever its owner already has waiting.
    for n in 0..3 {
        q.enqueue::<Recorder>(&Note { n }, as_owner("hog").reserved())
            .await
            .unwrap();
    }
    let err = q
        .enqueue::<Recorder>(&Note { n: 9 }, as_owner("op").reserved())
        .await
        .unwrap_err();
    assert!(matches!(err, QueueError::Full { max: 10 }), "{err}");
    assert_eq!(q.stats().await.unwrap().depth, 10);
    // A task without an owner (the system's own) has no share to count.
    let (_dir2, store2) = self::store().await;
    let (rec2, _) = recorder();
    let q2 = TaskQueue::builder(store2)
        .config(TaskConfig {
            max_pending_per_owner: 1,
            ..TaskConfig::default()
        })
        .register(rec2)
        .build();
    for n in 0..3 {
        q2.enqueue::<Recorder>(&Note { n }, EnqueueOptions::default())
            .await
            .unwrap();
    }
}

/// A schedule every instance keeps adds one task per interval: the second instance's
/// enqueue within the interval adds nothing and says why; after it, one is added again.
#[tokio::test]
async fn once_within_an_interval_adds_one_task_whoever_asks() {
    let (_dir, store) = store().await;
    let clock = Arc::new(ManualClock::new(T0));
    let (rec, _seen) = recorder();
    let q = TaskQueue::builder(store)
        .clock(clock.clone())
        .register(rec)
        .build();
    let hourly = || EnqueueOptions::default().once_within(Duration::from_secs(3_600));
    q.enqueue::<Recorder>(&Note { n: 1 }, hourly())
        .await
        .unwrap();
    clock.advance(Duration::from_secs(1_800));
    let again = q.enqueue::<Recorder>(&Note { n: 2 }, hourly()).await;
    assert!(
        matches!(
            &again,
            Err(QueueError::Recent {
                within_ms: 3_600_000,
                ..
            })
        ),
        "{again:?}"
    );
    // A caller without the option is not held back, and its task counts: a backup an
    // operator started half an hour ago makes the scheduled one wait.
    q.enqueue::<Recorder>(&Note { n: 3 }, EnqueueOptions::default())
        .await
        .unwrap();
    clock.advance(Duration::from_secs(1_801));
    assert!(
        q.enqueue::<Recorder>(&Note { n: 4 }, hourly())
            .await
            .is_err()
    );
    clock.advance(Duration::from_secs(1_800));
    q.enqueue::<Recorder>(&Note { n: 4 }, hourly())
        .await
        .unwrap();
    assert_eq!(q.stats().await.unwrap().depth, 3);
}
