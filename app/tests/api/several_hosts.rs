//! Instances as embedded replicas of a real libsql server (sqld, started here on free
//! loopback ports in the test's directory and killed when the test ends): what several
//! hosts run (SCALING.md). Each instance has its own replica file, as separate hosts would.

use std::time::{Duration, Instant};

use serde_json::json;
use server::store::LocalSqld;

use crate::helpers::{TestApp, spawn_app_in};

/// A primary, a Redis, and two instances each with its own replica of the primary (plus
/// `env`), started one after the other: the second starts from a replica that has the
/// first's writer.
async fn two_replicas(
    dir: &std::path::Path,
    env: &[(&str, &str)],
) -> (LocalSqld, server::shared::LocalRedis, TestApp, TestApp) {
    let sqld = LocalSqld::start(dir).expect("sqld (cargo xtask setup --browser)");
    let redis = server::shared::LocalRedis::start(dir).expect("redis-server");
    let (url, redis_url) = (sqld.url(), redis.url());
    let mut all = vec![
        ("AION_DB_URL", url.as_str()),
        ("AION_REDIS_URL", redis_url.as_str()),
    ];
    all.extend_from_slice(env);
    let first = spawn_app_in(tempfile::tempdir().expect("temp dir"), &all).await;
    let second = spawn_app_in(tempfile::tempdir().expect("temp dir"), &all).await;
    (sqld, redis, first, second)
}

/// `ids` as an SQL list of strings (they are UUIDs the server made: nothing to escape).
fn sql_list(ids: &[String]) -> String {
    ids.iter()
        .map(|id| format!("'{id}'"))
        .collect::<Vec<_>>()
        .join(",")
}

/// The HTML of the dashboard's panel `name`.
fn panel(dashboard: &serde_json::Value, name: &str) -> String {
    dashboard["panels"]
        .as_array()
        .and_then(|panels| panels.iter().find(|p| p[0] == name))
        .and_then(|p| p[1].as_str())
        .unwrap_or_default()
        .to_owned()
}

/// With the primary gone, an instance still answers reads from its replica and refuses
/// writes with a 503 that says why, within the request timeout; once the primary is back,
/// writes go through again without restarting anything. Nothing acknowledged is lost.
#[tokio::test]
async fn with_the_primary_stopped_reads_go_on_and_writes_answer_503_until_it_is_back() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut sqld = LocalSqld::start(dir.path()).expect("sqld (cargo xtask setup --browser)");
    let url = sqld.url();
    let app = spawn_app_in(
        tempfile::tempdir().expect("temp dir"),
        &[("AION_DB_URL", &url), ("AION_REQUEST_TIMEOUT_SECS", "5")],
    )
    .await;

    let before = app.create_story("Written while the primary is up").await;
    assert_eq!(
        sqld.query_i64(&format!(
            "SELECT count(*) FROM stories WHERE id = '{before}'"
        )),
        Ok(1),
        "the write reached the primary"
    );

    sqld.stop();
    let (status, story) = app.get_json(&format!("/api/stories/{before}")).await;
    assert_eq!(status, 200, "a read from the replica: {story}");
    let (status, list) = app.get_json("/api/stories?scope=mine").await;
    assert_eq!(status, 200, "{list}");
    let asked = Instant::now();
    let (status, refused) = app
        .send(
            reqwest::Method::POST,
            "/api/stories",
            json!({ "title": "Written while the primary is down" }),
        )
        .await;
    assert_eq!(status, 503, "{refused}");
    assert!(
        asked.elapsed() < Duration::from_secs(5),
        "answered after {:?}",
        asked.elapsed()
    );
    let message = refused["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("primary database cannot be reached"),
        "{message}"
    );
    // The operator sees it: /metrics within a sync interval (1 s), and the dashboard.
    crate::scale_out::wait_for(&app, "aion_db_primary_reachable 0").await;
    let (_, dashboard) = app.get_json("/api/metrics/dashboard").await;
    let database = panel(&dashboard, "database");
    assert!(database.contains("unreachable, last synced"), "{database}");

    sqld.restart().expect("sqld starts again");
    crate::scale_out::wait_for(&app, "aion_db_primary_reachable 1").await;
    let after = app.create_story("Written once the primary is back").await;
    for id in [&before, &after] {
        assert_eq!(
            sqld.query_i64(&format!("SELECT count(*) FROM stories WHERE id = '{id}'")),
            Ok(1),
            "{id} on the primary"
        );
    }
    assert_eq!(
        sqld.query_i64(
            "SELECT count(*) FROM stories WHERE title = 'Written while the primary is down'"
        ),
        Ok(0),
        "the refused write is nowhere"
    );
}

/// Two instances, each its own replica of one primary, sharing a Redis; their replicas sync
/// by themselves only every 30 s, so only the replication position that travels with each
/// invalidation can make the other instance fresh in time. Writes alternate between them;
/// after each acknowledgement the other instance serves the new title in its JSON (a
/// visitor's read, through its data and response caches, warmed beforehand) and its reader
/// page (through its page cache) within the bound. Without the position, the other instance
/// reloads the old row from its replica as soon as the invalidation arrives and keeps it for
/// a whole cache lifetime: the test then fails at the first write.
#[tokio::test]
async fn a_write_on_one_instance_is_fresh_on_the_other_in_every_cache() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (sqld, _redis, first, second) =
        two_replicas(dir.path(), &[("AION_DB_SYNC_MS", "30000")]).await;
    let apps = [&first, &second];

    // A writer signed up on one instance is signed in on the other at once (the client's
    // next request may reach either behind a balancer).
    let newcomer = crate::helpers::client();
    crate::helpers::sign_up_or_in(&newcomer, &first.base, "newcomer").await;
    let me = newcomer
        .get(format!("{}/api/me", second.base))
        .send()
        .await
        .expect("sent");
    assert_eq!(me.status(), 200, "the new session on the other instance");

    let story = first.story_with_scene("Two hosts, one story").await;
    let bound = Duration::from_secs(2);
    let mut delays = Vec::new();
    for round in 0..20 {
        let (writer, reader) = (apps[round % 2], apps[(round + 1) % 2]);
        // The reader's caches hold the current title before the write.
        let (status, _) = reader.anon_json(&format!("/api/stories/{story}")).await;
        assert_eq!(status, 200);
        let page = reader
            .anon
            .get(reader.url(&format!("/stories/{story}")))
            .send()
            .await;
        assert_eq!(page.map(|p| p.status().as_u16()).ok(), Some(200));

        let title = format!(
            "Round {round} on {}",
            if round % 2 == 0 { "A" } else { "B" }
        );
        writer.retitle(&story, &title).await;
        let acknowledged = Instant::now();
        loop {
            let (_, json) = reader.anon_json(&format!("/api/stories/{story}")).await;
            let html = reader
                .anon
                .get(reader.url(&format!("/stories/{story}")))
                .send()
                .await
                .expect("page")
                .text()
                .await
                .unwrap_or_default();
            if json["title"] == title.as_str() && html.contains(&title) {
                delays.push(acknowledged.elapsed());
                break;
            }
            assert!(
                acknowledged.elapsed() < bound,
                "round {round}: the other instance still serves {} after {bound:?}",
                json["title"]
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    // The store's mode and position on the dashboard and /metrics.
    let (status, dashboard) = second.get_json("/api/metrics/dashboard").await;
    assert_eq!(status, 200);
    let database = panel(&dashboard, "database");
    assert!(database.contains("embedded replica"), "{database}");
    assert!(database.contains("reachable, synced"), "{database}");
    assert!(database.contains("announced"), "{database}");
    assert!(
        second
            .metrics()
            .await
            .contains(r#"aion_db_mode{mode="embedded_replica"} 1"#),
        "the mode on /metrics"
    );
    delays.sort();
    println!(
        "fresh on the other instance after: median {:?}, slowest {:?} (20 writes)",
        delays[delays.len() / 2],
        delays[delays.len() - 1]
    );
    assert_eq!(
        sqld.query_i64(&format!(
            "SELECT count(*) FROM stories WHERE id = '{story}' AND title = 'Round 19 on B'"
        )),
        Ok(1),
        "the last write is on the primary"
    );
}

/// Tasks across hosts: 50 reports started through two instances (each its own replica of
/// one primary) are each claimed by one of them and run exactly once; the claim is one
/// statement on the primary, never a read of a replica followed by a write.
#[tokio::test]
async fn tasks_started_through_two_instances_each_run_exactly_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (sqld, _redis, first, second) =
        two_replicas(dir.path(), &[("AION_TASK_MAX_PENDING_PER_CALLER", "1000")]).await;
    let story = first.story_with_scene("Reported from two hosts").await;
    // A task started through one instance is there at once through the other.
    let task = first
        .post_ok("/api/reports", json!({ "story_id": story }))
        .await;
    let task = task["id"].as_str().expect("task id").to_owned();
    let (status, seen) = second.get_json(&format!("/api/tasks/{task}")).await;
    assert_eq!(status, 200, "the task through the other instance: {seen}");
    let mut started = vec![task];
    for i in 1..50 {
        let app = if i % 2 == 0 { &first } else { &second };
        let task = app
            .post_ok("/api/reports", json!({ "story_id": story }))
            .await;
        started.push(task["id"].as_str().expect("task id").to_owned());
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let done = sqld
            .query_i64("SELECT count(*) FROM tasks WHERE kind = 'report' AND status = 'completed'")
            .expect("count on the primary");
        if done == 50 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{done} of 50 reports completed within 60 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        sqld.query_i64("SELECT sum(attempts) FROM tasks WHERE kind = 'report'"),
        Ok(50),
        "each ran once"
    );
    assert_eq!(
        sqld.query_i64(&format!(
            "SELECT count(DISTINCT uid) FROM tasks WHERE kind = 'report' AND uid IN ({})",
            sql_list(&started)
        )),
        Ok(50),
        "the tasks are the ones started"
    );
}

/// A primary that stops answering without closing anything (frozen): a write through an
/// instance answers 503 at the request timeout instead of hanging until the operating system
/// gives up on the connection (libsql's client sets no timeout of its own); reads go on;
/// once the primary answers again, so do writes.
#[tokio::test]
async fn a_silent_primary_costs_a_write_its_request_timeout_not_minutes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sqld = LocalSqld::start(dir.path()).expect("sqld (cargo xtask setup --browser)");
    let url = sqld.url();
    let app = spawn_app_in(
        tempfile::tempdir().expect("temp dir"),
        &[("AION_DB_URL", &url), ("AION_REQUEST_TIMEOUT_SECS", "2")],
    )
    .await;
    let story = app.create_story("Before the silence").await;

    sqld.pause();
    let asked = Instant::now();
    let (status, refused) = app
        .send(
            reqwest::Method::POST,
            "/api/stories",
            json!({ "title": "Into the silence" }),
        )
        .await;
    let took = asked.elapsed();
    let (read, _) = app.get_json(&format!("/api/stories/{story}")).await;
    sqld.resume();

    assert_eq!(status, 503, "{refused}");
    assert!(
        took < Duration::from_secs(5),
        "the write answered after {took:?} (request timeout 2 s)"
    );
    assert_eq!(read, 200, "reads go on from the replica");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (status, body) = app
            .send(
                reqwest::Method::POST,
                "/api/stories",
                json!({ "title": "After the silence" }),
            )
            .await;
        if status == 200 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "writes did not resume within 10 s: {status} {body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A host killed with SIGKILL in the middle of an export: its lease runs out and another
/// instance (its own replica of the same primary) claims the task and finishes it, once. The
/// file lands in the shared files directory, so a host that joins afterwards serves it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_on_a_host_killed_mid_task_is_finished_by_another() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sqld = LocalSqld::start(dir.path()).expect("sqld (cargo xtask setup --browser)");
    let redis = server::shared::LocalRedis::start(dir.path()).expect("redis-server");
    let files = dir.path().join("files");
    let (url, redis_url) = (sqld.url(), redis.url());
    let env = [
        ("AION_DB_URL", url.as_str()),
        ("AION_REDIS_URL", redis_url.as_str()),
        ("AION_FILES_DIR", files.to_str().expect("utf-8 path")),
        ("AION_TASK_LEASE_SECS", "2"),
    ];
    // The doomed host runs alone, so the export is surely its own.
    let doomed = spawn_app_in(tempfile::tempdir().expect("temp dir"), &env).await;
    let story = crate::tasks::big_story(&doomed).await;
    let task = crate::tasks::export(&doomed, &story, "pdf").await;
    let path = format!("/api/tasks/{task}");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (_, t) = doomed.get_json(&path).await;
        if t["status"] == "running" {
            break;
        }
        assert!(Instant::now() < deadline, "the export never started: {t}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let _gone = doomed.kill();

    let survivor = spawn_app_in(tempfile::tempdir().expect("temp dir"), &env).await;
    let deadline = Instant::now() + Duration::from_secs(120);
    let finished = loop {
        let (status, t) = survivor.get_json(&path).await;
        assert_eq!(status, 200, "{t}");
        if t["status"] == "completed" {
            break t;
        }
        assert!(
            t["status"] != "failed" && Instant::now() < deadline,
            "the killed host's export was not finished: {t}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(finished["attempts"], 2, "claimed again once: {finished}");
    assert_eq!(
        sqld.query_i64(&format!(
            "SELECT attempts FROM tasks WHERE uid = '{task}' AND status = 'completed'"
        )),
        Ok(2),
        "on the primary"
    );

    let joined = spawn_app_in(tempfile::tempdir().expect("temp dir"), &env).await;
    let pdf = joined
        .http
        .get(joined.url(&format!("/api/tasks/{task}/result")))
        .send()
        .await
        .expect("sent");
    assert_eq!(
        pdf.status(),
        200,
        "the file through a host that did not write it"
    );
    let bytes = pdf.bytes().await.expect("body");
    assert!(bytes.starts_with(b"%PDF"), "a PDF");
}

/// A client ledger of 200 writes, a third through each instance and a third through HAProxy
/// in front of both: every acknowledged write is on the primary afterwards, and each is read
/// back through the instance that did not take it within the bound (its JSON; every tenth
/// also its reader page and the writer's list page).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_writes_through_both_instances_and_the_balancer_are_all_kept() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (sqld, _redis, first, second) =
        two_replicas(dir.path(), &[("AION_DB_SYNC_MS", "30000")]).await;
    let lb = server::shared::LocalBalancer::start(dir.path(), &[first.port(), second.port()])
        .expect("haproxy");
    let balanced = crate::helpers::client();
    crate::helpers::sign_up_or_in(&balanced, &lb.base(), crate::helpers::WRITER).await;

    let bound = Duration::from_secs(2);
    let mut ledger = Vec::new();
    for i in 0..200 {
        let title = format!("Ledger {i}");
        let (http, base, others) = match i % 3 {
            0 => (&first.http, first.base.clone(), vec![&second]),
            1 => (&second.http, second.base.clone(), vec![&first]),
            _ => (&balanced, lb.base(), vec![&first, &second]),
        };
        let res = http
            .post(format!("{base}/api/stories"))
            .json(&json!({ "title": title }))
            .send()
            .await
            .expect("sent");
        assert_eq!(res.status(), 200, "write {i} through {base}");
        let story: serde_json::Value = res.json().await.expect("json");
        let id = story["id"].as_str().expect("id").to_owned();
        let acknowledged = Instant::now();
        for other in others {
            let mut paths = vec![format!("/api/stories/{id}")];
            if i % 10 == 0 {
                paths.push(format!("/stories/{id}"));
                paths.push("/stories?scope=mine".to_owned());
            }
            for path in paths {
                loop {
                    let res = other.http.get(other.url(&path)).send().await.expect("sent");
                    let status = res.status();
                    let body = res.text().await.unwrap_or_default();
                    let shown =
                        body.contains(&format!("{title}\"")) || body.contains(&format!("{title}<"));
                    if status == 200 && shown {
                        break;
                    }
                    assert!(
                        acknowledged.elapsed() < bound,
                        "write {i} not on {} at {path} after {bound:?}: {status}",
                        other.base
                    );
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            }
        }
        ledger.push(id);
    }
    let listed = sql_list(&ledger);
    assert_eq!(
        sqld.query_i64(&format!(
            "SELECT count(*) FROM stories WHERE id IN ({listed}) AND title LIKE 'Ledger %'"
        )),
        Ok(200),
        "every acknowledged write is on the primary"
    );
}

/// Disaster recovery on several hosts: backups are scheduled every 2 s here (one per
/// interval whichever instance's schedule fires) while writers write through both
/// instances. Then the primary is lost with its data. A new primary started from the newest
/// backup passes `integrity_check`, and an instance started against it (a new replica) has
/// every write acknowledged before that backup began.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_primary_is_restored_from_the_newest_backup_with_every_write_before_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let backups = dir.path().join("backups");
    let backups_dir = backups.to_str().expect("utf-8 path").to_owned();
    let (mut sqld, _redis, first, second) = two_replicas(
        dir.path(),
        &[
            ("AION_ADMIN_TOKEN", "ops-secret"),
            ("AION_BACKUP_DIR", &backups_dir),
            ("AION_BACKUP_EVERY_SECS", "2"),
        ],
    )
    .await;
    let now_ms = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64)
    };
    let mut ledger = Vec::new();
    let writing = Instant::now();
    let mut i = 0;
    while writing.elapsed() < Duration::from_secs(7) {
        let app = if i % 2 == 0 { &first } else { &second };
        let id = app.create_story(&format!("Kept {i}")).await;
        ledger.push((id, format!("Kept {i}"), now_ms()));
        i += 1;
    }
    // The newest backup, and when its task started (the dump began after that).
    let listed = first
        .http
        .get(first.url("/api/admin/backups"))
        .bearer_auth("ops-secret")
        .send()
        .await
        .expect("sent");
    let listed: serde_json::Value = listed.json().await.expect("json");
    let newest = listed[0]["file"]
        .as_str()
        .unwrap_or_else(|| {
            let states = sqld.query_i64(
                "SELECT count(*) FROM tasks WHERE kind = 'db.backup' AND status = 'pending'",
            );
            panic!("no scheduled backup completed: {listed}; pending: {states:?}")
        })
        .to_owned();
    let scheduled = listed.as_array().map_or(0, Vec::len);
    assert!(scheduled >= 2, "backups every 2 s for 7 s: {listed}");
    let task_id = newest
        .trim_end_matches(".db")
        .rsplit('-')
        .next()
        .and_then(|n| n.parse::<i64>().ok())
        .expect("task id in the file name");
    let began = sqld
        .query_i64(&format!(
            "SELECT started_at FROM tasks WHERE id = {task_id}"
        ))
        .expect("the backup's task on the primary");
    assert_eq!(
        sqld.query_i64("SELECT count(*) FROM tasks WHERE kind = 'db.backup' AND attempts > 1"),
        Ok(0),
        "each backup ran once"
    );

    // The disaster: the primary's host is gone with its data, and the instances with it.
    drop((first, second));
    sqld.stop();
    std::fs::remove_dir_all(dir.path().join("sqld")).expect("the primary's data removed");

    let rebuilt = tempfile::tempdir().expect("temp dir");
    let restored = LocalSqld::start_from_backup(rebuilt.path(), &backups.join(&newest))
        .expect("a primary from the backup");
    assert_eq!(
        restored
            .query_i64("SELECT count(*) FROM pragma_integrity_check WHERE integrity_check = 'ok'"),
        Ok(1),
        "integrity_check on the restored primary"
    );
    let url = restored.url();
    let app = spawn_app_in(
        tempfile::tempdir().expect("temp dir"),
        &[("AION_DB_URL", url.as_str())],
    )
    .await;
    let before: Vec<_> = ledger.iter().filter(|(_, _, at)| *at < began).collect();
    assert!(
        before.len() >= 10,
        "{} of {} writes came before the newest backup",
        before.len(),
        ledger.len()
    );
    for (id, title, _) in &before {
        let (status, story) = app.get_json(&format!("/api/stories/{id}")).await;
        assert_eq!(status, 200, "{title} after the restore: {story}");
        assert_eq!(story["title"], title.as_str());
    }
    println!(
        "restored: all {} writes acknowledged before the newest of {scheduled} backups ({} written in all)",
        before.len(),
        ledger.len()
    );
    // The restored primary takes writes.
    app.create_story("Written after the restore").await;
}

/// An instance killed with SIGKILL while four clients write through it: every write it
/// acknowledged is on the primary and read back through the other instance; the writes in
/// flight at the kill end in a client error, never in a false acknowledgement.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_killed_mid_write_loses_nothing_it_acknowledged() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (sqld, _redis, first, doomed) = two_replicas(dir.path(), &[]).await;
    let acked = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let (enough_tx, mut enough_rx) = tokio::sync::watch::channel(0usize);
    let mut writers = tokio::task::JoinSet::new();
    for w in 0..4 {
        let (http, url) = (doomed.http.clone(), doomed.url("/api/stories"));
        let (acked, enough) = (acked.clone(), enough_tx.clone());
        writers.spawn(async move {
            for n in 0.. {
                let sent = http
                    .post(&url)
                    .json(&json!({ "title": format!("Ledger {w}-{n}") }))
                    .send()
                    .await;
                let Ok(res) = sent else { return };
                if res.status() != 200 {
                    return;
                }
                let Ok(story) = res.json::<serde_json::Value>().await else {
                    return;
                };
                let mut ids = acked.lock().expect("ledger");
                ids.push(story["id"].as_str().expect("id").to_owned());
                enough.send_replace(ids.len());
            }
        });
    }
    enough_rx
        .wait_for(|n| *n >= 60)
        .await
        .expect("writes acknowledged before the kill");
    let _gone = doomed.kill();
    while writers.join_next().await.is_some() {}
    let ids = acked.lock().expect("ledger").clone();
    let listed = sql_list(&ids);
    assert_eq!(
        sqld.query_i64(&format!(
            "SELECT count(*) FROM stories WHERE id IN ({listed})"
        )),
        Ok(ids.len() as i64),
        "every acknowledged write is on the primary"
    );
    for id in &ids {
        let (status, story) = first.get_json(&format!("/api/stories/{id}")).await;
        assert_eq!(status, 200, "{id} through the other instance: {story}");
    }
    println!(
        "{} writes acknowledged before the kill, all kept",
        ids.len()
    );
}
