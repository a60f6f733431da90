//! A full disk: writes fail with a clear 503, reads go on, and writes work again once
//! space returns. The database lives on a 24 MiB tmpfs mounted for the test (root only;
//! CI runs as root) and filled up by a file beside it.

use std::{path::PathBuf, process::Command, time::Duration};

use reqwest::Method;
use serde_json::json;

use crate::helpers::spawn_app_in;

/// A size-limited tmpfs, unmounted when dropped (also when the test fails).
struct Tmpfs {
    path: PathBuf,
    _dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size: &str) -> Option<Self> {
        let dir = tempfile::tempdir().expect("dir");
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| Self {
            path: dir.path().to_owned(),
            _dir: dir,
        })
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.path).status();
    }
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status").is_ok_and(|s| {
        s.lines()
            .find_map(|l| l.strip_prefix("Uid:"))
            .is_some_and(|ids| ids.split_whitespace().next() == Some("0"))
    })
}

/// Writes zeros to `path` until the file system is full.
fn fill(path: &std::path::Path) {
    use std::io::Write;
    let mut f = std::fs::File::create(path).expect("filler");
    let chunk = vec![0u8; 64 * 1024];
    while f.write_all(&chunk).is_ok() {}
    let _ = f.sync_all();
}

#[tokio::test]
async fn a_full_disk_refuses_writes_with_503_keeps_serving_reads_and_recovers() {
    if !is_root() {
        // A silent pass would hide the guarantee: only an explicit choice skips it.
        assert!(
            std::env::var_os("AION_TEST_SKIP_DISK").is_some(),
            "mounting a size-limited tmpfs needs root (CI runs as root); set AION_TEST_SKIP_DISK=1 to skip this test"
        );
        eprintln!("skipped: AION_TEST_SKIP_DISK is set");
        return;
    }
    let fs = Tmpfs::mount("24m").expect("mount a tmpfs (root can)");
    let dir = tempfile::tempdir_in(&fs.path).expect("dir on the tmpfs");
    let app = spawn_app_in(dir, &[]).await;
    let story = app.create_story("Kept").await;
    let node = app
        .post_ok(
            &format!("/api/stories/{story}/nodes"),
            json!({"kind": "chapter", "title": "One", "content": "第一章"}),
        )
        .await;
    let node = node["id"].as_str().expect("id").to_owned();

    let filler = fs.path.join("filler");
    fill(&filler);
    let big = "x".repeat(900_000);
    let mut refused = None;
    let mut accepted = 0;
    // The first writes may still fit in free pages of the database; a few more cannot.
    for i in 0..20 {
        let (status, body) = app
            .send(
                Method::POST,
                &format!("/api/stories/{story}/nodes"),
                json!({"kind": "text", "title": format!("t{i}"), "content": big}),
            )
            .await;
        if status != 200 {
            refused = Some((i, status, body));
            break;
        }
        accepted += 1;
    }
    let (refused_at, status, body) = refused.expect("a full disk refuses a write");
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"]["code"], "unavailable", "{body}");
    let message = body["error"]["message"].as_str().unwrap_or("");
    assert!(message.contains("disk is full"), "{message}");

    // Reads go on: cached, uncached, pages.
    for path in [
        format!("/api/stories/{story}"),
        format!("/api/stories/{story}/tree"),
        format!("/api/nodes/{node}"),
        "/api/stories?limit=5".into(),
        "/api/health".into(),
    ] {
        let (status, body) = app.get_json(&path).await;
        assert_eq!(status, 200, "{path}: {body}");
    }
    let page = app
        .http
        .get(app.url(&format!("/stories/{story}")))
        .send()
        .await
        .expect("page");
    assert_eq!(page.status(), 200);

    // Space returns: writes work again, without a restart.
    std::fs::remove_file(&filler).expect("free the space");
    let mut written = false;
    for _ in 0..50 {
        let (status, _) = app
            .send(Method::POST, "/api/stories", json!({"title": "After"}))
            .await;
        if status == 200 {
            written = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(written, "writes work again once space returns");
    // Nothing half written: the refused node is absent, every accepted one is there.
    let (status, tree) = app.get_json(&format!("/api/stories/{story}/tree")).await;
    assert_eq!(status, 200);
    let titles: Vec<&str> = tree["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .filter_map(|n| n["title"].as_str())
        .collect();
    assert_eq!(titles.len(), 1 + accepted, "{titles:?}");
    assert!(
        !titles.contains(&format!("t{refused_at}").as_str()),
        "{titles:?}"
    );
    // And the file is sound: SQLite's own check of the database the server left.
    let dir = app.kill();
    let store =
        server::store::Store::open(server::store::StoreConfig::new(dir.path().join("aion.db")))
            .await
            .expect("the database opens");
    assert_eq!(store.integrity_check().await.expect("checked"), "ok");
    let nodes = store
        .read()
        .await
        .expect("reader")
        .query_i64(
            "test.nodes",
            "SELECT count(*) FROM nodes WHERE story_id = ?1",
            [story.as_str()],
        )
        .await
        .expect("count");
    assert_eq!(nodes as usize, 1 + accepted);
}
