//! Task queue benchmarks, each next to its baseline, printed as Markdown tables.
//!
//! Run: `cargo bench -p server --bench tasks`
//! - Throughput: N durable no-op tasks enqueued one by one and run to completion by 4
//!   workers, next to N bare single-row inserts into the same table through the same store
//!   (what the enqueue alone costs). Three alternating rounds. Target ≥ 5,000 tasks/s.
//! - Pickup latency: from the start of `enqueue` to the handler starting, one task at a time
//!   on an idle queue. Target p50 ≤ 5 ms.
//!
//! With `DEBUG_KINDS=1` each throughput round also prints the store's latency per query kind
//! (enqueue, claim, finish, commit), which is where the time of a task goes.

use std::time::{Duration, Instant};

use serde_json::Value;
use server::{
    metrics::Histogram,
    store::{Migration, Store, StoreConfig, params},
    tasks::{EnqueueOptions, Handler, Status, TaskConfig, TaskContext, TaskError, TaskQueue},
};
use tokio::sync::mpsc;

const TASKS: usize = 20_000;
const PICKUPS: usize = 2_000;

struct Noop;

impl Handler for Noop {
    const KIND: &'static str = "bench.noop";
    type Payload = u64;
    async fn run(&self, _: u64, _: TaskContext) -> Result<Value, TaskError> {
        Ok(Value::Null)
    }
}

/// Reports when it starts.
struct Ping(mpsc::UnboundedSender<Instant>);

impl Handler for Ping {
    const KIND: &'static str = "bench.ping";
    type Payload = u64;
    async fn run(&self, _: u64, _: TaskContext) -> Result<Value, TaskError> {
        let _ = self.0.send(Instant::now());
        Ok(Value::Null)
    }
}

async fn fresh_store(dir: &tempfile::TempDir, name: &str) -> Store {
    let store = Store::open(StoreConfig::new(dir.path().join(name)))
        .await
        .expect("open store");
    store
        .migrate(&[
            Migration {
                version: 1,
                name: "tasks",
                sql: server::tasks::SCHEMA,
            },
            Migration {
                version: 2,
                name: "task public ids",
                sql: server::tasks::SCHEMA_PUBLIC_IDS,
            },
            Migration {
                version: 3,
                name: "task shares per owner",
                sql: server::tasks::SCHEMA_OWNER_SHARE,
            },
        ])
        .await
        .expect("migrate");
    store
}

/// N single-row autocommit inserts of the same row shape, through the store's writer.
async fn bare_inserts(store: &Store) -> f64 {
    let start = Instant::now();
    for i in 0..TASKS as i64 {
        let w = store.write().await.expect("writer");
        w.execute(
            "bench.insert",
            "INSERT INTO tasks (kind, payload, priority, run_at, created_at, max_retries)
             VALUES ('bench.bare', ?1, 2, ?2, ?2, 3)",
            params![i.to_string(), i],
        )
        .await
        .expect("insert");
    }
    TASKS as f64 / start.elapsed().as_secs_f64()
}

async fn noop_tasks(store: Store) -> f64 {
    let st = store.clone();
    let q = TaskQueue::builder(store)
        .config(TaskConfig {
            workers: 4,
            max_pending: TASKS as u64 + 1,
            reserved_pending: 0,
            ..TaskConfig::default()
        })
        .register(Noop)
        .build();
    q.start();
    let start = Instant::now();
    let mut last = 0;
    for i in 0..TASKS as u64 {
        last = q
            .enqueue::<Noop>(&i, EnqueueOptions::default())
            .await
            .expect("enqueue");
    }
    let mut events = q.subscribe();
    loop {
        let stats = q.stats().await.expect("stats");
        if stats.count(Status::Completed) == TASKS as u64 {
            break;
        }
        // Sleep until something finishes rather than spinning on the database.
        let _ = tokio::time::timeout(Duration::from_millis(20), events.recv()).await;
    }
    let rate = TASKS as f64 / start.elapsed().as_secs_f64();
    let t = q.get(last).await.expect("get").expect("task");
    assert_eq!(t.status, Status::Completed);
    q.shutdown(Duration::from_secs(5)).await;
    if std::env::var("DEBUG_KINDS").is_ok() {
        for k in st.query_timings() {
            eprintln!(
                "{} n={} mean={:.1} p50={:.1} p95={:.1}",
                k.kind, k.latency.count, k.latency.mean_us, k.latency.p50_us, k.latency.p95_us
            );
        }
    }
    rate
}

async fn pickup(store: Store) -> server::metrics::HistogramSnapshot {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let q = TaskQueue::builder(store).register(Ping(tx)).build();
    q.start();
    let h = Histogram::new();
    for i in 0..PICKUPS as u64 {
        let sent = Instant::now();
        q.enqueue::<Ping>(&i, EnqueueOptions::default())
            .await
            .expect("enqueue");
        let started = rx.recv().await.expect("handler ran");
        h.record(started - sent);
        // Let the worker record the end, so the next pickup starts from an idle queue.
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    q.shutdown(Duration::from_secs(5)).await;
    h.snapshot()
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        // `cargo bench -- --list` (used by tooling) expects no output for custom harnesses.
        return;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        println!("\n### Durable no-op tasks, 4 workers, {TASKS} per round\n");
        println!("| round | bare inserts/s | tasks/s end to end | tasks / inserts |");
        println!("|---|---:|---:|---:|");
        for round in 1..=3 {
            let dir = tempfile::tempdir().expect("tempdir");
            let bare = bare_inserts(&fresh_store(&dir, "bare.db").await).await;
            let tasks = noop_tasks(fresh_store(&dir, "tasks.db").await).await;
            println!("| {round} | {bare:.0} | {tasks:.0} | {:.2} |", tasks / bare);
        }
        println!("\n### Pickup latency (enqueue → handler start), {PICKUPS} tasks one at a time\n");
        let dir = tempfile::tempdir().expect("tempdir");
        let s = pickup(fresh_store(&dir, "pickup.db").await).await;
        println!("| p50 ms | p95 ms | p99 ms | max ms |\n|---:|---:|---:|---:|");
        println!(
            "| {:.3} | {:.3} | {:.3} | {:.3} |",
            s.p50_us / 1000.0,
            s.p95_us / 1000.0,
            s.p99_us / 1000.0,
            s.max_us / 1000.0
        );
    });
}
