//! Server-rendered pages through the response cache: never stale after a write, in any
//! encoding, from several connections at once; 304 on a matching ETag; pages with live or
//! private content never kept.

use reqwest::header;
use serde_json::json;

use crate::helpers::{TestApp, client, spawn_app};

const ENCODINGS: [&str; 4] = ["identity", "br", "gzip", "zstd"];

/// The page at `path` as a browser asking for `accept` gets it: status, headers, decoded text.
async fn page(
    http: &reqwest::Client,
    app: &TestApp,
    path: &str,
    accept: &str,
) -> (u16, header::HeaderMap, String) {
    let res = http
        .get(app.url(path))
        .header(header::ACCEPT_ENCODING, accept)
        .send()
        .await
        .expect("sent");
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let raw = res.bytes().await.expect("body");
    let encoding = headers
        .get(header::CONTENT_ENCODING)
        .map(|v| v.to_str().expect("ascii").to_owned());
    (status, headers, decode(encoding.as_deref(), &raw))
}

fn decode(encoding: Option<&str>, raw: &[u8]) -> String {
    use std::io::Read;
    let mut out = Vec::new();
    match encoding {
        None => out.extend_from_slice(raw),
        Some("br") => {
            brotli::Decompressor::new(raw, 4096)
                .read_to_end(&mut out)
                .expect("brotli");
        }
        Some("gzip") => {
            flate2::read::GzDecoder::new(raw)
                .read_to_end(&mut out)
                .expect("gzip");
        }
        Some("zstd") => {
            zstd::stream::read::Decoder::new(raw)
                .expect("zstd")
                .read_to_end(&mut out)
                .expect("zstd");
        }
        Some(other) => panic!("unexpected encoding {other}"),
    }
    String::from_utf8(out).expect("utf-8 page")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_shows_on_every_page_of_the_story_at_once_in_every_encoding() {
    let app = std::sync::Arc::new(spawn_app().await);
    let story = app.story_with_scene("Edition0 of the tale").await;
    let pages = [
        format!("/stories/{story}"),
        format!("/stories/{}/edit", story.to_uppercase()),
        "/stories".to_owned(),
    ];

    // Readers on their own connections keep every page and encoding hot the whole time.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut readers = tokio::task::JoinSet::new();
    for i in 0..6 {
        let (app, stop, pages) = (app.clone(), stop.clone(), pages.clone());
        readers.spawn(async move {
            let http = client();
            let mut n = i;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let (status, ..) = page(&http, &app, &pages[n % 3], ENCODINGS[n % 4]).await;
                assert_eq!(status, 200);
                n += 1;
            }
        });
    }

    let checkers: Vec<reqwest::Client> = (0..4).map(|_| client()).collect();
    let mut hits = 0;
    for edition in 1..=8 {
        let title = format!("Edition{edition} of the tale");
        app.retitle(&story, &title).await;
        // Every page, every encoding, from four connections at once, right after the write.
        let mut reads = Vec::new();
        for path in &pages {
            for (c, accept) in ENCODINGS.iter().enumerate() {
                reads.push(page(&checkers[c], &app, path, accept));
            }
        }
        for (status, headers, text) in futures_util::future::join_all(reads).await {
            assert_eq!(status, 200);
            assert!(
                text.contains(&title),
                "a page read right after edition {edition} shows it"
            );
            let before = format!("Edition{} of the tale", edition - 1);
            assert!(
                !text.contains(&before),
                "no page shows edition {}",
                edition - 1
            );
            if headers.get("x-cache").is_some_and(|v| v == "HIT") {
                hits += 1;
            }
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    while let Some(r) = readers.join_next().await {
        r.expect("reader saw only 200s");
    }
    assert!(
        hits > 0,
        "some of the reads after a write were served from the cache"
    );
}

#[tokio::test]
async fn a_cached_page_revalidates_with_its_etag_and_ignores_bad_ones() {
    let app = spawn_app().await;
    let story = app.story_with_scene("Revalidated").await;
    let path = format!("/stories/{story}");
    let (status, first, text) = page(&app.anon, &app, &path, "br").await;
    assert_eq!(status, 200);
    assert!(text.contains("Revalidated"));
    assert_eq!(first["x-cache"], "MISS");
    let (_, hit, again) = page(&app.anon, &app, &path, "br").await;
    assert_eq!(hit["x-cache"], "HIT");
    assert_eq!(again, text, "the cached page is the page that was rendered");
    assert_eq!(hit[header::CACHE_CONTROL], "no-cache");
    assert_eq!(hit[header::VARY], "accept-encoding");
    let etag = hit[header::ETAG].clone();

    let conditional = |value: header::HeaderValue| {
        let (app, path) = (&app, &path);
        async move {
            app.http
                .get(app.url(path))
                .header(header::ACCEPT_ENCODING, "br")
                .header(header::IF_NONE_MATCH, value)
                .send()
                .await
                .expect("sent")
        }
    };
    let not_modified = conditional(etag.clone()).await;
    assert_eq!(not_modified.status(), 304);
    assert_eq!(not_modified.headers()[header::ETAG], etag);
    assert!(not_modified.bytes().await.expect("body").is_empty());

    let long = format!("\"{}\"", "f".repeat(4000));
    for bad in ["garbage", "\"\"", "W/\"0\"", ",,,", long.as_str()] {
        let res = conditional(header::HeaderValue::from_str(bad).expect("header")).await;
        assert_eq!(res.status(), 200, "If-None-Match {bad:.20}");
        assert_eq!(res.headers()[header::ETAG], etag, "nothing changed");
    }
    // The identity copy has its own ETag; the compressed one does not match it.
    let (_, plain, _) = page(&app.anon, &app, &path, "identity").await;
    assert_ne!(plain[header::ETAG], etag);
    let res = app
        .http
        .get(app.url(&path))
        .header(header::IF_NONE_MATCH, plain[header::ETAG].clone())
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), 304);
}

#[tokio::test]
async fn the_tasks_page_with_live_counts_is_never_kept() {
    let app = spawn_app().await;
    let (status, headers, before) = page(&app.http, &app, "/tasks", "br").await;
    assert_eq!(status, 200);
    assert_eq!(headers[header::CACHE_CONTROL], "no-store");
    assert!(headers.get(header::ETAG).is_none());
    assert!(before.contains("No tasks yet"));
    let task = app.post_ok("/api/reports", json!({})).await;
    let uid = task["id"].as_str().expect("task id").to_owned();
    let (_, _, after) = page(&app.http, &app, "/tasks", "br").await;
    assert!(
        after.contains(&uid) && !after.contains("No tasks yet"),
        "the page shows the task started after the first view"
    );
}

#[tokio::test]
async fn the_performance_page_shows_each_layer_with_figures_measured_now_and_is_never_kept() {
    let app = spawn_app().await;
    let (status, headers, first) = page(&app.anon, &app, "/performance", "br").await;
    assert_eq!(status, 200);
    assert_eq!(headers[header::CACHE_CONTROL], "no-store");
    for layer in ["http", "store", "cache", "tasks", "client"] {
        assert!(
            first.contains(&format!("data-testid=\"live-{layer}\"")),
            "{layer} in {first}"
        );
    }
    assert!(first.contains("Latest benchmark results"));
    // A story written now shows in the store's query count at the next view.
    let count = |html: &str| -> u64 {
        let at = html
            .find("live-store-queries")
            .expect("store queries figure");
        let value = &html[at..];
        let start = value.find("metric-value\">").expect("value") + "metric-value\">".len();
        value[start..]
            .split('<')
            .next()
            .and_then(|n| n.parse().ok())
            .expect("a count")
    };
    let before = count(&first);
    app.create_story("Counted").await;
    let (_, _, second) = page(&app.anon, &app, "/performance", "br").await;
    assert!(count(&second) > before, "{before} then {}", count(&second));

    let (status, layers) = app.get_json("/api/metrics/layers").await;
    assert_eq!(status, 200, "{layers}");
    let live = layers["layers"]["http"]["live"].as_str().expect("html");
    assert!(live.contains("Requests per second"), "{live}");
    let bench = layers["layers"]["store"]["bench"].as_str().expect("html");
    assert!(
        bench.contains("cargo xtask bench-server --only store"),
        "{bench}"
    );
}
