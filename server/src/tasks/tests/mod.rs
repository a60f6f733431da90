use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicU32, Ordering},
    },
    time::Duration,
};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::*;
use crate::store::{Migration, StoreConfig};

const T0: i64 = 1_800_000_000_000;

async fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(StoreConfig::new(dir.path().join("tasks.db")))
        .await
        .unwrap();
    store
        .migrate(&[
            Migration {
                version: 1,
                name: "tasks",
                sql: SCHEMA,
            },
            Migration {
                version: 2,
                name: "task public ids",
                sql: SCHEMA_PUBLIC_IDS,
            },
            Migration {
                version: 3,
                name: "task shares per owner",
                sql: SCHEMA_OWNER_SHARE,
            },
        ])
        .await
        .unwrap();
    (dir, store)
}

/// Polls until the task satisfies `done` (real time, bounded); the task then.
async fn wait_for(q: &TaskQueue, id: i64, done: impl Fn(&Task) -> bool) -> Task {
    for _ in 0..2_000 {
        if let Some(t) = q.get(id).await.unwrap()
            && done(&t)
        {
            return t;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!(
        "task {id} never reached the expected state: {:?}",
        q.get(id).await
    );
}

/// Lets every other task on this (single-threaded) test runtime run until it waits again:
/// whatever the queue would do at the current manual time, it has done. No real time passes.
async fn settle() {
    for _ in 0..100 {
        tokio::task::yield_now().await;
    }
}

#[derive(Serialize, Deserialize)]
struct Note {
    n: u32,
}

/// Records the order in which tasks ran.
struct Recorder(Arc<Mutex<Vec<u32>>>);

impl Handler for Recorder {
    const KIND: &'static str = "test.record";
    type Payload = Note;
    async fn run(&self, p: Note, ctx: TaskContext) -> Result<Value, TaskError> {
        ctx.progress(50, "half way");
        self.0.lock().unwrap().push(p.n);
        Ok(json!({ "n": p.n }))
    }
}

/// Fails every time, retryably, counting its runs.
struct Flaky(Arc<AtomicU32>);

impl Handler for Flaky {
    const KIND: &'static str = "test.flaky";
    type Payload = Note;
    async fn run(&self, _: Note, ctx: TaskContext) -> Result<Value, TaskError> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Err(TaskError::retryable(format!(
            "boom on attempt {}",
            ctx.attempt()
        )))
    }
}

/// Runs until cancelled, reporting progress; `stubborn` ignores the cancel for a while and
/// then returns success, which must not count.
struct Long {
    stubborn: bool,
}

impl Handler for Long {
    const KIND: &'static str = "test.long";
    type Payload = Note;
    async fn run(&self, _: Note, ctx: TaskContext) -> Result<Value, TaskError> {
        ctx.progress(10, "started");
        if self.stubborn {
            while !ctx.is_cancelled() {
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
            return Ok(json!("finished anyway"));
        }
        ctx.cancelled().await;
        Err(TaskError::permanent("stopped"))
    }
}

fn recorder() -> (Recorder, Arc<Mutex<Vec<u32>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    (Recorder(seen.clone()), seen)
}

#[tokio::test]
async fn tasks_run_in_priority_then_creation_order() {
    let (_dir, store) = store().await;
    let (rec, seen) = recorder();
    let q = TaskQueue::builder(store)
        .config(TaskConfig {
            workers: 1,
            ..TaskConfig::default()
        })
        .register(rec)
        .build();
    let mut ids = Vec::new();
    for (n, p) in [
        (1, Priority::Low),
        (2, Priority::Normal),
        (3, Priority::Urgent),
        (4, Priority::High),
        (5, Priority::Urgent),
        (6, Priority::Normal),
    ] {
        ids.push(
            q.enqueue::<Recorder>(&Note { n }, EnqueueOptions::priority(p))
                .await
                .unwrap(),
        );
    }
    q.start();
    for id in &ids {
        let t = wait_for(&q, *id, |t| t.status == Status::Completed).await;
        assert_eq!(t.progress, 100);
        assert_eq!(t.attempts, 1);
        assert!(t.result.is_some());
    }
    assert_eq!(*seen.lock().unwrap(), vec![3, 5, 4, 2, 6, 1]);
    let stats = q.stats().await.unwrap();
    assert_eq!(stats.count(Status::Completed), 6);
    assert_eq!(stats.depth, 0);
    assert_eq!(stats.completed_total, 6);
    assert_eq!(stats.run_time.count, 6);
    q.shutdown(Duration::from_secs(1)).await;
}

#[tokio::test]
async fn failed_attempts_retry_at_about_2_4_8_seconds_then_fail_keeping_the_error() {
    let (_dir, store) = store().await;
    let clock = Arc::new(ManualClock::new(T0));
    let runs = Arc::new(AtomicU32::new(0));
    let (rec, seen) = recorder();
    let q = TaskQueue::builder(store)
        .clock(clock.clone())
        .register(Flaky(runs.clone()))
        .register(rec)
        .build();
    q.start();
    let id = q
        .enqueue::<Flaky>(&Note { n: 0 }, EnqueueOptions::default())
        .await
        .unwrap();
    for (attempt, nominal) in [(1u32, 2_000i64), (2, 4_000), (3, 8_000)] {
        let t = wait_for(&q, id, |t| {
            t.attempts == attempt && t.status == Status::Pending
        })
        .await;
        let delay = t.run_at - clock.now_ms();
        assert!(
            delay >= nominal * 8 / 10 && delay <= nominal * 12 / 10,
            "attempt {attempt}: retry in {delay} ms, expected about {nominal}"
        );
        assert_eq!(
            t.error.as_deref(),
            Some(&*format!("boom on attempt {attempt}"))
        );
        // Just before it is due nothing runs, though a task that is due does (the
        // positive control: the queue did look at this moment).
        clock.advance(Duration::from_millis((delay - 100) as u64));
        let due = q
            .enqueue::<Recorder>(&Note { n: attempt }, EnqueueOptions::default())
            .await
            .unwrap();
        wait_for(&q, due, |t| t.status == Status::Completed).await;
        settle().await;
        assert!(seen.lock().unwrap().contains(&attempt));
        assert_eq!(runs.load(Ordering::SeqCst), attempt);
        clock.advance(Duration::from_millis(100));
    }
    let t = wait_for(&q, id, |t| t.status.is_final()).await;
    assert_eq!(t.status, Status::Failed);
    assert_eq!(t.attempts, 4);
    assert_eq!(runs.load(Ordering::SeqCst), 4);
    assert_eq!(t.error.as_deref(), Some("boom on attempt 4"));
    let stats = q.stats().await.unwrap();
    assert_eq!(stats.retries_total, 3);
    assert_eq!(stats.failed_total, 1);
    q.shutdown(Duration::from_secs(1)).await;
}

/// Panics on every run.
struct Panics;

impl Handler for Panics {
    const KIND: &'static str = "test.panics";
    type Payload = Note;
    async fn run(&self, p: Note, _: TaskContext) -> Result<Value, TaskError> {
        if p.n < 100 {
            panic!("secret detail {}", p.n);
        }
        Ok(json!(null))
    }
}

#[tokio::test]
async fn a_panicking_handler_fails_its_task_at_once_with_a_public_message() {
    let (_dir, store) = store().await;
    let q = TaskQueue::builder(store).register(Panics).build();
    q.start();
    let id = q
        .enqueue::<Panics>(&Note { n: 1 }, EnqueueOptions::default())
        .await
        .unwrap();
    let t = wait_for(&q, id, |t| t.status.is_final()).await;
    assert_eq!(t.status, Status::Failed);
    assert_eq!(t.attempts, 1, "no retry of a panic");
    let error = t.error.unwrap();
    assert!(error.contains("internal error"), "{error}");
    assert!(!error.contains("secret"), "{error}");
    q.shutdown(Duration::from_secs(1)).await;
}

#[tokio::test]
async fn a_bad_payload_fails_at_once_without_retries() {
    let (_dir, store) = store().await;
    let (rec, seen) = recorder();
    let q = TaskQueue::builder(store).register(rec).build();
    q.start();
    let id = q
        .enqueue_json(
            "test.record",
            &json!({ "n": "not a number" }),
            EnqueueOptions::default(),
        )
        .await
        .unwrap();
    let t = wait_for(&q, id, |t| t.status.is_final()).await;
    assert_eq!(t.status, Status::Failed);
    assert_eq!(t.attempts, 1);
    let error = t.error.unwrap();
    assert!(
        error.contains("input is not valid"),
        "a public message: {error}"
    );
    assert!(
        !error.contains("invalid type"),
        "the decoder's detail stays in the log: {error}"
    );
    assert!(seen.lock().unwrap().is_empty());
    let err = q
        .enqueue_json("no.such.kind", &json!({}), EnqueueOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(err, QueueError::UnknownKind(k) if k == "no.such.kind"));
    q.shutdown(Duration::from_secs(1)).await;
}

#[tokio::test]
async fn a_pending_task_is_cancelled_at_once_and_never_runs() {
    let (_dir, store) = store().await;
    let clock = Arc::new(ManualClock::new(T0));
    let (rec, seen) = recorder();
    let q = TaskQueue::builder(store)
        .clock(clock.clone())
        .register(rec)
        .build();
    q.start();
    let id = q
        .enqueue::<Recorder>(
            &Note { n: 1 },
            EnqueueOptions {
                delay_ms: 60_000,
                ..EnqueueOptions::default()
            },
        )
        .await
        .unwrap();
    let t = q.cancel(id).await.unwrap();
    assert_eq!(t.status, Status::Cancelled);
    assert!(t.finished_at.is_some());
    clock.advance(Duration::from_secs(120));
    let later = q
        .enqueue::<Recorder>(&Note { n: 2 }, EnqueueOptions::default())
        .await
        .unwrap();
    wait_for(&q, later, |t| t.status == Status::Completed).await;
    assert_eq!(*seen.lock().unwrap(), vec![2]);
    assert_eq!(q.get(id).await.unwrap().unwrap().status, Status::Cancelled);
    assert!(matches!(
        q.cancel(999).await,
        Err(QueueError::NotFound(999))
    ));
    q.shutdown(Duration::from_secs(1)).await;
}

/// Starts a `Long` task, cancels it once it runs, and returns it at its end with the
/// events seen on the way and the queue's cancelled count.
async fn cancel_while_running(stubborn: bool) -> (Task, Vec<TaskEvent>, u64) {
    let (_dir, store) = store().await;
    let q = TaskQueue::builder(store)
        .register(Long { stubborn })
        .build();
    q.start();
    let id = q
        .enqueue::<Long>(&Note { n: 0 }, EnqueueOptions::default())
        .await
        .unwrap();
    let mut events = q.subscribe();
    wait_for(&q, id, |t| t.status == Status::Running).await;
    q.cancel(id).await.unwrap();
    let task = wait_for(&q, id, |t| t.status.is_final()).await;
    let mut seen = Vec::new();
    while let Ok(e) = events.try_recv() {
        seen.push(e);
    }
    let cancelled = q.stats().await.unwrap().cancelled_total;
    q.shutdown(Duration::from_secs(1)).await;
    (task, seen, cancelled)
}

#[tokio::test]
async fn a_running_task_sees_the_cancel_and_ends_cancelled() {
    let (task, events, cancelled) = cancel_while_running(false).await;
    assert_eq!(task.status, Status::Cancelled);
    assert_eq!(task.result, None);
    assert!(
        events
            .iter()
            .any(|e| e.id == task.id && e.status == Status::Cancelled)
    );
    assert_eq!(cancelled, 1);
}

#[tokio::test]
async fn a_cancelled_task_never_completes_even_if_its_handler_returns_success() {
    let (task, events, _) = cancel_while_running(true).await;
    assert_eq!(task.status, Status::Cancelled);
    assert_eq!(task.result, None);
    assert!(!events.iter().any(|e| e.status == Status::Completed));
}

#[tokio::test]
async fn a_task_left_by_a_dead_process_is_claimed_again_when_its_lease_expires() {
    let (_dir, store) = store().await;
    let clock = Arc::new(ManualClock::new(T0));
    // What a process killed mid-task leaves behind: running, leased to it, one attempt used.
    store
        .write()
        .await
        .unwrap()
        .execute(
            "test.orphan",
            "INSERT INTO tasks (kind, payload, status, run_at, created_at, attempts, max_retries,
                lease_owner, lease_until, started_at)
             VALUES ('test.record', '{\"n\":7}', 'running', ?1, ?1, 1, 3, 'dead-process', ?2, ?1)",
            params![T0 - 5_000, T0 + 10_000],
        )
        .await
        .unwrap();
    let (rec, seen) = recorder();
    let q = TaskQueue::builder(store)
        .clock(clock.clone())
        .register(rec)
        .build();
    q.start();
    // A due task runs at this (manual) time, the positive control that the queue looked;
    // the leased one does not.
    let due = q
        .enqueue::<Recorder>(&Note { n: 1 }, EnqueueOptions::default())
        .await
        .unwrap();
    wait_for(&q, due, |t| t.status == Status::Completed).await;
    settle().await;
    assert_eq!(
        *seen.lock().unwrap(),
        vec![1],
        "the due task ran; the leased one has not expired yet"
    );
    clock.advance(Duration::from_secs(11));
    let t = wait_for(&q, 1, |t| t.status == Status::Completed).await;
    assert_eq!(t.attempts, 2);
    assert_eq!(*seen.lock().unwrap(), vec![1, 7]);
    q.shutdown(Duration::from_secs(1)).await;
}

#[tokio::test]
async fn shutdown_releases_the_lease_of_a_task_that_does_not_stop() {
    let (_dir, store) = store().await;
    let q = TaskQueue::builder(store.clone())
        .register(Long { stubborn: false })
        .build();
    q.start();
    let id = q
        .enqueue::<Long>(&Note { n: 0 }, EnqueueOptions::default())
        .await
        .unwrap();
    wait_for(&q, id, |t| t.status == Status::Running).await;
    q.shutdown(Duration::from_millis(50)).await;
    let t = q.get(id).await.unwrap().unwrap();
    assert_eq!(t.status, Status::Pending);
    assert_eq!(t.attempts, 0, "a released attempt is not counted");
    assert!(matches!(
        q.enqueue::<Long>(&Note { n: 1 }, EnqueueOptions::default())
            .await,
        Err(QueueError::ShuttingDown)
    ));
    // The next process runs it.
    let (rec, _) = recorder();
    let next = TaskQueue::builder(store)
        .register(Long { stubborn: false })
        .register(rec)
        .build();
    next.start();
    wait_for(&next, id, |t| {
        t.status == Status::Running && t.attempts == 1
    })
    .await;
    next.cancel(id).await.unwrap();
    next.shutdown(Duration::from_secs(1)).await;
}

#[tokio::test]
async fn cleanup_removes_finished_tasks_older_than_the_retention() {
    let (_dir, store) = store().await;
    let clock = Arc::new(ManualClock::new(T0));
    let (rec, _) = recorder();
    let q = TaskQueue::builder(store)
        .clock(clock.clone())
        .config(TaskConfig {
            // Only the explicit call below cleans up.
            cleanup_every: Duration::from_secs(1_000_000),
            ..TaskConfig::default()
        })
        .register(rec)
        .build();
    q.start();
    let old = q
        .enqueue::<Recorder>(&Note { n: 1 }, EnqueueOptions::default())
        .await
        .unwrap();
    wait_for(&q, old, |t| t.status == Status::Completed).await;
    clock.advance(Duration::from_secs(3_000));
    let young = q
        .enqueue::<Recorder>(&Note { n: 2 }, EnqueueOptions::default())
        .await
        .unwrap();
    wait_for(&q, young, |t| t.status == Status::Completed).await;
    clock.advance(Duration::from_secs(700));
    let removed = q.cleanup().await.unwrap();
    assert_eq!(removed.iter().map(|t| t.id).collect::<Vec<_>>(), vec![old]);
    assert!(q.get(old).await.unwrap().is_none());
    assert!(q.get(young).await.unwrap().is_some());
    let listed = q
        .list(Visible::All, Some(Status::Completed), 10, None)
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    q.shutdown(Duration::from_secs(1)).await;
}

mod admission;
