//! Story covers end to end: every kind of bad upload is refused with its field and leaves
//! nothing behind; a good one becomes AVIF, WebP and JPEG variants at each width (decoded
//! back here), none larger than the upload; media URLs are immutable and answer 304; a
//! story's delete removes its media; an export and its import carry the cover.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app, spawn_app_with};

/// A photograph-like test image `w`×`h` (gradients and grain) with an alpha-free JPEG body.
fn picture(w: u32, h: u32) -> image::RgbImage {
    image::RgbImage::from_fn(w, h, |x, y| {
        let grain = ((x * 7919) ^ (y * 104_729)) % 23;
        image::Rgb([
            (x * 255 / w.max(1)) as u8,
            (y * 255 / h.max(1)) as u8,
            (120 + grain) as u8,
        ])
    })
}

fn jpeg(img: &image::RgbImage, quality: u8) -> Vec<u8> {
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality)
        .encode_image(img)
        .expect("encodes");
    out
}

fn png(img: &image::RgbImage) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .expect("encodes");
    out.into_inner()
}

/// A JPEG whose EXIF says "rotate 90° clockwise" (orientation 6), with a GPS tag inside.
fn rotated_jpeg_with_gps(img: &image::RgbImage) -> Vec<u8> {
    let plain = jpeg(img, 90);
    // TIFF header (big endian), IFD0 with Orientation = 6 and a GPS IFD pointer.
    let mut tiff = vec![b'M', b'M', 0, 42, 0, 0, 0, 8];
    tiff.extend([0, 2]); // two entries
    tiff.extend([0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0]); // Orientation SHORT 6
    tiff.extend([0x88, 0x25, 0, 4, 0, 0, 0, 1, 0, 0, 0, 38]); // GPS IFD at 38
    tiff.extend([0, 0, 0, 0]); // no next IFD
    tiff.extend([0, 1]); // GPS IFD: one entry
    tiff.extend([0x00, 0x01, 0, 2, 0, 0, 0, 2, b'N', 0, 0, 0]); // GPSLatitudeRef "N"
    tiff.extend([0, 0, 0, 0]);
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend(tiff);
    let len = (app1.len() + 2) as u16;
    let mut out = vec![0xFF, 0xD8, 0xFF, 0xE1];
    out.extend(len.to_be_bytes());
    out.extend(app1);
    out.extend(&plain[2..]);
    out
}

async fn put_cover(app: &TestApp, story: &str, body: Vec<u8>, ct: &str) -> (u16, Value) {
    let res = app
        .http
        .put(app.url(&format!("/api/stories/{story}/cover")))
        .header("content-type", ct)
        .body(body)
        .send()
        .await
        .expect("sent");
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// Waits (bounded) until the story shows a cover that is not pending.
async fn shown_cover(app: &TestApp, story: &str) -> Value {
    let start = Instant::now();
    loop {
        let (_, s) = app.get_json(&format!("/api/stories/{story}")).await;
        if s["cover"].is_object() && s.get("cover_pending").is_none() {
            return s["cover"].clone();
        }
        assert!(start.elapsed() < Duration::from_secs(180), "no cover: {s}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Rows in `media` and `media_variants`, read from the server's database file (WAL lets
/// another process read it while the server runs).
async fn media_rows(app: &TestApp) -> (u64, u64) {
    let db = libsql::Builder::new_local(app.dir().join("aion.db"))
        .build()
        .await
        .expect("database opens");
    let conn = db.connect().expect("connection");
    let mut out = [0u64; 2];
    for (slot, table) in out.iter_mut().zip(["media", "media_variants"]) {
        let mut rows = conn
            .query(&format!("SELECT count(*) FROM {table}"), ())
            .await
            .expect("query");
        let row = rows.next().await.expect("row").expect("one row");
        *slot = row.get::<i64>(0).expect("count") as u64;
    }
    (out[0], out[1])
}

#[tokio::test]
async fn bad_uploads_are_refused_by_field_and_store_nothing() {
    let app = spawn_app().await;
    let story = app.create_story("Covers refused").await;
    let good = jpeg(&picture(64, 48), 85);
    let gif = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x00\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;".to_vec();
    let mut too_big = good.clone();
    too_big.resize(10_000_001, 0);
    // A PNG header claiming 10,000 × 10,000 pixels (100 megapixels): refused from the header.
    let mut bomb = png(&picture(8, 8));
    bomb[16..20].copy_from_slice(&10_000u32.to_be_bytes());
    bomb[20..24].copy_from_slice(&10_000u32.to_be_bytes());
    let png_bytes = png(&picture(64, 48));
    let cases: Vec<(&str, Vec<u8>, &str, u16, &str)> = vec![
        ("empty", Vec::new(), "image/jpeg", 400, "cover"),
        (
            "not an image",
            b"hello, world".to_vec(),
            "image/jpeg",
            400,
            "cover",
        ),
        ("unsupported format", gif, "image/gif", 400, "cover"),
        (
            "truncated JPEG",
            good[..good.len() / 2].to_vec(),
            "image/jpeg",
            400,
            "cover",
        ),
        (
            "truncated PNG",
            png_bytes[..png_bytes.len() / 2].to_vec(),
            "image/png",
            400,
            "cover",
        ),
        ("over 10 MB", too_big, "image/jpeg", 413, "cover"),
        ("over 40 megapixels", bomb, "image/png", 400, "cover"),
        (
            "type disagrees",
            good.clone(),
            "image/png",
            400,
            "content-type",
        ),
    ];
    for (what, body, ct, status, field) in cases {
        let (got, err) = put_cover(&app, &story, body, ct).await;
        assert_eq!(got, status, "{what}: {err}");
        assert_eq!(err["error"]["field"], field, "{what}: {err}");
        assert!(
            !err["error"]["message"].as_str().unwrap_or("").is_empty(),
            "{what}"
        );
    }
    let (status, s) = app.get_json(&format!("/api/stories/{story}")).await;
    // The story itself (an error body would have no cover either).
    assert_eq!(
        (status, s["id"].as_str()),
        (200, Some(story.as_str())),
        "{s}"
    );
    assert!(
        s.get("cover").is_none() && s.get("cover_pending").is_none(),
        "{s}"
    );
    assert_eq!(media_rows(&app).await, (0, 0));
    // An unknown story is a 404 and stores nothing either.
    let (got, _) = put_cover(
        &app,
        "0190c2a4-8f1e-7c3b-9a2d-4e5f60718293",
        good,
        "image/jpeg",
    )
    .await;
    assert_eq!(got, 404);
    assert_eq!(media_rows(&app).await, (0, 0));
}

#[tokio::test]
async fn an_upload_becomes_immutable_variants_of_each_format_and_width() {
    let app = spawn_app().await;
    let story = app.create_story("Covered").await;
    // 900 × 1400 stored sideways: upright it is 1400 wide, 900 high.
    let upload = rotated_jpeg_with_gps(&picture(900, 1400));
    let (status, body) = put_cover(&app, &story, upload.clone(), "image/jpeg").await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["story"]["cover_pending"], true, "{body}");
    assert!(body["task"]["id"].is_string(), "{body}");
    let cover = shown_cover(&app, &story).await;
    assert_eq!(
        (cover["width"].as_u64(), cover["height"].as_u64()),
        (Some(1400), Some(900))
    );
    assert!(
        cover["color"]
            .as_str()
            .is_some_and(|c| c.len() == 7 && c.starts_with('#'))
    );
    let hash = cover["hash"].as_str().expect("hash").to_owned();
    for width in [320u32, 640, 1280] {
        let height = (900 * width + 700) / 1400;
        for ext in ["avif", "webp", "jpg"] {
            let url = app.url(&format!("/media/{hash}-{width}.{ext}"));
            let res = app.http.get(&url).send().await.expect("sent");
            assert_eq!(res.status(), 200, "{url}");
            let h = res.headers().clone();
            assert_eq!(h["cache-control"], "public, max-age=31536000, immutable");
            let etag = h["etag"].to_str().expect("etag").to_owned();
            let bytes = res.bytes().await.expect("body");
            assert!(
                bytes.len() < upload.len(),
                "{ext} {width}: {} bytes",
                bytes.len()
            );
            if ext == "avif" {
                assert_eq!(h["content-type"], "image/avif");
                let avif = avif_parse::read_avif(&mut &bytes[..]).expect("a valid AVIF file");
                assert!(!avif.primary_item.is_empty());
                let meta = avif
                    .primary_item_metadata()
                    .expect("an AV1 sequence header");
                assert_eq!(
                    (meta.max_frame_width.get(), meta.max_frame_height.get()),
                    (width, height),
                    "avif"
                );
            } else {
                let img = image::load_from_memory(&bytes).expect("decodes");
                assert_eq!((img.width(), img.height()), (width, height), "{ext}");
                // Upright, with no metadata: the re-encoded file has no EXIF segment.
                assert!(
                    !bytes.windows(6).any(|w| w == b"Exif\0\0"),
                    "{ext} kept EXIF"
                );
            }
            let again = app
                .http
                .get(&url)
                .header("if-none-match", &etag)
                .send()
                .await
                .expect("sent");
            assert_eq!(again.status(), 304);
        }
    }
    // Never upscaled: no variant wider than the image; other spellings are not files.
    for path in [
        format!("/media/{hash}-1400.jpg"),
        format!("/media/{hash}-2560.webp"),
        format!("/media/{}-320.jpg", hash.to_uppercase()),
        format!("/media/{hash}-0320.jpg"),
    ] {
        let (status, _) = app.get_json(&path).await;
        assert_eq!(status, 404, "{path}");
    }
}

#[tokio::test]
async fn deleting_a_story_or_its_cover_removes_its_media() {
    let app = spawn_app().await;
    let a = app.create_story("Keeps nothing").await;
    let (status, _) = put_cover(&app, &a, png(&picture(400, 300)), "image/png").await;
    assert_eq!(status, 202);
    let cover = shown_cover(&app, &a).await;
    let url = format!("/media/{}-320.webp", cover["hash"].as_str().expect("hash"));
    assert_eq!(app.get_json(&url).await.0, 200);
    let (originals, variants) = media_rows(&app).await;
    assert_eq!(
        (originals, variants),
        (1, 6),
        "320 and 400 wide, three formats"
    );

    let (status, _) = app
        .send(Method::DELETE, &format!("/api/stories/{a}"), json!(null))
        .await;
    assert_eq!(status, 200);
    assert_eq!(media_rows(&app).await, (0, 0));
    assert_eq!(app.get_json(&url).await.0, 404);

    let b = app.create_story("Loses its cover").await;
    put_cover(&app, &b, jpeg(&picture(300, 200), 90), "image/jpeg").await;
    shown_cover(&app, &b).await;
    let (status, s) = app
        .send(
            Method::DELETE,
            &format!("/api/stories/{b}/cover"),
            json!(null),
        )
        .await;
    assert_eq!(status, 200, "{s}");
    assert_eq!(s["id"].as_str(), Some(b.as_str()), "{s}");
    assert!(s.get("cover").is_none(), "{s}");
    assert_eq!(media_rows(&app).await, (0, 0));
}

#[tokio::test]
async fn an_export_and_its_import_carry_the_cover() {
    let app = spawn_app().await;
    let story = app.story_with_scene("Exported with a cover").await;
    let original = jpeg(&picture(700, 400), 88);
    put_cover(&app, &story, original.clone(), "image/jpeg").await;
    let cover = shown_cover(&app, &story).await;
    let task = crate::tasks::export(&app, &story, "json").await;
    let start = Instant::now();
    while app.get_json(&format!("/api/tasks/{task}")).await.1["status"] != "completed" {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "export never finished"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let file = app
        .http
        .get(app.url(&format!("/api/tasks/{task}/result")))
        .send()
        .await
        .expect("download")
        .bytes()
        .await
        .expect("body");
    let doc: Value = serde_json::from_slice(&file).expect("export JSON");
    assert_eq!(doc["story"]["cover"]["content_type"], "image/jpeg");
    let imported = app.post_ok("/api/stories/import", doc).await;
    let id = imported["id"].as_str().expect("id");
    let again = shown_cover(&app, id).await;
    // The same file: the same content hash, so the same variants.
    assert_eq!(again, cover);
}

#[tokio::test]
async fn a_backup_carries_the_covers() {
    let app = spawn_app_with(&[("AION_ADMIN_TOKEN", "secret")]).await;
    let story = app.create_story("Backed up with a cover").await;
    put_cover(&app, &story, png(&picture(400, 300)), "image/png").await;
    shown_cover(&app, &story).await;
    let admin = |m: Method, path: &str| {
        app.http
            .request(m, app.url(path))
            .header("authorization", "Bearer secret")
    };
    let task: Value = admin(Method::POST, "/api/admin/backups")
        .send()
        .await
        .expect("post")
        .json()
        .await
        .expect("json");
    let id = task["id"].as_str().expect("task id");
    let start = Instant::now();
    while app.get_json(&format!("/api/tasks/{id}")).await.1["status"] != "completed" {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "backup never finished"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let list: Value = admin(Method::GET, "/api/admin/backups")
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    let tables = &list[0]["tables"];
    let rows = |name: &str| {
        tables
            .as_array()
            .into_iter()
            .flatten()
            .find(|t| t["name"] == name)
            .map(|t| t["rows"].clone())
    };
    assert_eq!(list[0]["integrity"], "ok", "{list}");
    assert_eq!(rows("media"), Some(json!(1)), "{list}");
    assert_eq!(rows("media_variants"), Some(json!(6)), "{list}");
}
