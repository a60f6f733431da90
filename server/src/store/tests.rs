//! Store behaviour on real temp databases.

use std::time::Duration;

use super::*;

async fn open(dir: &tempfile::TempDir) -> Store {
    Store::open(StoreConfig::new(dir.path().join("t.db")).readers(4))
        .await
        .expect("opens")
}

const NOTES: Migration = Migration {
    version: 1,
    name: "notes",
    sql: "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL);
          CREATE INDEX notes_body ON notes (body);",
};

#[tokio::test]
async fn opens_in_wal_mode_with_the_configured_pragmas() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(&dir).await;
    let r = store.read().await.expect("reader");
    let mode = r
        .query_opt("t", "PRAGMA journal_mode", (), |row| row.get::<String>(0))
        .await
        .expect("query");
    assert_eq!(mode.as_deref(), Some("wal"));
    assert_eq!(
        r.query_i64("t", "PRAGMA foreign_keys", ())
            .await
            .expect("q"),
        1
    );
    assert_eq!(
        r.query_i64("t", "PRAGMA synchronous", ()).await.expect("q"),
        1
    );
    assert_eq!(
        r.query_i64("t", "PRAGMA cache_size", ()).await.expect("q"),
        -65536
    );
    assert_eq!(
        r.query_i64("t", "PRAGMA temp_store", ()).await.expect("q"),
        2
    );
}

#[tokio::test]
async fn readers_cannot_write() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(&dir).await;
    store.migrate(&[NOTES]).await.expect("migrates");
    let r = store.read().await.expect("reader");
    let err = r
        .execute("t", "INSERT INTO notes (body) VALUES ('x')", ())
        .await
        .expect_err("query_only");
    assert!(err.to_string().contains("t"), "{err}");
}

#[tokio::test]
async fn migrations_apply_once_and_a_failure_applies_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(&dir).await;
    assert_eq!(store.migrate(&[NOTES]).await.expect("first"), vec![1]);
    assert!(store.migrate(&[NOTES]).await.expect("again").is_empty());

    let broken = [
        NOTES,
        Migration {
            version: 2,
            name: "tags",
            sql: "CREATE TABLE tags (t TEXT)",
        },
        Migration {
            version: 3,
            name: "broken",
            sql: "CREATE TABLE oops (",
        },
    ];
    let err = store.migrate(&broken).await.expect_err("syntax error");
    assert!(err.to_string().contains("migration 3 (broken)"), "{err}");
    let r = store.read().await.expect("reader");
    let tags = r
        .query_i64(
            "t",
            "SELECT count(*) FROM sqlite_schema WHERE name = 'tags'",
            (),
        )
        .await
        .expect("q");
    assert_eq!(tags, 0, "migration 2 was rolled back with 3");
    assert_eq!(
        r.query_i64("t", "SELECT max(version) FROM _migrations", ())
            .await
            .expect("q"),
        1
    );
}

#[tokio::test]
async fn a_renamed_migration_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(&dir).await;
    store.migrate(&[NOTES]).await.expect("migrates");
    let renamed = Migration {
        name: "other",
        ..NOTES
    };
    let err = store.migrate(&[renamed]).await.expect_err("drift");
    assert!(err.to_string().contains("different build"), "{err}");
}

#[tokio::test]
async fn committed_writes_are_visible_and_dropped_transactions_are_not() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(&dir).await;
    store.migrate(&[NOTES]).await.expect("migrates");
    {
        let mut w = store.write().await.expect("writer");
        let tx = w.begin().await.expect("begin");
        let mut ins = tx
            .prepare("t.insert", "INSERT INTO notes (body) VALUES (?1)")
            .await
            .expect("prepare");
        for i in 0..100 {
            ins.execute(params![format!("note {i}")])
                .await
                .expect("insert");
        }
        drop(ins);
        tx.commit().await.expect("commit");
    }
    {
        let mut w = store.write().await.expect("writer");
        let tx = w.begin().await.expect("begin");
        tx.execute("t.insert", "INSERT INTO notes (body) VALUES ('lost')", ())
            .await
            .expect("insert");
        // Dropped without commit, like a request cancelled half-way.
    }
    let w = store
        .write()
        .await
        .expect("writer after an abandoned transaction");
    w.execute("t.insert", "INSERT INTO notes (body) VALUES ('kept')", ())
        .await
        .expect("insert");
    drop(w);
    let r = store.read().await.expect("reader");
    assert_eq!(
        r.query_i64("t", "SELECT count(*) FROM notes", ())
            .await
            .expect("q"),
        101
    );
    let lost = r
        .query_i64("t", "SELECT count(*) FROM notes WHERE body = 'lost'", ())
        .await
        .expect("q");
    assert_eq!(lost, 0);
    let timings = store.query_timings();
    let insert = timings
        .iter()
        .find(|k| k.kind == "t.insert")
        .expect("recorded");
    assert_eq!(insert.rows, 102);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writers_and_readers_never_see_busy() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(&dir).await;
    store.migrate(&[NOTES]).await.expect("migrates");
    let mut tasks = tokio::task::JoinSet::new();
    for w in 0..8 {
        let store = store.clone();
        tasks.spawn(async move {
            for i in 0..25 {
                let mut writer = store.write().await?;
                let tx = writer.begin().await?;
                tx.execute(
                    "t.insert",
                    "INSERT INTO notes (body) VALUES (?1)",
                    params![format!("{w}-{i}")],
                )
                .await?;
                tx.commit().await?;
            }
            Ok::<_, StoreError>(())
        });
    }
    for _ in 0..64 {
        let store = store.clone();
        tasks.spawn(async move {
            for _ in 0..25 {
                let r = store.read().await?;
                r.query_i64("t.count", "SELECT count(*) FROM notes", ())
                    .await?;
            }
            Ok(())
        });
    }
    while let Some(result) = tasks.join_next().await {
        result.expect("task ran").expect("no store error");
    }
    let r = store.read().await.expect("reader");
    assert_eq!(
        r.query_i64("t", "SELECT count(*) FROM notes", ())
            .await
            .expect("q"),
        200
    );
}

#[tokio::test]
async fn slow_queries_are_logged_with_placeholders_only() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store =
        Store::open(StoreConfig::new(dir.path().join("t.db")).slow_query_threshold(Duration::ZERO))
            .await
            .expect("opens");
    store.migrate(&[NOTES]).await.expect("migrates");
    let w = store.write().await.expect("writer");
    w.execute(
        "notes.insert",
        "INSERT INTO notes (body) VALUES (?1)",
        params!["secret text"],
    )
    .await
    .expect("insert");
    drop(w);
    let slow = store.slow_queries();
    let entry = slow
        .iter()
        .find(|s| s.kind == "notes.insert")
        .expect("logged");
    assert_eq!(entry.sql, "INSERT INTO notes (body) VALUES (?1)");
    assert!(!format!("{slow:?}").contains("secret"));
}

#[tokio::test]
async fn stats_describe_tables_indexes_and_settings() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(&dir).await;
    store.migrate(&[NOTES]).await.expect("migrates");
    let stats = store.stats().await.expect("stats");
    assert_eq!(stats.journal_mode, "wal");
    assert_eq!(stats.page_size, 4096);
    assert_eq!(stats.cache_size_kib, 65536);
    assert!(stats.file_bytes > 0);
    assert!(
        stats
            .tables
            .iter()
            .any(|t| t.name == "notes" && t.rows == 0)
    );
    assert!(
        stats
            .indexes
            .iter()
            .any(|i| i.name == "notes_body" && i.table == "notes")
    );
    assert_eq!(stats.readers, 4);
}

#[tokio::test]
async fn maintenance_operations_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(&dir).await;
    store.migrate(&[NOTES]).await.expect("migrates");
    store.analyze().await.expect("analyze");
    store.optimize().await.expect("optimize");
    let cp = store.checkpoint().await.expect("checkpoint");
    assert_eq!(cp.busy, 0);
    assert!(
        store.last_checkpoint_unix_ms().is_some(),
        "a checkpoint the store ran is dated"
    );
    store.vacuum().await.expect("vacuum");
    assert_eq!(store.integrity_check().await.expect("check"), "ok");
}

#[tokio::test]
async fn a_checkpoint_the_store_did_not_run_is_dated_when_the_log_shows_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(&dir).await;
    store.migrate(&[NOTES]).await.expect("migrates");
    assert_eq!(store.last_checkpoint_unix_ms(), None, "none since start");
    let w = store.write().await.expect("writer");
    let insert = |body: &'static str| {
        w.execute(
            "t.insert",
            "INSERT INTO notes (body) VALUES (?1)",
            params![body],
        )
    };
    insert("before").await.expect("insert");
    // As SQLite's automatic checkpoint does it: not through the store.
    w.query_opt("t.checkpoint", "PRAGMA wal_checkpoint(TRUNCATE)", (), |r| {
        r.get::<i64>(0)
    })
    .await
    .expect("checkpoint");
    assert_eq!(
        store.last_checkpoint_unix_ms(),
        None,
        "the log has not restarted yet"
    );
    insert("after").await.expect("insert");
    drop(w);
    assert!(
        store.last_checkpoint_unix_ms().is_some(),
        "the restarted log shows it"
    );
}

#[tokio::test]
async fn backups_are_verified_copies() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(&dir).await;
    store.migrate(&[NOTES]).await.expect("migrates");
    let w = store.write().await.expect("writer");
    for i in 0..50 {
        w.execute(
            "t.insert",
            "INSERT INTO notes (body) VALUES (?1)",
            params![i.to_string()],
        )
        .await
        .expect("insert");
    }
    drop(w);
    let dest = dir.path().join("backups/copy.db");
    let report = store.backup_to(&dest).await.expect("backup");
    assert_eq!(report.integrity, "ok");
    assert!(report.bytes > 0);
    assert!(
        report
            .tables
            .iter()
            .any(|t| t.name == "notes" && t.rows == 50)
    );

    let copy = Store::open(StoreConfig::new(&dest))
        .await
        .expect("copy opens");
    let r = copy.read().await.expect("reader");
    assert_eq!(
        r.query_i64("t", "SELECT count(*) FROM notes", ())
            .await
            .expect("q"),
        50
    );

    let again = store
        .backup_to(&dest)
        .await
        .expect_err("refuses to overwrite");
    assert!(again.to_string().contains("already exists"), "{again}");
}

#[tokio::test]
async fn with_a_replicator_checkpoints_leave_the_wal_in_place() {
    // Litestream reads the WAL and truncates it itself; the store's checkpoints must not.
    for (replicated, wal_kept) in [(false, false), (true, true)] {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t.db");
        let store = Store::open(StoreConfig::new(&path).replicated(replicated))
            .await
            .expect("opens");
        store.migrate(&[NOTES]).await.expect("migrates");
        // SQLite's own checkpoints are off too: against the replicator's read lock each
        // commit past 1,000 pages would try one in vain (writes ran at 0.48x).
        let auto = store
            .read()
            .await
            .expect("reader")
            .query_i64("t.auto", "PRAGMA wal_autocheckpoint", ())
            .await
            .expect("pragma");
        assert_eq!(auto, if replicated { 0 } else { 1000 });
        let report = store.checkpoint().await.expect("checkpoint");
        assert_eq!(report.busy, 0);
        let wal = std::fs::metadata(dir.path().join("t.db-wal")).map_or(0, |m| m.len());
        assert_eq!(
            wal > 0,
            wal_kept,
            "replicated={replicated}: WAL of {wal} bytes"
        );
        store.vacuum().await.expect("vacuum");
    }
}

#[tokio::test]
async fn a_replica_of_a_server_that_cannot_be_reached_fails_to_open_with_its_url_and_no_token() {
    let dir = tempfile::tempdir().expect("temp dir");
    // A port nothing listens on: the connection is refused at once.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr");
    let url = format!("http://{closed}");
    let primary = super::Primary::parse(&url, Some("do-not-print")).expect("valid");
    let config = StoreConfig::new(dir.path().join("replica.db")).primary(primary);
    let started = std::time::Instant::now();
    let err = Store::open(config)
        .await
        .err()
        .expect("no server: no store");
    let message = err.to_string();
    assert!(started.elapsed() < super::PRIMARY_TIMEOUT + Duration::from_secs(2));
    assert!(message.contains("replica.db"), "{message}");
    assert!(!message.contains("do-not-print"), "{message}");
}

#[test]
fn primary_urls_are_checked_before_anything_is_opened() {
    use super::Primary;
    for good in [
        "http://127.0.0.1:8080",
        "https://db.internal",
        "libsql://aion-db.example.org",
    ] {
        assert_eq!(Primary::parse(good, None).expect(good).url(), good);
    }
    for (bad, why) in [
        ("db.internal", "not a URL"),
        ("file:///data/aion.db", "scheme \"file\""),
        ("https://", "names no host"),
        ("postgres://db", "scheme \"postgres\""),
    ] {
        let err = Primary::parse(bad, None).expect_err(bad);
        assert!(err.contains(why), "{bad}: {err}");
    }
}

/// On an embedded replica, a backup is the primary's dump loaded into a new file: every
/// table, index, trigger and full-text table is there, each table with its rows, and the
/// file passes `integrity_check`. With the primary gone the backup fails with its address
/// and leaves no file.
#[tokio::test]
async fn a_replica_backs_up_its_primary_from_the_primarys_dump() {
    const SEARCHED: Migration = Migration {
        version: 2,
        name: "searched",
        sql:
            "CREATE VIRTUAL TABLE notes_text USING fts5(body, content='notes', content_rowid='id');
              CREATE TRIGGER notes_indexed AFTER INSERT ON notes BEGIN
                INSERT INTO notes_text (rowid, body) VALUES (new.id, new.body);
              END;",
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let mut sqld = super::LocalSqld::start(dir.path()).expect("sqld (cargo xtask setup --browser)");
    let primary = super::Primary::parse(&sqld.url(), None).expect("url");
    let store = Store::open(StoreConfig::new(dir.path().join("replica.db")).primary(primary))
        .await
        .expect("replica opens");
    store.migrate(&[NOTES, SEARCHED]).await.expect("migrates");
    let w = store.write().await.expect("writer");
    for i in 0..50 {
        w.execute(
            "t.insert",
            "INSERT INTO notes (body) VALUES (?1)",
            [format!("note {i};\nit's on two lines")],
        )
        .await
        .expect("insert");
    }
    drop(w);

    let dest = dir.path().join("backups/one.db");
    let report = store.backup_to(&dest).await.expect("backup");
    assert_eq!(report.integrity, "ok");
    let rows = |name: &str| {
        report
            .tables
            .iter()
            .find(|t| t.name == name)
            .map(|t| t.rows)
    };
    assert_eq!(rows("notes"), Some(50), "{:?}", report.tables);
    assert_eq!(rows("notes_text_docsize"), Some(50), "{:?}", report.tables);
    let copy = Store::open(StoreConfig::new(&dest))
        .await
        .expect("copy opens");
    let r = copy.read().await.expect("reader");
    let found = r
        .query_i64(
            "t.search",
            "SELECT count(*) FROM notes_text WHERE notes_text MATCH 'lines'",
            (),
        )
        .await
        .expect("search in the copy");
    assert_eq!(found, 50);
    let body = r
        .query_i64(
            "t.body",
            "SELECT count(*) FROM notes WHERE body = 'note 7;' || char(10) || 'it''s on two lines'",
            (),
        )
        .await
        .expect("q");
    assert_eq!(body, 1, "text kept byte for byte");
    drop(r);

    sqld.stop();
    let gone = dir.path().join("backups/two.db");
    let err = store
        .backup_to(&gone)
        .await
        .expect_err("no primary, no backup");
    assert!(err.to_string().contains("dump"), "{err}");
    assert!(!gone.exists(), "no partial file left");
}
