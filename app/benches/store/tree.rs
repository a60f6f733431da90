//! The tree benchmarks of the store: a 10,000-node story read whole, next to the same
//! query on a bare connection, and what requests read instead since issue 27 (finding 6):
//! the story's outline and one node's view cut from it.

use super::*;
use app::backend::library::nodes::outline::Outline;

/// The whole tree of a 10,000-node story (store against bare libsql), then the outline
/// and a node's view from it.
pub fn tree(c: &mut Criterion) {
    let rt = runtime();
    let (store, path, big) = rt.block_on(library());
    let conn = rt.block_on(bare(&path));
    let id = Id::parse("id", &big).expect("id");
    let (ours, base) = (Latencies::new(), Latencies::new());
    let mut group = c.benchmark_group("tree_10k_nodes");
    group
        .measurement_time(Duration::from_secs(6))
        .sample_size(30);
    group.bench_function("aion", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    let t = Instant::now();
                    let tree = nodes::tree(&store, &id).await.expect("tree");
                    assert_eq!(tree.nodes.len(), TREE_NODES);
                    ours.record(t.elapsed());
                }
                start.elapsed()
            })
        })
    });
    group.bench_function("bare_libsql", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    let t = Instant::now();
                    let mut rows = conn
                        .query(nodes::TREE_SQL, [big.as_str()])
                        .await
                        .expect("query");
                    let mut out = Vec::with_capacity(TREE_NODES);
                    while let Some(row) = rows.next().await.expect("row") {
                        out.push(nodes::node_from_row(&row).expect("maps"));
                    }
                    assert_eq!(out.len(), TREE_NODES);
                    base.record(t.elapsed());
                }
                start.elapsed()
            })
        })
    });
    group.finish();
    report("tree_10k_nodes", &[("aion", &ours), ("bare libsql", &base)]);

    // What requests read instead of the whole tree (issue 27, finding 6): the outline (no
    // content; built once per change of the story, then cached) and one node's view cut
    // from it, beside the whole tree above.
    let (outlines, views) = (Latencies::new(), Latencies::new());
    let mut group = c.benchmark_group("outline_10k_nodes");
    group
        .measurement_time(Duration::from_secs(6))
        .sample_size(30);
    group.bench_function("outline_load", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    let t = Instant::now();
                    let outline = Outline::load(&store, &id).await.expect("outline");
                    assert_eq!(outline.rows.len(), TREE_NODES);
                    outlines.record(t.elapsed());
                }
                start.elapsed()
            })
        })
    });
    let outline = rt.block_on(Outline::load(&store, &id)).expect("outline");
    let node = rt
        .block_on(nodes::tree(&store, &id))
        .expect("tree")
        .nodes
        .remove(0);
    group.bench_function("view_of_cached_outline", |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            for i in 0..iters {
                let t = Instant::now();
                let at = outline.rows[(i as usize * 7919) % TREE_NODES]
                    .summary
                    .id
                    .as_str();
                let index = outline.index_of(at).expect("a node of the story");
                std::hint::black_box(outline.view_of(index, node.clone()));
                views.record(t.elapsed());
            }
            start.elapsed()
        })
    });
    group.finish();
    report(
        "outline_10k_nodes",
        &[
            ("outline load (no content)", &outlines),
            ("one node's view from the cached outline", &views),
        ],
    );
}
