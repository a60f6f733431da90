//! The notifications' queries against a real store: read by index, bounded per owner,
//! and made again only when a crash lost them.

use super::*;
use server::store::StoreConfig;

async fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(StoreConfig::new(dir.path().join("n.db")))
        .await
        .expect("open");
    store
        .migrate(super::super::schema::MIGRATIONS)
        .await
        .expect("migrate");
    (dir, store)
}

async fn plan(store: &Store, sql: &str, params: impl server::store::IntoParams) -> String {
    let conn = store.read().await.expect("reader");
    conn.query(
        "test.plan",
        &format!("EXPLAIN QUERY PLAN {sql}"),
        params,
        |r| r.get::<String>(3),
    )
    .await
    .expect("plan")
    .join("; ")
}

fn note<'a>(owner: &'a str, title: &'a str) -> NewNotification<'a> {
    NewNotification {
        level: "success",
        title,
        body: "",
        link: None,
        task_uid: None,
        owner: Some(owner),
    }
}

#[tokio::test]
async fn an_owners_notifications_are_read_by_index_not_by_scanning() {
    let (_dir, store) = store().await;
    // An owner's: searched by their own indexes, whatever the table holds.
    let list = plan(&store, LIST_OWN, params![20, "o"]).await;
    assert!(
        list.contains("SEARCH notifications USING INDEX notifications_by_owner"),
        "{list}"
    );
    let unread = plan(&store, UNREAD_OWN, params!["o"]).await;
    assert!(unread.contains("notifications_unread_by_owner"), "{unread}");
    // Everyone's unread: the partial index of unread ones only.
    let all = plan(&store, UNREAD_ALL, ()).await;
    assert!(all.contains("USING INDEX notifications_unread"), "{all}");
}

#[tokio::test]
async fn an_owner_keeps_the_newest_and_others_are_untouched() {
    let (_dir, store) = store().await;
    create(&store, note("other", "theirs"))
        .await
        .expect("create");
    for i in 0..KEEP_PER_OWNER + 30 {
        create(&store, note("busy", &format!("n{i}")))
            .await
            .expect("create");
    }
    let conn = store.read().await.expect("reader");
    let count = |owner: &'static str| {
        conn.query_i64(
            "test.count",
            "SELECT count(*) FROM notifications WHERE owner = ?1",
            [owner],
        )
    };
    assert_eq!(count("busy").await.expect("count"), KEEP_PER_OWNER);
    assert_eq!(count("other").await.expect("count"), 1);
    let oldest: String = conn
        .query_opt(
            "test.oldest",
            "SELECT title FROM notifications WHERE owner = 'busy' ORDER BY seq LIMIT 1",
            (),
            |r| r.get(0),
        )
        .await
        .expect("query")
        .expect("a row");
    assert_eq!(oldest, "n30", "the oldest went first");
}

#[tokio::test]
async fn only_notifications_a_crash_lost_are_made_again_not_trimmed_ones() {
    let (_dir, store) = store().await;
    // Tasks of two owners, finished at 1, 3 and 5 ms; none has a notification.
    let writer = store.write().await.expect("writer");
    for (id, owner, finished) in [(1, "busy", 1), (2, "busy", 5), (3, "few", 1)] {
        writer
            .execute(
                "test.task",
                "INSERT INTO tasks (id, kind, payload, status, run_at, created_at, finished_at, uid, owner)
                 VALUES (?1, 'report', '{}', 'completed', 0, 0, ?3, ?4, ?2)",
                params![id, owner, finished, format!("task-{id}")],
            )
            .await
            .expect("task");
    }
    // "busy" keeps its newest KEEP_PER_OWNER, the oldest made at 3 ms; "few" has one.
    for i in 0..KEEP_PER_OWNER {
        writer
            .execute(
                "test.note",
                "INSERT INTO notifications (id, level, title, body, owner, created_at)
                 VALUES (?1, 'success', 't', 'b', 'busy', ?2)",
                params![format!("n{i}"), 3_000 + i],
            )
            .await
            .expect("note");
    }
    writer
        .execute(
            "test.note",
            "INSERT INTO notifications (id, level, title, body, owner, created_at)
             VALUES ('f', 'success', 't', 'b', 'few', 9000)",
            (),
        )
        .await
        .expect("note");
    drop(writer);
    // Task 1 ended before everything "busy" keeps: trimmed, not lost. Task 2 ended
    // after: lost. "few" is under the bound: its task's notification was lost.
    assert_eq!(missing(&store).await.expect("missing"), vec![2, 3]);
}
