//! The mixed-load benchmark of the store: many writers and readers at once, through the
//! store and on bare connections, counting operations and SQLITE_BUSY (the store benches'
//! other groups measure single operations; this one measures contention).

use super::*;

/// 8 writers and 64 readers for 10 s: through the store (one serialised writer, pooled
/// readers) and with 72 bare connections on their own threads (each connection writing in
/// deferred transactions as a naive application would). Counts operations and SQLITE_BUSY.
pub fn mixed_load(_c: &mut Criterion) {
    const WRITERS: usize = 8;
    const READERS: usize = 64;
    let secs = std::env::var("AION_MIXED_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10u64);
    let rt = runtime();
    let (store, path, big) = rt.block_on(library());
    let story_ids: Vec<String> = rt.block_on(async {
        let r = store.read().await.expect("reader");
        r.query(
            "bench.ids",
            "SELECT id FROM stories ORDER BY random() LIMIT 1000",
            (),
            |r| r.get::<String>(0),
        )
        .await
        .expect("ids")
    });
    let node_ids: Vec<String> = rt.block_on(async {
        let r = store.read().await.expect("reader");
        r.query(
            "bench.node_ids",
            "SELECT id FROM nodes WHERE story_id = ?1 LIMIT 1000",
            [big.as_str()],
            |r| r.get::<String>(0),
        )
        .await
        .expect("ids")
    });

    // Through the store.
    let stop = Arc::new(AtomicBool::new(false));
    let (reads, writes, busy, other) = (
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
    );
    rt.block_on(async {
        let mut tasks = tokio::task::JoinSet::new();
        for w in 0..WRITERS {
            let (store, stop, writes, busy, other, node_ids) = (
                store.clone(),
                stop.clone(),
                writes.clone(),
                busy.clone(),
                other.clone(),
                node_ids.clone(),
            );
            tasks.spawn(async move {
                let mut i = w;
                while !stop.load(Ordering::Relaxed) {
                    let id = Id::parse("id", &node_ids[i % node_ids.len()]).expect("id");
                    let patch = app::model::NodePatch {
                        content: Some(format!("edit {i} 修改")),
                        ..Default::default()
                    };
                    match nodes::update(&store, &id, &patch, StoryLimits::NONE).await {
                        Ok(_) => writes.fetch_add(1, Ordering::Relaxed),
                        Err(e) if e.code() == app::model::ErrorCode::Unavailable => {
                            busy.fetch_add(1, Ordering::Relaxed)
                        }
                        Err(_) => other.fetch_add(1, Ordering::Relaxed),
                    };
                    i += WRITERS;
                    tokio::task::yield_now().await;
                }
            });
        }
        for r in 0..READERS {
            let (store, stop, reads, other, story_ids) = (
                store.clone(),
                stop.clone(),
                reads.clone(),
                other.clone(),
                story_ids.clone(),
            );
            tasks.spawn(async move {
                let mut i = r;
                while !stop.load(Ordering::Relaxed) {
                    let id = Id::parse("id", &story_ids[i % story_ids.len()]).expect("id");
                    let ok = if i % 4 == 0 {
                        story_list::list(&store, &story_list::StoryQuery::default())
                            .await
                            .is_ok()
                    } else {
                        stories::get(&store, &id).await.is_ok()
                    };
                    if ok {
                        reads.fetch_add(1, Ordering::Relaxed)
                    } else {
                        other.fetch_add(1, Ordering::Relaxed)
                    };
                    i += READERS;
                    tokio::task::yield_now().await;
                }
            });
        }
        tokio::time::sleep(Duration::from_secs(secs)).await;
        stop.store(true, Ordering::Relaxed);
        while tasks.join_next().await.is_some() {}
    });
    let ours = (
        reads.load(Ordering::Relaxed),
        writes.load(Ordering::Relaxed),
        busy.load(Ordering::Relaxed),
        other.load(Ordering::Relaxed),
    );

    // 72 bare connections, one thread each.
    let stop = Arc::new(AtomicBool::new(false));
    let (reads, writes, busy, other) = (
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
    );
    let mut threads = Vec::new();
    for t in 0..WRITERS + READERS {
        let (path, stop, reads, writes, busy, other) = (
            path.clone(),
            stop.clone(),
            reads.clone(),
            writes.clone(),
            busy.clone(),
            other.clone(),
        );
        let (story_ids, node_ids) = (story_ids.clone(), node_ids.clone());
        threads.push(std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("rt");
            rt.block_on(async move {
                let conn = bare(&path).await;
                let mut i = t;
                while !stop.load(Ordering::Relaxed) {
                    let result: Result<(), libsql::Error> = async {
                        if t < WRITERS {
                            // Read, then write, in one deferred transaction.
                            let tx = conn.transaction().await?;
                            let id = &node_ids[i % node_ids.len()];
                            let mut rows = tx
                                .query("SELECT updated_at FROM nodes WHERE id = ?1", [id.as_str()])
                                .await?;
                            let at: i64 = rows.next().await?.map_or(Ok(0), |r| r.get(0))?;
                            drop(rows);
                            tx.execute(
                                "UPDATE nodes SET content = ?2, updated_at = ?3 WHERE id = ?1",
                                params![id.as_str(), format!("edit {i}"), at + 1],
                            )
                            .await?;
                            tx.commit().await?;
                            writes.fetch_add(1, Ordering::Relaxed);
                        } else {
                            let mut rows = conn
                                .query(
                                    "SELECT title FROM stories WHERE id = ?1",
                                    [story_ids[i % story_ids.len()].as_str()],
                                )
                                .await?;
                            while rows.next().await?.is_some() {}
                            reads.fetch_add(1, Ordering::Relaxed);
                        }
                        Ok(())
                    }
                    .await;
                    if let Err(e) = result {
                        let text = e.to_string();
                        if text.contains("locked") || text.contains("busy") || text.contains("BUSY")
                        {
                            busy.fetch_add(1, Ordering::Relaxed);
                        } else {
                            other.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    i += WRITERS + READERS;
                }
            });
        }));
    }
    std::thread::sleep(Duration::from_secs(secs));
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        let _ = t.join();
    }
    let bare_counts = (
        reads.load(Ordering::Relaxed),
        writes.load(Ordering::Relaxed),
        busy.load(Ordering::Relaxed),
        other.load(Ordering::Relaxed),
    );
    println!("\nmixed load: {WRITERS} writers + {READERS} readers for {secs} s");
    println!(
        "  {:<34} {:>10} {:>10} {:>12} {:>8}",
        "", "reads", "writes", "SQLITE_BUSY", "other"
    );
    for (name, (r, w, b, o)) in [
        ("aion store (1 writer + pool)", ours),
        ("bare: 72 connections, deferred tx", bare_counts),
    ] {
        println!("  {name:<34} {r:>10} {w:>10} {b:>12} {o:>8}");
    }
}
