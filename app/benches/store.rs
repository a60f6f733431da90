//! Store benchmarks on the real schema, each next to a bare-libsql baseline doing the same
//! query on a plain connection with the same PRAGMAs, so the report is a ratio (the cost of
//! the pool, the timing, the parsing and the mapping), not an absolute that drifts.
//!
//! Run: `cargo bench -p app --features server --bench store`
//! The 100k-story database is generated once (deterministic demo data) into
//! `target/bench-data/` and reused. Besides criterion's means, every group prints p50 / p95 /
//! p99 from an HDR histogram of single operations, because the targets are percentiles.

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::{
    path::PathBuf,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use app::backend::{
    demo,
    library::{
        nodes::{self, StoryLimits},
        search_index, stories, story_list,
    },
    schema,
};
use app::model::{BatchNode, NodeBatch, NodeKind, StorySort, fields::Id, fields::Limit};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use server::store::{Store, StoreConfig, params};

const STORIES: usize = 100_000;
const NODES_PER_STORY: usize = 10;
const TREE_NODES: usize = 10_000;
const BATCH_NODES: usize = 10_000;

#[path = "store/mixed_load.rs"]
mod mixed_load;
use mixed_load::mixed_load;
#[path = "store/tree.rs"]
mod tree;
use tree::tree;

fn data_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    target.join("bench-data")
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

/// The PRAGMAs the store applies, for the baseline connection.
const PRAGMAS: &str =
    "PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;
    PRAGMA cache_size = -65536; PRAGMA temp_store = MEMORY; PRAGMA mmap_size = 268435456;";

async fn bare(path: &std::path::Path) -> libsql::Connection {
    let db = libsql::Builder::new_local(path)
        .build()
        .await
        .expect("open");
    let conn = db.connect().expect("connect");
    let mut batch = conn.execute_batch(PRAGMAS).await.expect("pragmas");
    while let Some(rows) = batch.next_stmt_row() {
        if let Some(mut rows) = rows {
            while rows.next().await.expect("row").is_some() {}
        }
    }
    conn
}

/// Opens (and on first use generates) the 100k-story database, plus one 10k-node story.
async fn library() -> (Store, PathBuf, String) {
    let dir = data_dir();
    std::fs::create_dir_all(&dir).expect("bench dir");
    let path = dir.join(format!("library-v2-{STORIES}x{NODES_PER_STORY}.db"));
    let fresh = !path.exists();
    let store = Store::open(StoreConfig::new(&path)).await.expect("open");
    store.migrate(schema::MIGRATIONS).await.expect("migrate");
    if fresh {
        let t = Instant::now();
        let report = demo::seed(
            &store,
            demo::DemoSpec {
                stories: STORIES,
                nodes_per_story: NODES_PER_STORY,
                seed: 7,
                covers: 0,
            },
        )
        .await
        .expect("seed");
        let id = new_story(&store, "Ten thousand nodes").await;
        nodes::create_batch(&store, &id, &ternary_tree(TREE_NODES), StoryLimits::NONE)
            .await
            .expect("tree");
        let indexed = search_index::drain(&store).await.expect("index");
        store.analyze().await.expect("analyze");
        eprintln!("indexed {indexed} nodes for search");
        eprintln!(
            "generated {} stories / {} nodes (+{TREE_NODES}) in {:.1?}",
            report.stories,
            report.nodes,
            t.elapsed()
        );
    }
    let conn = store.read().await.expect("reader");
    let big = conn
        .query_opt(
            "bench.big",
            "SELECT id FROM stories WHERE title = 'Ten thousand nodes'",
            (),
            |r| r.get::<String>(0),
        )
        .await
        .expect("query")
        .expect("the big story exists");
    drop(conn);
    (store, path, big)
}

/// Creates an empty story; its id.
async fn new_story(store: &Store, title: &str) -> Id {
    let story = stories::create(
        store,
        app::backend::schema::DEMO_ACCOUNT,
        &app::model::NewStory {
            title: title.into(),
            ..Default::default()
        },
    )
    .await
    .expect("story");
    Id::parse("id", &story.id).expect("id")
}

/// A batch of `n` nodes forming a tree where node i hangs under node (i-1)/3.
fn ternary_tree(n: usize) -> NodeBatch {
    NodeBatch {
        nodes: (0..n)
            .map(|i| BatchNode {
                ref_: Some(i.to_string()),
                parent_ref: (i > 0).then(|| ((i - 1) / 3).to_string()),
                parent_id: None,
                kind: if i % 2 == 0 {
                    NodeKind::Scene
                } else {
                    NodeKind::Choice
                },
                title: format!("节点 Node {i}"),
                content: Some(format!(
                    "第{i}段。The passage number {i} continues the story."
                )),
                choice_label: None,
                position: None,
            })
            .collect(),
    }
}

/// Single-operation latencies of one benchmark function.
struct Latencies(Mutex<hdrhistogram::Histogram<u64>>);

impl Latencies {
    fn new() -> Arc<Self> {
        Arc::new(Self(Mutex::new(
            hdrhistogram::Histogram::new_with_bounds(1, 60_000_000_000, 3).expect("bounds"),
        )))
    }
    fn record(&self, d: Duration) {
        let _ = self
            .0
            .lock()
            .expect("lock")
            .record((d.as_nanos() as u64).max(1));
    }
    fn line(&self, name: &str) -> String {
        let h = self.0.lock().expect("lock");
        let us = |q: f64| h.value_at_quantile(q) as f64 / 1000.0;
        format!(
            "{name:<28} n={:>8}  p50={:>9.1} µs  p95={:>9.1} µs  p99={:>9.1} µs",
            h.len(),
            us(0.5),
            us(0.95),
            us(0.99)
        )
    }
}

fn report(group: &str, rows: &[(&str, &Arc<Latencies>)]) {
    println!("\n{group}: single-operation latency");
    for (name, l) in rows {
        println!("- {}", l.line(name));
    }
}

fn point_reads_and_pages(c: &mut Criterion) {
    let rt = runtime();
    let (store, path, _) = rt.block_on(library());
    let conn = rt.block_on(bare(&path));
    let ids: Vec<String> = rt.block_on(async {
        let r = store.read().await.expect("reader");
        r.query(
            "bench.ids",
            "SELECT id FROM stories ORDER BY random() LIMIT 10000",
            (),
            |r| r.get::<String>(0),
        )
        .await
        .expect("ids")
    });
    let parsed: Vec<Id> = ids
        .iter()
        .map(|i| Id::parse("id", i).expect("id"))
        .collect();

    // Point read by id. Both loops run as a task on a runtime worker, where a server's
    // requests run: there the store hands the worker's other tasks to another thread while
    // SQLite works (store::deadline), and that hand-off is part of what is measured.
    let (ours, base) = (Latencies::new(), Latencies::new());
    let mut group = c.benchmark_group("story_by_id");
    group.measurement_time(Duration::from_secs(4));
    let parsed = Arc::new(parsed);
    group.bench_function("aion", |b| {
        b.iter_custom(|iters| {
            let (store, parsed, ours) = (store.clone(), parsed.clone(), ours.clone());
            rt.block_on(rt.spawn(async move {
                let start = Instant::now();
                for i in 0..iters {
                    let t = Instant::now();
                    let s = stories::get(&store, &parsed[i as usize % parsed.len()])
                        .await
                        .expect("story");
                    ours.record(t.elapsed());
                    std::hint::black_box(s);
                }
                start.elapsed()
            }))
            .expect("bench task")
        })
    });
    let by_id = Arc::new(format!(
        "SELECT {} FROM stories s WHERE s.id = ?1",
        stories::STORY_COLUMNS
    ));
    let ids = Arc::new(ids);
    group.bench_function("bare_libsql", |b| {
        b.iter_custom(|iters| {
            let (conn, by_id, ids, base) = (conn.clone(), by_id.clone(), ids.clone(), base.clone());
            rt.block_on(rt.spawn(async move {
                let start = Instant::now();
                for i in 0..iters {
                    let t = Instant::now();
                    let mut rows = conn
                        .query(&by_id, [ids[i as usize % ids.len()].as_str()])
                        .await
                        .expect("query");
                    let row = rows.next().await.expect("row").expect("found");
                    let s = stories::story_from_row(&row).expect("maps");
                    drop(rows);
                    base.record(t.elapsed());
                    std::hint::black_box(s);
                }
                start.elapsed()
            }))
            .expect("bench task")
        })
    });
    group.finish();
    report(
        "story_by_id",
        &[("aion (pool + timing)", &ours), ("bare libsql", &base)],
    );

    // A 50-row page at cursors spread over the whole list.
    let cursors: Vec<Option<String>> = rt.block_on(async {
        let mut out = vec![None];
        let mut q = story_list::StoryQuery {
            limit: Some(Limit::parse(Some("200")).expect("limit")),
            ..Default::default()
        };
        while out.len() < 100 {
            let page = story_list::list(&store, &q).await.expect("page");
            let Some(next) = page.next_cursor else { break };
            out.push(Some(next.clone()));
            q.cursor = Some(next);
        }
        out
    });
    let keys: Vec<Option<(i64, String)>> = rt.block_on(async {
        let mut keys = Vec::new();
        for c in &cursors {
            keys.push(match c {
                None => None,
                Some(_) => {
                    let q = story_list::StoryQuery {
                        cursor: c.clone(),
                        limit: Some(Limit::parse(Some("1")).expect("limit")),
                        ..Default::default()
                    };
                    let page = story_list::list(&store, &q).await.expect("page");
                    let s = &page.items[0];
                    let r = store.read().await.expect("reader");
                    let at = r
                        .query_i64(
                            "bench.key",
                            "SELECT updated_at FROM stories WHERE id = ?1",
                            [s.id.as_str()],
                        )
                        .await
                        .expect("key");
                    Some((at + 1, s.id.clone()))
                }
            });
        }
        keys
    });
    let (ours, base) = (Latencies::new(), Latencies::new());
    let mut group = c.benchmark_group("story_page_50");
    group.measurement_time(Duration::from_secs(4));
    group.bench_function(BenchmarkId::new("aion", STORIES), |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for i in 0..iters {
                    let q = story_list::StoryQuery {
                        cursor: cursors[i as usize % cursors.len()].clone(),
                        sort: StorySort::UpdatedDesc,
                        ..Default::default()
                    };
                    let t = Instant::now();
                    let page = story_list::list(&store, &q).await.expect("page");
                    ours.record(t.elapsed());
                    std::hint::black_box(page);
                }
                start.elapsed()
            })
        })
    });
    let page_sql = format!(
        "SELECT {} FROM stories s WHERE s.status <> 'archived' AND (s.updated_at, s.id) < (?1, ?2)
         ORDER BY s.updated_at DESC, s.id DESC LIMIT 51",
        stories::STORY_COLUMNS
    );
    group.bench_function(BenchmarkId::new("bare_libsql", STORIES), |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for i in 0..iters {
                    let (at, id) = keys[i as usize % keys.len()]
                        .clone()
                        .unwrap_or((i64::MAX, String::new()));
                    let t = Instant::now();
                    let mut rows = conn.query(&page_sql, params![at, id]).await.expect("query");
                    let mut out = Vec::with_capacity(51);
                    while let Some(row) = rows.next().await.expect("row") {
                        out.push(stories::story_from_row(&row).expect("maps"));
                    }
                    base.record(t.elapsed());
                    std::hint::black_box(out);
                }
                start.elapsed()
            })
        })
    });
    group.finish();
    report(
        "story_page_50 at 100k stories",
        &[
            ("aion (parse + cursor + pool)", &ours),
            ("bare libsql", &base),
        ],
    );
}

fn batch_insert(c: &mut Criterion) {
    let rt = runtime();
    let dir = tempfile::tempdir().expect("tempdir");
    let store = rt.block_on(async {
        let s = Store::open(StoreConfig::new(dir.path().join("batch.db")))
            .await
            .expect("open");
        s.migrate(schema::MIGRATIONS).await.expect("migrate");
        s
    });
    let base_path = dir.path().join("bare.db");
    let conn = rt.block_on(async {
        let s = Store::open(StoreConfig::new(&base_path))
            .await
            .expect("open");
        s.migrate(schema::MIGRATIONS).await.expect("migrate");
        bare(&base_path).await
    });
    let batch = ternary_tree(BATCH_NODES);
    let mut group = c.benchmark_group("batch_insert");
    group.throughput(Throughput::Elements(BATCH_NODES as u64));
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(10));
    group.bench_function(BenchmarkId::new("aion_create_batch", BATCH_NODES), |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let id = new_story(&store, "batch").await;
                    let t = Instant::now();
                    let result = nodes::create_batch(&store, &id, &batch, StoryLimits::NONE)
                        .await
                        .expect("batch");
                    total += t.elapsed();
                    assert_eq!(result.created as usize, BATCH_NODES);
                }
                total
            })
        })
    });
    // The same number of nodes, flat, every one asking for position 0: each goes in front
    // of the ones before it. Linear like the tree above since positions are worked out in
    // memory (it was quadratic: ~50 M sibling shifts).
    let front = NodeBatch {
        nodes: (0..BATCH_NODES)
            .map(|i| BatchNode {
                ref_: None,
                parent_ref: None,
                parent_id: None,
                kind: NodeKind::Chapter,
                title: format!("第{i}章 Chapter {i}"),
                content: None,
                choice_label: None,
                position: Some(0),
            })
            .collect(),
    };
    group.bench_function(
        BenchmarkId::new("aion_create_batch_all_at_front", BATCH_NODES),
        |b| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        let id = new_story(&store, "front").await;
                        let t = Instant::now();
                        let result = nodes::create_batch(&store, &id, &front, StoryLimits::NONE)
                            .await
                            .expect("batch");
                        total += t.elapsed();
                        assert_eq!(result.created as usize, BATCH_NODES);
                    }
                    total
                })
            })
        },
    );
    group.bench_function(BenchmarkId::new("bare_libsql_prepared_insert", BATCH_NODES), |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let mut total = Duration::ZERO;
                for it in 0..iters {
                    let story_id = app::backend::new_id();
                    conn.execute(
                        "INSERT INTO stories (id, title, status, created_at, updated_at) VALUES (?1, 'batch', 'draft', 0, 0)",
                        [story_id.as_str()],
                    )
                    .await
                    .expect("story");
                    let ids: Vec<String> = (0..BATCH_NODES).map(|_| app::backend::new_id()).collect();
                    let t = Instant::now();
                    let tx = conn.transaction_with_behavior(libsql::TransactionBehavior::Immediate).await.expect("tx");
                    {
                        let stmt = tx
                            .prepare(
                                "INSERT INTO nodes (id, story_id, parent_id, position, kind, title, content, choice_label,
                                                    word_count, created_at, updated_at)
                                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, NULL, ?8, ?9, ?9)",
                            )
                            .await
                            .expect("prepare");
                        for (i, n) in batch.nodes.iter().enumerate() {
                            let parent = (i > 0).then(|| ids[(i - 1) / 3].as_str());
                            stmt.execute(params![
                                ids[i].as_str(),
                                story_id.as_str(),
                                parent,
                                ((i + 2) % 3) as i64,
                                n.kind.as_str(),
                                n.title.as_str(),
                                n.content.as_deref().unwrap_or(""),
                                10,
                                it as i64
                            ])
                            .await
                            .expect("insert");
                            stmt.reset();
                        }
                    }
                    tx.commit().await.expect("commit");
                    total += t.elapsed();
                }
                total
            })
        })
    });
    group.finish();
}

criterion_group!(
    benches,
    point_reads_and_pages,
    tree,
    batch_insert,
    mixed_load
);
criterion_main!(benches);
