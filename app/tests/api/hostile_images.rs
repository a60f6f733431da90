//! Image bombs (issue 27, finding 4): a 6000×6000 PNG of zeros is about 140 KB on the wire
//! and 144 MB once decoded, more with the copies made after. Ten of them at once took a
//! release server from 246 MB to 2,051 MB; now image work shares one memory budget
//! (`media::budget`, `AION_IMAGE_MEMORY_MB`), and what does not fit within the upload's wait
//! is refused with 503 and `Retry-After`.

use reqwest::Method;
use serde_json::json;

use crate::helpers::spawn_app_with;

/// The budget the server under test runs with, in MiB.
const BUDGET_MIB: u64 = 400;

fn bomb() -> Vec<u8> {
    let img = image::RgbaImage::new(6000, 6000);
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .expect("encodes");
    out.into_inner()
}

#[tokio::test]
async fn ten_image_bombs_at_once_stay_within_the_memory_budget() {
    let app = spawn_app_with(&[
        ("AION_IMAGE_MEMORY_MB", "400"),
        ("AION_WRITE_RATE_LIMIT_BURST", "100"),
    ])
    .await;
    let bomb = bomb();
    assert!(bomb.len() < 1_000_000, "{} bytes on the wire", bomb.len());
    let mut stories = Vec::new();
    for i in 0..10 {
        let (status, story) = app
            .send(
                Method::POST,
                "/api/stories",
                json!({ "title": format!("Bomb {i}") }),
            )
            .await;
        assert!(status < 300, "{status} {story}");
        stories.push(story["id"].as_str().expect("id").to_owned());
    }
    let before = app.peak_rss_kib();

    let uploads = stories.iter().map(|id| {
        let req = app
            .http
            .put(app.url(&format!("/api/stories/{id}/cover")))
            .header("content-type", "image/png")
            .body(bomb.clone());
        async move {
            let res = req.send().await.expect("sent");
            let retry = res.headers().get("retry-after").cloned();
            (res.status().as_u16(), retry)
        }
    });
    let answers = futures_util::future::join_all(uploads).await;
    let accepted = answers.iter().filter(|(s, _)| *s == 202).count();
    for (status, retry) in &answers {
        assert!(matches!(status, 202 | 503), "{answers:?}");
        if *status == 503 {
            assert!(
                retry.is_some(),
                "a refusal says when to come back: {answers:?}"
            );
        }
    }
    assert!(accepted >= 1, "{answers:?}");

    // Every upload was checked (decoded) or refused; variant tasks of the accepted ones may
    // be decoding now too. All of it within the budget, beside what the server held before
    // and some room for the decoders' own buffers and the bodies.
    let grew_mib = app.peak_rss_kib().saturating_sub(before) / 1024;
    println!("{accepted} of 10 accepted; peak RSS grew by {grew_mib} MiB");
    assert!(
        grew_mib < BUDGET_MIB + 150,
        "peak RSS grew by {grew_mib} MiB with a budget of {BUDGET_MIB} MiB: {answers:?}"
    );
}
