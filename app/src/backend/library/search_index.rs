//! Keeps the node full-text index current in the background.
//!
//! Node writes only queue a rowid (`nodes_fts_pending`, filled by triggers); this task
//! tokenizes the queued nodes into the trigram index in chunks, each in its own short write
//! transaction so foreground writes never wait long. It wakes when the store's writer has
//! been used (no polling) and sleeps while the queue is empty. Searches also scan the queue,
//! so nothing written is ever missing from results while it waits here.

use std::time::Duration;

use server::store::{Store, StoreError};
use tokio::{sync::watch, task::JoinHandle};

/// Nodes indexed per write transaction (about 50 ms of trigram work).
const CHUNK: i64 = 1_000;

/// The running indexer.
pub struct SearchIndexer {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl SearchIndexer {
    /// Starts indexing whatever is queued now and whatever is queued later.
    pub fn spawn(store: Store) -> Self {
        let (stop, mut stopped) = watch::channel(false);
        let task = tokio::spawn(async move {
            let mut commits = store.commits();
            loop {
                match drain(&store).await {
                    Ok(n) if n > 0 => tracing::debug!(nodes = n, "search index updated"),
                    Ok(_) => {}
                    Err(e) => {
                        tracing::warn!("search indexing failed, retrying in 1 s: {e}");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
                tokio::select! {
                    changed = commits.changed() => if changed.is_err() { return },
                    _ = stopped.changed() => return,
                }
            }
        });
        Self { stop, task }
    }

    /// Stops after the chunk in progress.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// Indexes every queued node; returns how many.
pub async fn drain(store: &Store) -> Result<u64, StoreError> {
    let mut total = 0;
    while pending(store).await? > 0 {
        total += index_chunk(store).await?;
    }
    Ok(total)
}

/// Nodes waiting to be indexed.
pub async fn pending(store: &Store) -> Result<i64, StoreError> {
    let conn = store.read().await?;
    conn.query_i64(
        "search.pending",
        "SELECT count(*) FROM nodes_fts_pending",
        (),
    )
    .await
}

async fn index_chunk(store: &Store) -> Result<u64, StoreError> {
    let mut writer = store.write().await?;
    let tx = writer.begin().await?;
    let upper = tx
        .query_opt(
            "search.chunk_end",
            "SELECT max(seq) FROM (SELECT seq FROM nodes_fts_pending ORDER BY seq LIMIT ?1)",
            [CHUNK],
            |r| r.get::<Option<i64>>(0),
        )
        .await?
        .flatten();
    let Some(upper) = upper else {
        tx.commit().await?;
        return Ok(0);
    };
    tx.execute(
        "search.unindex",
        "DELETE FROM nodes_fts WHERE rowid IN (SELECT seq FROM nodes_fts_pending WHERE seq <= ?1)",
        [upper],
    )
    .await?;
    tx.execute(
        "search.index",
        "INSERT INTO nodes_fts (rowid, title, content)
         SELECT n.seq, n.title, n.content FROM nodes_fts_pending p JOIN nodes n ON n.seq = p.seq
          WHERE p.seq <= ?1",
        [upper],
    )
    .await?;
    let done = tx
        .execute(
            "search.dequeue",
            "DELETE FROM nodes_fts_pending WHERE seq <= ?1",
            [upper],
        )
        .await?;
    tx.commit().await?;
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::{
        library::{nodes, stories, story_list},
        schema,
    };
    use crate::model::{NewNode, NewStory, NodeKind, NodePatch, fields::Id, fields::SearchTerm};
    use server::store::StoreConfig;

    /// A migrated temp database with one story titled "Plain".
    async fn store_with_story() -> (tempfile::TempDir, Store, Id) {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(StoreConfig::new(dir.path().join("s.db")))
            .await
            .expect("open");
        store.migrate(schema::MIGRATIONS).await.expect("migrate");
        let story = stories::create(
            &store,
            schema::DEMO_ACCOUNT,
            &NewStory {
                title: "Plain".into(),
                visibility: Some(crate::model::Visibility::Public),
                ..Default::default()
            },
        )
        .await
        .expect("story");
        let sid = Id::parse("id", &story.id).expect("id");
        (dir, store, sid)
    }

    async fn found(store: &Store, term: &str) -> usize {
        let query = story_list::StoryQuery {
            q: SearchTerm::parse(Some(term)).expect("term"),
            ..Default::default()
        };
        story_list::list(store, &query)
            .await
            .expect("search")
            .items
            .len()
    }

    #[tokio::test]
    async fn node_text_is_searchable_before_and_after_indexing_and_edits_replace_it() {
        let (_dir, store, sid) = store_with_story().await;
        let node = nodes::create(
            &store,
            &sid,
            &NewNode {
                parent_id: None,
                kind: NodeKind::Scene,
                title: "Scene".into(),
                content: Some("他拔出青龙偃月刀。".into()),
                choice_label: None,
                position: None,
            },
            nodes::StoryLimits::NONE,
        )
        .await
        .expect("node");
        assert_eq!(pending(&store).await.expect("pending"), 1);
        assert_eq!(found(&store, "偃月刀").await, 1, "queued text is found");
        assert_eq!(drain(&store).await.expect("drain"), 1);
        assert_eq!(pending(&store).await.expect("pending"), 0);
        assert_eq!(found(&store, "偃月刀").await, 1, "indexed text is found");

        let nid = Id::parse("id", &node.id).expect("id");
        let patch = NodePatch {
            content: Some("他放下了长剑。".into()),
            ..Default::default()
        };
        nodes::update(&store, &nid, &patch, nodes::StoryLimits::NONE)
            .await
            .expect("update");
        assert_eq!(found(&store, "偃月刀").await, 0, "old text is gone at once");
        assert_eq!(found(&store, "放下了长剑").await, 1);
        drain(&store).await.expect("drain");
        assert_eq!(found(&store, "偃月刀").await, 0);
        assert_eq!(found(&store, "放下了长剑").await, 1);

        nodes::delete(&store, &nid).await.expect("delete");
        drain(&store).await.expect("drain");
        assert_eq!(found(&store, "放下了长剑").await, 0);
    }

    #[tokio::test]
    async fn the_indexer_follows_commits_without_polling() {
        let (_dir, store, sid) = store_with_story().await;
        let indexer = SearchIndexer::spawn(store.clone());
        let queued = |store: Store| async move {
            let conn = store.read().await.expect("reader");
            conn.query_i64("test.queued", "SELECT count(*) FROM nodes_fts_pending", ())
                .await
                .expect("count")
        };
        // Five writes, each indexed within 250 ms of its commit: a poll every second would
        // miss that on almost every round, so the wake-up is the commit itself.
        for round in 0..5 {
            let node = NewNode {
                parent_id: None,
                kind: NodeKind::Scene,
                title: format!("Scene {round}"),
                content: Some("text".into()),
                choice_label: None,
                position: None,
            };
            nodes::create(&store, &sid, &node, nodes::StoryLimits::NONE)
                .await
                .expect("node");
            let written = std::time::Instant::now();
            while queued(store.clone()).await > 0 {
                assert!(
                    written.elapsed() < Duration::from_millis(250),
                    "round {round}: the node was not indexed within 250 ms of its commit"
                );
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        }
        indexer.stop().await;
    }
}
