//! Several instances on one database file sharing a real Redis (`redis-server`, started
//! here on a Unix socket in the test's directory and stopped when the test ends): a write
//! through one instance is never read stale through another once its invalidation has
//! arrived, and Redis going away and coming back gives clients no errors.

use std::{
    path::Path,
    time::{Duration, Instant},
};

use serde_json::json;
use server::shared::LocalRedis;

use crate::helpers::{TestApp, spawn_app_with};

/// A `redis-server` on a Unix socket in `dir`, killed when dropped.
fn redis_in(dir: &Path) -> LocalRedis {
    LocalRedis::start(dir).expect("redis-server")
}

/// Instance A (owning the database directory) and B on the same file, both on `redis`,
/// with rate limits far above what the tests send (so every request takes the shared check).
async fn pair(redis: &LocalRedis) -> (TestApp, TestApp) {
    let mut apps = instances(redis, 2).await;
    let b = apps.pop().expect("two");
    (apps.pop().expect("two"), b)
}

/// `n` instances on one database file (the first owns its directory) sharing `redis`.
pub(crate) async fn instances(redis: &LocalRedis, n: usize) -> Vec<TestApp> {
    instances_with(redis, n, &[]).await
}

/// [`instances`] with more of the environment.
async fn instances_with(redis: &LocalRedis, n: usize, more: &[(&str, &str)]) -> Vec<TestApp> {
    let url = redis.url();
    let mut env = vec![
        ("AION_REDIS_URL", url.as_str()),
        // Faster than one request per microsecond: the shortest interval Redis keeps.
        ("AION_RATE_LIMIT_PER_MINUTE", "600000000"),
        ("AION_RATE_LIMIT_BURST", "100000"),
        ("AION_WRITE_RATE_LIMIT_PER_MINUTE", "6000000"),
        ("AION_WRITE_RATE_LIMIT_BURST", "100000"),
    ];
    env.extend_from_slice(more);
    let first = spawn_app_with(&env).await;
    let db = first.dir().join("aion.db");
    let mut with_db = env.clone();
    with_db.push(("AION_DB_PATH", db.to_str().expect("utf-8 path")));
    let mut apps = vec![first];
    for _ in 1..n {
        apps.push(spawn_app_with(&with_db).await);
    }
    for app in &apps {
        wait_for(app, "aion_shared_connected 1").await;
    }
    apps
}

/// Waits (at most 10 s) until `/metrics` has a line starting with `line`.
pub(crate) async fn wait_for(app: &TestApp, line: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !app.metrics().await.lines().any(|l| l.starts_with(line)) {
        assert!(Instant::now() < deadline, "{line} within 10 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Reads `path` on `app` until `fresh` holds of the body (at most 5 s); how long it took.
async fn until_fresh(app: &TestApp, path: &str, fresh: impl Fn(&str) -> bool) -> Duration {
    let started = Instant::now();
    loop {
        let res = app.http.get(app.url(path)).send().await.expect("sent");
        assert_eq!(
            res.status(),
            200,
            "{path} answers while instances share work"
        );
        if fresh(&res.text().await.expect("body")) {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{path} on the other instance never showed the write"
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_through_one_instance_reaches_the_caches_of_another() {
    let dir = tempfile::tempdir().expect("temp dir");
    let redis = redis_in(dir.path());
    let (a, b) = pair(&redis).await;

    let story = a.story_with_scene("Shared 0").await;
    let paths = [
        format!("/api/stories/{story}"),
        format!("/stories/{story}"),
        "/api/stories".to_owned(),
    ];
    let mut slowest = Duration::ZERO;
    for version in 1..=15 {
        // B holds the previous version in its caches.
        for path in &paths {
            let previous = format!("Shared {}", version - 1);
            until_fresh(&b, path, |body| body.contains(&previous)).await;
        }
        let title = format!("Shared {version}");
        a.retitle(&story, &title).await;
        for path in &paths {
            slowest = slowest.max(until_fresh(&b, path, |body| body.contains(&title)).await);
        }
    }
    // C shares the database but not Redis: the control that shows what B would do alone.
    let db = a.dir().join("aion.db");
    let c = spawn_app_with(&[("AION_DB_PATH", db.to_str().expect("utf-8 path"))]).await;
    until_fresh(&c, &paths[0], |body| body.contains("Shared 15")).await;
    a.retitle(&story, "Shared 16").await;
    until_fresh(&b, &paths[0], |body| body.contains("Shared 16")).await;
    let stale = c.http.get(c.url(&paths[0])).send().await.expect("sent");
    assert!(
        stale.text().await.expect("body").contains("Shared 15"),
        "an instance without Redis keeps its cached copy: the test can tell"
    );
    assert!(b.metric("aion_shared_received_total").await >= 15.0);
    assert_eq!(
        b.metric("aion_rate_limit_shared_fallbacks_total").await,
        0.0,
        "every request was checked in Redis"
    );
    let p99 = b
        .metric("aion_shared_invalidation_delay_seconds{quantile=\"0.99\"}")
        .await;
    eprintln!(
        "invalidation delay p99 {:.2} ms; slowest fresh read {slowest:?}",
        p99 * 1e3
    );
    // SCALING.md states p99 ≤ 10 ms on loopback; a debug build on a shared 2-core machine
    // is held to ten times that, and a fresh read to the same.
    assert!(
        p99 > 0.0 && p99 < 0.1,
        "invalidation delay p99 {:.1} ms",
        p99 * 1e3
    );
    assert!(
        slowest < Duration::from_millis(100),
        "slowest fresh read {slowest:?}"
    );
}

/// Asks three instances at once for a story none has cached, `rounds` times; the store
/// loads per round, and the shared tier's lock waits in all.
async fn cold_reads(apps: &[TestApp], rounds: usize) -> (Vec<f64>, f64) {
    let all: Vec<&TestApp> = apps.iter().collect();
    let loads = "aion_cache_policy_loads_total{cache=\"data\",policy=\"story\"}";
    let mut per_round = Vec::new();
    for round in 0..rounds {
        // Made after the instances started: cold on all three (and in the shared tier).
        let title = format!("Cold {round}");
        let story = apps[0].create_story(&title).await;
        let path = format!("/api/stories/{story}");
        let before = sum_metric(&all, loads).await;
        let get = |app: &TestApp| app.http.get(app.url(&path)).send();
        let (a, b, c) = tokio::join!(get(&apps[0]), get(&apps[1]), get(&apps[2]));
        for res in [a, b, c] {
            let res = res.expect("sent");
            assert_eq!(res.status(), 200);
            assert!(res.text().await.expect("body").contains(&title));
        }
        per_round.push(sum_metric(&all, loads).await - before);
    }
    let lock_waits = sum_metric(&all, "aion_cache_shared_lock_waits_total").await;
    (per_round, lock_waits)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cold_story_asked_for_on_three_instances_at_once_is_loaded_from_the_store_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let redis = redis_in(dir.path());
    let apps = instances(&redis, 3).await;
    let all: Vec<&TestApp> = apps.iter().collect();
    let (loads, lock_waits) = cold_reads(&apps, 10).await;
    let errors = sum_metric(&all, "aion_cache_shared_errors_total").await;
    let timeouts = sum_metric(&all, "aion_cache_shared_lock_timeouts_total").await;
    assert!(
        loads.iter().all(|&n| n == 1.0),
        "one store load per round across the three instances: {loads:?} (tier errors {errors}, lock timeouts {timeouts})"
    );
    // The requests really met: some instance waited for another's load (one after another,
    // each would have found the shared tier filled, and loaded once too).
    assert!(
        lock_waits >= 1.0,
        "no instance ever waited on another's load"
    );
    let answered_by_others = sum_metric(
        &all,
        "aion_cache_hits_total{cache=\"data\",tier=\"shared\"}",
    )
    .await;
    assert!(answered_by_others >= 20.0, "{answered_by_others}");
    drop(apps);
    // The control SCALING.md describes: without the shared tier each instance loads.
    let dir = tempfile::tempdir().expect("temp dir");
    let redis = redis_in(dir.path());
    let apps = instances_with(&redis, 3, &[("AION_SHARED_CACHE", "0")]).await;
    let (loads, _) = cold_reads(&apps, 3).await;
    assert!(
        loads.iter().all(|&n| n == 3.0),
        "three loads a round without the tier: {loads:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_going_away_and_back_gives_no_client_errors_and_recovers() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut redis = redis_in(dir.path());
    let (a, b) = pair(&redis).await;
    let story = a.create_story("Before the outage").await;
    let path = format!("/api/stories/{story}");
    until_fresh(&b, &path, |body| body.contains("Before the outage")).await;

    redis.stop();
    wait_for(&b, "aion_shared_connected 0").await;
    // Writes and reads go on; the write's invalidation cannot be published.
    a.retitle(&story, "During the outage").await;
    let during = b.http.get(b.url(&path)).send().await.expect("sent");
    assert_eq!(during.status(), 200, "reads are served from cache or store");
    assert!(a.metric("aion_shared_publish_errors_total").await >= 1.0);
    assert!(
        b.metric("aion_rate_limit_shared_fallbacks_total").await >= 1.0,
        "the limit was decided locally while Redis was away"
    );

    drop(redis);
    let redis = redis_in(dir.path());
    // On reconnecting, B drops what it may have kept past a missed invalidation.
    wait_for(&b, "aion_shared_connected 1").await;
    until_fresh(&b, &path, |body| body.contains("During the outage")).await;
    wait_for(&a, "aion_shared_connected 1").await;
    a.retitle(&story, "After the outage").await;
    until_fresh(&b, &path, |body| body.contains("After the outage")).await;
    drop(redis);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_write_limit_holds_across_instances() {
    let dir = tempfile::tempdir().expect("temp dir");
    let redis = redis_in(dir.path());
    let url = redis.url();
    let limits = [
        ("AION_REDIS_URL", url.as_str()),
        ("AION_WRITE_RATE_LIMIT_PER_MINUTE", "6"),
        ("AION_WRITE_RATE_LIMIT_BURST", "6"),
    ];
    let a = spawn_app_with(&limits).await;
    let db = a.dir().join("aion.db");
    let mut with_db = limits.to_vec();
    with_db.push(("AION_DB_PATH", db.to_str().expect("utf-8 path")));
    let b = spawn_app_with(&with_db).await;
    // The test clients' sign-up (on a) and sign-up attempt and sign-in (on b) took three of
    // the burst of 6. Alone, a would let its 5 writes through and b 4 of its 5: 9.
    let mut allowed = 0;
    let mut refused = 0;
    for i in 0..10 {
        let app = if i % 2 == 0 { &a } else { &b };
        let res = app
            .http
            .post(app.url("/api/stories"))
            .json(&json!({"title": format!("Limited {i}")}))
            .send()
            .await
            .expect("sent");
        match res.status().as_u16() {
            200 | 201 => allowed += 1,
            429 => {
                refused += 1;
                let retry: u64 = res.headers()["retry-after"]
                    .to_str()
                    .expect("ascii")
                    .parse()
                    .expect("seconds");
                assert!((1..=10).contains(&retry), "retry after {retry} s");
            }
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!(
        (allowed, refused),
        (3, 7),
        "one burst of 6 between both instances"
    );
    assert_eq!(
        a.metric("aion_rate_limit_shared_fallbacks_total").await,
        0.0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_started_on_one_instance_is_followed_live_on_both() {
    let dir = tempfile::tempdir().expect("temp dir");
    let redis = redis_in(dir.path());
    let (a, b) = pair(&redis).await;
    let story = a.story_with_scene("Followed everywhere").await;
    // One browser session (one cookie jar: cookies do not tell ports apart) with a stream
    // open on each instance; the task runs on whichever instance claims it first, so the
    // other stream can only see it through Redis.
    let browser = crate::helpers::client();
    let open = |app: &TestApp| browser.get(app.url("/api/events")).send();
    let mut on_b = open(&b).await.expect("stream on B");
    let mut on_a = open(&a).await.expect("stream on A");
    let res = browser
        .post(a.url(&format!("/api/stories/{story}/exports")))
        .json(&json!({"format": "json"}))
        .send()
        .await
        .expect("export");
    assert!(
        res.status().is_success(),
        "export started: {}",
        res.status()
    );
    for (name, stream) in [("B", &mut on_b), ("A", &mut on_a)] {
        let mut seen = String::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        while !(seen.contains("\"status\":\"completed\"")
            && seen.contains("\"type\":\"notification\""))
        {
            assert!(
                Instant::now() < deadline,
                "stream on {name} saw no completion:\n{seen}"
            );
            match tokio::time::timeout(Duration::from_secs(20), stream.chunk()).await {
                Ok(Ok(Some(chunk))) => seen.push_str(&String::from_utf8_lossy(&chunk)),
                other => panic!("stream on {name} ended: {other:?}\n{seen}"),
            }
        }
    }
    let relayed = a.metric("aion_shared_events_received_total").await
        + b.metric("aion_shared_events_received_total").await;
    assert!(
        relayed >= 2.0,
        "progress and the notification crossed instances: {relayed}\n{}\n{}",
        a.metrics().await,
        b.metrics().await
    );
}

/// `GET path` on `app` as an operator (every session's tasks are visible).
async fn as_operator(app: &TestApp, path: &str) -> serde_json::Value {
    let res = app
        .http
        .get(app.url(path))
        .bearer_auth("ops-secret")
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), 200, "{path}");
    res.json().await.expect("json")
}

/// The sum over `apps` of the first `/metrics` sample starting with `series`.
async fn sum_metric(apps: &[&TestApp], series: &str) -> f64 {
    let mut total = 0.0;
    for app in apps {
        total += app.metric(series).await;
    }
    total
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_instances_on_one_file_write_without_errors_and_run_each_task_once() {
    let ops = [
        ("AION_ADMIN_TOKEN", "ops-secret"),
        ("AION_TASK_LEASE_SECS", "2"),
    ];
    // K runs alone first and is killed with SIGKILL in the middle of a PDF export.
    let k = spawn_app_with(&ops).await;
    let big = crate::tasks::big_story(&k).await;
    let task = crate::tasks::export(&k, &big, "pdf").await;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let t = as_operator(&k, &format!("/api/tasks/{task}")).await;
        if t["status"] == "running" {
            break;
        }
        assert!(Instant::now() < deadline, "the export never started: {t}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let dir = k.kill();
    let db = dir.path().join("aion.db");
    let mut env = ops.to_vec();
    env.push(("AION_DB_PATH", db.to_str().expect("utf-8 path")));
    let (a, b, c) = (
        spawn_app_with(&env).await,
        spawn_app_with(&env).await,
        spawn_app_with(&env).await,
    );
    let apps = [&a, &b, &c];

    // Writers on all three at once: SQLite's busy handling, never a 500.
    let mut writers = tokio::task::JoinSet::new();
    for (i, app) in apps.iter().enumerate() {
        let (http, url) = (app.http.clone(), app.url("/api/stories"));
        writers.spawn(async move {
            for n in 0..40 {
                let res = http
                    .post(&url)
                    .json(&json!({"title": format!("Instance {i} story {n}")}))
                    .send()
                    .await
                    .expect("sent");
                assert!(
                    res.status().is_success(),
                    "write {n} on instance {i}: {}",
                    res.status()
                );
            }
        });
    }
    // Reports started through every instance while they write.
    let mut reports = Vec::new();
    for app in apps {
        for _ in 0..6 {
            let t = app.post_ok("/api/reports", json!({})).await;
            reports.push(t["id"].as_str().expect("id").to_owned());
        }
    }
    while let Some(w) = writers.join_next().await {
        w.expect("every write succeeded");
    }
    // The killed instance's export comes back after its lease and is finished elsewhere.
    for id in reports.iter().chain([&task]) {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let t = as_operator(&a, &format!("/api/tasks/{id}")).await;
            if t["status"] == "completed" {
                let attempts = t["attempts"].as_u64().expect("attempts");
                let want = if id == &task { 2 } else { 1 };
                assert_eq!(attempts, want, "task {id}: {t}");
                break;
            }
            assert!(
                t["status"] != "failed" && Instant::now() < deadline,
                "task {id} did not complete: {t}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let completed = sum_metric(&apps, "aion_tasks_finished_total{outcome=\"completed\"}").await;
    assert_eq!(
        completed, 19.0,
        "18 reports and the export, each finished by one instance once"
    );
    let notifications = as_operator(&b, "/api/notifications").await;
    let for_export = notifications["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|n| {
            n["link"]
                .as_str()
                .is_some_and(|l| l.contains(task.as_str()))
        })
        .count();
    assert_eq!(for_export, 1, "one notification for the export");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_ended_on_one_instance_stops_working_on_the_other() {
    let dir = tempfile::tempdir().expect("temp dir");
    let redis = redis_in(dir.path());
    let (a, b) = pair(&redis).await;
    // The cookie jar is per host, so one client is signed in on both instances.
    let http = a.writer("roaming").await;
    for app in [&a, &b] {
        for _ in 0..3 {
            // Warm: the session is in both instances' caches (and the shared tier).
            let res = http.get(app.url("/api/me")).send().await.expect("sent");
            assert_eq!(res.status(), 200);
        }
    }
    let res = http
        .post(a.url("/api/account/signout-everywhere"))
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), 204);
    // The jar dropped its cookie; a copy of the token is what an attacker would hold.
    let (_, stolen) = {
        let other = crate::helpers::client();
        let res = other
            .post(b.url("/api/account/signin"))
            .json(&json!({"handle": "roaming", "password": crate::helpers::PASSWORD}))
            .send()
            .await
            .expect("sent");
        let cookie = res
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("__Host-aion_account="))
            .and_then(|v| v.split(';').next())
            .expect("cookie")
            .to_owned();
        (other, cookie)
    };
    let me = |app: &TestApp| {
        crate::helpers::client()
            .get(app.url("/api/me"))
            .header("cookie", stolen.clone())
            .send()
    };
    for app in [&a, &b] {
        assert_eq!(me(app).await.expect("sent").status(), 200, "warm on both");
    }
    // Revoked on B; A's cached copy goes within the invalidation delay.
    let list: serde_json::Value = crate::helpers::client()
        .get(b.url("/api/account/sessions"))
        .header("cookie", stolen.clone())
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    let id = list["sessions"][0]["id"].as_str().expect("id").to_owned();
    let res = crate::helpers::client()
        .delete(b.url(&format!("/api/account/sessions/{id}")))
        .header("cookie", stolen.clone())
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), 204);
    let started = Instant::now();
    loop {
        let status = me(&a).await.expect("sent").status();
        if status == 401 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the revoked session still works on the other instance"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    eprintln!(
        "revocation reached the other instance in {:?}",
        started.elapsed()
    );
}

/// Redis slow rather than down (frozen with SIGSTOP, connections open, nothing answering):
/// reads and writes go on within the stated bounds (the shared limit falls back to the
/// instance's own after 50 ms, a publish gives up after 250 ms), the fallbacks and failed
/// publishes are counted, and once Redis runs again the other instance converges on the
/// writes it did not hear about (the owed invalidations are published again).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frozen_redis_slows_nothing_past_its_bounds_and_the_instances_converge_after() {
    let dir = tempfile::tempdir().expect("temp dir");
    let redis = redis_in(dir.path());
    let (a, b) = pair(&redis).await;
    let story = a.create_story("Before the freeze").await;
    let path = format!("/api/stories/{story}");
    until_fresh(&b, &path, |body| body.contains("Before the freeze")).await;
    let fallbacks = a.metric("aion_rate_limit_shared_fallbacks_total").await;

    redis.pause();
    let mut slowest_write = Duration::ZERO;
    let mut slowest_read = Duration::ZERO;
    for i in 0..5 {
        let started = Instant::now();
        a.retitle(&story, &format!("Frozen {i}")).await;
        slowest_write = slowest_write.max(started.elapsed());
        let started = Instant::now();
        let res = b.http.get(b.url(&path)).send().await.expect("sent");
        assert_eq!(res.status(), 200, "reads answer while Redis is frozen");
        slowest_read = slowest_read.max(started.elapsed());
    }
    // A write pays at most the limiter's 50 ms and the publish's 250 ms (and the shared
    // tier's short timeouts); a read at most the tier's. Held to 1 s and 500 ms, margins
    // for a debug build on a shared machine; waiting for Redis would take for ever.
    assert!(
        slowest_write < Duration::from_secs(1),
        "slowest write {slowest_write:?}"
    );
    assert!(
        slowest_read < Duration::from_millis(500),
        "slowest read {slowest_read:?}"
    );
    assert!(a.metric("aion_rate_limit_shared_fallbacks_total").await > fallbacks);
    assert!(a.metric("aion_shared_publish_errors_total").await >= 1.0);

    redis.resume();
    // B converges on the frozen writes (Redis runs the publishes it had queued, and A
    // publishes again what it owes), and A owes nothing once Redis has taken it.
    until_fresh(&b, &path, |body| body.contains("Frozen 4")).await;
    wait_for(&a, "aion_shared_owed_tags 0").await;
    assert!(a.metric("aion_shared_republished_total").await >= 1.0);
}

/// Live events are private: another session's stream never receives my task's progress or
/// notifications, on the same instance or another, while my own stream on the other
/// instance does (the relay works, so the silence is not an accident).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_sessions_event_stream_never_receives_my_tasks_on_any_instance() {
    let dir = tempfile::tempdir().expect("temp dir");
    let redis = redis_in(dir.path());
    let (a, b) = pair(&redis).await;
    let story = a.create_story("Private progress").await;
    // A stranger on each instance, and my own session's stream on the other instance.
    let strangers = [crate::helpers::client(), crate::helpers::client()];
    let mut streams = Vec::new();
    for (http, app) in [(&strangers[0], &a), (&strangers[1], &b), (&a.http, &b)] {
        let res = http
            .get(app.url("/api/events"))
            .send()
            .await
            .expect("stream");
        assert_eq!(res.status(), 200);
        streams.push(res);
    }
    let task = crate::tasks::export(&a, &story, "json").await;
    // Each stream read until a moment after my own stream on B saw the task end.
    let mine = streams.pop().expect("mine");
    let seen_mine = read_until(mine, |t| t.contains(&task) && t.contains("notification")).await;
    assert!(
        seen_mine.contains(&task),
        "my stream on the other instance follows my task"
    );
    // The strangers start a task of their own; once they have seen its end, whatever of
    // mine they would have been sent has arrived before it.
    for (http, app, stream) in strangers
        .iter()
        .zip([&a, &b])
        .zip(streams)
        .map(|((h, app), s)| (h, app, s))
    {
        let theirs: serde_json::Value = http
            .post(app.url("/api/reports"))
            .json(&json!({}))
            .send()
            .await
            .expect("report")
            .json()
            .await
            .expect("task");
        let theirs = theirs["id"].as_str().expect("id").to_owned();
        let seen = read_until(stream, |t| {
            t.contains(&theirs) && t.contains("notification")
        })
        .await;
        assert!(
            !seen.contains(&task),
            "a stranger's stream got my task: {seen}"
        );
        assert!(
            !seen.contains(&story),
            "a stranger's stream got my story: {seen}"
        );
    }
}

/// Reads a live-event stream until `done` holds for what arrived (at most 60 s).
async fn read_until(mut stream: reqwest::Response, done: impl Fn(&str) -> bool) -> String {
    let mut seen = String::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done(&seen) {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.chunk()).await {
            Ok(Ok(Some(chunk))) => seen.push_str(&String::from_utf8_lossy(&chunk)),
            other => panic!("the stream ended or stalled: {other:?}\n{seen}"),
        }
    }
    seen
}

/// An operator's cache clear on one instance clears every instance: a change made behind
/// the caches' back (straight in the database) shows on the other instance only after it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operators_cache_clear_on_one_instance_clears_every_instance() {
    let dir = tempfile::tempdir().expect("temp dir");
    let redis = redis_in(dir.path());
    let apps = instances_with(&redis, 2, &[("AION_ADMIN_TOKEN", "clear")]).await;
    let (a, b) = (&apps[0], &apps[1]);
    let story = a.create_story("Cached everywhere").await;
    let path = format!("/api/stories/{story}");
    until_fresh(b, &path, |body| body.contains("Cached everywhere")).await;
    // Behind the caches: no invalidation is sent for this write.
    let store =
        server::store::Store::open(server::store::StoreConfig::new(a.dir().join("aion.db")))
            .await
            .expect("the database opens beside the servers");
    store
        .write()
        .await
        .expect("writer")
        .execute(
            "test.behind",
            "UPDATE stories SET title = 'Changed behind the caches' WHERE id = ?1",
            [story.as_str()],
        )
        .await
        .expect("updated");
    let cached = b.http.get(b.url(&path)).send().await.expect("sent");
    assert!(
        cached
            .text()
            .await
            .expect("body")
            .contains("Cached everywhere"),
        "B serves its cached copy: the test can tell"
    );
    let res = a
        .http
        .post(a.url("/api/admin/cache/clear"))
        .bearer_auth("clear")
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), 200);
    until_fresh(b, &path, |body| body.contains("Changed behind the caches")).await;
}
