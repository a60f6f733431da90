//! Story covers in the store: the uploaded original by content hash, its variants, which
//! story shows which cover, and the garbage collection that keeps no image nobody shows.
//!
//! Everything lives in the database (tables `media` and `media_variants`, migration 10):
//! backups, replicas and exports carry covers with no second place to keep in step, and a
//! story's delete removes its media in the same transaction. Originals are kept (for
//! re-encoding and exports) but never served; variants are served by content-addressed
//! URLs, so a URL's bytes never change and browsers keep them for a year.
//!
//! An upload is checked and measured at once ([`decode`]), stored as the story's *pending*
//! cover, and its variants are made by the `cover.variants` task ([`variants`]);
//! the story keeps showing its previous cover (or its placeholder) until the task promotes
//! the new one.

pub mod budget;
pub mod decode;
pub mod encode;
mod variants;

use axum::body::Bytes;
use server::{
    store::{Conn, Store, WriteTx, params},
    tasks::{EnqueueOptions, Priority},
};
use sha2::{Digest, Sha256};

use super::{
    AppState,
    cache::{Key, MEDIA_TAG},
    time::now_micros,
};
use crate::model::{ApiError, MediaFormat, Story, TaskView, fields::Id};
pub use variants::{CoverPayload, CoverVariants};

/// Most pending covers whose variants are asked for again at start.
const RESUME_AT_START: u32 = 500;

impl AppState {
    /// Stores an upload as `story`'s new cover and starts making its variants (a task owned
    /// by `owner`); the story as it is now, and the task (none when the same image was
    /// uploaded before and its variants exist).
    pub async fn set_cover(
        &self,
        story: &Id,
        upload: Upload,
        owner: &str,
    ) -> Result<(Story, Option<TaskView>), ApiError> {
        let done = attach(self.store(), story, &upload).await?;
        let task = self
            .cover_attached(story, &upload.hash, done, owner)
            .await?;
        Ok((self.story(story).await?.as_ref().clone(), task))
    }

    /// After a cover was attached (`done`: its variants exist already): starts making
    /// them if needed, and drops what the caches knew of the story's cover.
    pub(crate) async fn cover_attached(
        &self,
        story: &Id,
        hash: &str,
        done: bool,
        owner: &str,
    ) -> Result<Option<TaskView>, ApiError> {
        let task = if done {
            None
        } else {
            let payload = CoverPayload {
                story_id: story.as_str().to_owned(),
                hash: hash.to_owned(),
            };
            let id = self
                .tasks()
                .enqueue::<CoverVariants>(
                    &payload,
                    // The upload was allowed: its variants must not wait for a free share.
                    EnqueueOptions::default().owned_by(owner).uncounted(),
                )
                .await?;
            Some(self.task_view(id).await?)
        };
        self.cover_changed(story.as_str()).await;
        Ok(task)
    }

    /// Removes `story`'s cover; the story as it is now.
    pub async fn remove_cover(&self, story: &Id) -> Result<Story, ApiError> {
        detach(self.store(), story).await?;
        self.cover_changed(story.as_str()).await;
        Ok(self.story(story).await?.as_ref().clone())
    }

    /// A variant by canonical name, through the cache (`Media` policy: immutable bytes).
    pub async fn media(&self, name: &str) -> Result<Option<Bytes>, ApiError> {
        let Some((hash, width, format)) = parse_media_name(name) else {
            return Ok(None);
        };
        let store = self.store();
        let found = self
            .cached(Key::media(name), &[MEDIA_TAG.to_owned()], || async {
                match variant(store, &hash, width, format).await? {
                    Some(data) => Ok(Bytes::from(data)),
                    None => Err(ApiError::not_found("media file", name)),
                }
            })
            .await;
        match found {
            Ok(data) => Ok(Some(data)),
            Err(e) if e.code() == crate::model::ErrorCode::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Asks again for the variants of covers still waiting (an upload whose task was lost,
    /// the demo covers of a fresh install), in the background at low priority. A cover
    /// whose variants are all made is only promoted by its task.
    pub fn resume_covers(&self) {
        if self.store().is_replica() {
            return;
        }
        let state = self.clone();
        tokio::spawn(async move {
            let waiting = match pending(state.store(), RESUME_AT_START).await {
                Ok(w) => w,
                Err(e) => {
                    tracing::warn!("listing pending covers failed: {e}");
                    return;
                }
            };
            for (story_id, hash) in waiting {
                let payload = CoverPayload { story_id, hash };
                let options = EnqueueOptions::priority(Priority::Low);
                if let Err(e) = state
                    .tasks()
                    .enqueue::<CoverVariants>(&payload, options)
                    .await
                {
                    tracing::warn!("queueing cover variants failed: {e}");
                    return;
                }
            }
        });
    }
}

/// A checked upload, ready to store.
#[derive(Debug, Clone)]
pub struct Upload {
    /// Content hash (16 hex digits of SHA-256).
    pub hash: String,
    /// `image/jpeg`, `image/png` or `image/webp`.
    pub content_type: &'static str,
    /// Width after orientation.
    pub width: u32,
    /// Height after orientation.
    pub height: u32,
    /// `#rrggbb`.
    pub color: String,
    /// The file as uploaded.
    pub original: Vec<u8>,
}

impl Upload {
    /// Checks `bytes` on a blocking thread, within the image `budget` (see [`budget`]):
    /// waits at most `wait` for its share (503 beyond), or as long as it takes with `None`.
    /// The share is held until the check ends, even if the caller stops waiting.
    pub async fn check_within(
        budget: &budget::ImageBudget,
        bytes: Vec<u8>,
        declared: Option<String>,
        wait: Option<std::time::Duration>,
    ) -> Result<Self, ApiError> {
        // An unreadable header costs the least: the check refuses it before decoding.
        let (w, h) = decode::dimensions(&bytes).unwrap_or((1, 1));
        let share = match wait {
            Some(wait) => budget.reserve_within(w, h, wait).await?,
            None => budget.reserve(w, h).await?,
        };
        tokio::task::spawn_blocking(move || {
            let checked = Self::check(bytes, declared.as_deref());
            drop(share);
            checked
        })
        .await
        .map_err(|_| ApiError::internal())?
    }

    /// Checks `bytes` (see [`decode::decode`]) and measures it. CPU-bound: call it from a
    /// blocking thread, within the image budget ([`Upload::check_within`]).
    pub fn check(bytes: Vec<u8>, declared: Option<&str>) -> Result<Self, ApiError> {
        let decoded = decode::decode(&bytes, declared)?;
        Ok(Self {
            hash: content_hash(&bytes),
            content_type: decoded.content_type,
            width: decoded.image.width(),
            height: decoded.image.height(),
            color: encode::average_color(&decoded.image),
            original: bytes,
        })
    }
}

/// The name of a file's content: the first 16 hex digits of its SHA-256.
pub fn content_hash(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// A variant as stored.
#[derive(Debug, Clone)]
pub struct StoredVariant {
    /// Format.
    pub format: MediaFormat,
    /// Width.
    pub width: u32,
    /// Encoded bytes.
    pub data: Vec<u8>,
}

/// `{hash}-{width}.{ext}` parsed: only the canonical spelling (lowercase hex, no leading
/// zeros, a known extension), so one file has one URL and one cache key.
pub fn parse_media_name(name: &str) -> Option<(String, u32, MediaFormat)> {
    let (stem, ext) = name.rsplit_once('.')?;
    let format = MediaFormat::from_ext(ext)?;
    let (hash, width) = stem.split_once('-')?;
    let hex = |c: char| c.is_ascii_digit() || ('a'..='f').contains(&c);
    if hash.len() != 16 || !hash.chars().all(hex) {
        return None;
    }
    if width.is_empty() || width.len() > 5 || width.starts_with('0') {
        return None;
    }
    let width: u32 = width.parse().ok()?;
    Some((hash.to_owned(), width, format))
}

/// Stores `upload` (once per hash) and makes it `story`'s pending cover; 404 for an unknown
/// story. Returns the hash of the variants already made, if they all are (the same image
/// uploaded again): then the cover is shown at once and no task is needed.
pub async fn attach(store: &Store, story: &Id, upload: &Upload) -> Result<bool, ApiError> {
    let mut writer = store.write().await?;
    let tx = writer.begin().await?;
    let done = attach_in(&tx, story, upload).await?;
    tx.commit().await?;
    Ok(done)
}

/// [`attach`] inside a transaction of the caller's (an import's).
pub(crate) async fn attach_in(
    tx: &WriteTx<'_>,
    story: &Id,
    upload: &Upload,
) -> Result<bool, ApiError> {
    insert_original(tx, upload).await?;
    let done = variants_complete(tx, &upload.hash, upload.width).await?;
    let changed = if done {
        tx.execute(
            "cover.attach",
            "UPDATE stories SET cover_hash = ?2, cover_pending = NULL WHERE id = ?1",
            params![story.as_str(), upload.hash.as_str()],
        )
        .await?
    } else {
        tx.execute(
            "cover.attach",
            "UPDATE stories SET cover_pending = ?2 WHERE id = ?1",
            params![story.as_str(), upload.hash.as_str()],
        )
        .await?
    };
    if changed == 0 {
        return Err(ApiError::not_found("story", story.as_str()));
    }
    collect_unused(tx).await?;
    Ok(done)
}

/// Inserts an original unless its hash is stored already.
pub(crate) async fn insert_original(tx: &WriteTx<'_>, upload: &Upload) -> Result<(), ApiError> {
    tx.execute(
        "media.insert",
        "INSERT INTO media (hash, content_type, width, height, color, bytes, original, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (hash) DO NOTHING",
        params![
            upload.hash.as_str(),
            upload.content_type,
            upload.width,
            upload.height,
            upload.color.as_str(),
            upload.original.len() as i64,
            upload.original.clone(),
            now_micros()
        ],
    )
    .await?;
    Ok(())
}

/// Whether every variant of an image `width` wide exists.
async fn variants_complete(conn: &Conn, hash: &str, width: u32) -> Result<bool, ApiError> {
    let have = conn
        .query_i64(
            "media.variant_count",
            "SELECT count(*) FROM media_variants WHERE hash = ?1",
            [hash],
        )
        .await?;
    let want = crate::model::variant_widths(width).len() * MediaFormat::ALL.len();
    Ok(have as usize >= want)
}

/// Whether every variant of stored image `hash` exists; `None` once it is deleted. Lets a
/// second task for one upload (asked for again at start) finish without decoding it.
pub async fn complete(store: &Store, hash: &str) -> Result<Option<bool>, ApiError> {
    let conn = store.read().await?;
    let width = conn
        .query_opt(
            "media.width",
            "SELECT width FROM media WHERE hash = ?1",
            [hash],
            |r| r.get::<u32>(0),
        )
        .await?;
    Ok(match width {
        Some(w) => Some(variants_complete(&conn, hash, w).await?),
        None => None,
    })
}

/// Removes `story`'s cover and any upload still being processed; 404 for an unknown story.
pub async fn detach(store: &Store, story: &Id) -> Result<(), ApiError> {
    let mut writer = store.write().await?;
    let tx = writer.begin().await?;
    let changed = tx
        .execute(
            "cover.detach",
            "UPDATE stories SET cover_hash = NULL, cover_pending = NULL WHERE id = ?1",
            [story.as_str()],
        )
        .await?;
    if changed == 0 {
        tx.rollback().await?;
        return Err(ApiError::not_found("story", story.as_str()));
    }
    collect_unused(&tx).await?;
    tx.commit().await?;
    Ok(())
}

/// Deletes media no story shows or waits for (their variants go with them, by foreign
/// key); how many. Runs inside every write that can orphan an image.
pub(crate) async fn collect_unused(tx: &WriteTx<'_>) -> Result<u64, ApiError> {
    Ok(tx
        .execute(
            "media.collect",
            "DELETE FROM media WHERE NOT EXISTS (SELECT 1 FROM stories WHERE cover_hash = media.hash)
               AND NOT EXISTS (SELECT 1 FROM stories WHERE cover_pending = media.hash)",
            (),
        )
        .await?)
}

/// The original of `hash` and its content type, if still stored.
pub async fn original(store: &Store, hash: &str) -> Result<Option<(String, Vec<u8>)>, ApiError> {
    let conn = store.read().await?;
    Ok(conn
        .query_opt(
            "media.original",
            "SELECT content_type, original FROM media WHERE hash = ?1",
            [hash],
            |r| Ok((r.get::<String>(0)?, r.get::<Vec<u8>>(1)?)),
        )
        .await?)
}

/// The (width, format) pairs of `hash` already made.
pub async fn made(store: &Store, hash: &str) -> Result<Vec<(u32, MediaFormat)>, ApiError> {
    let conn = store.read().await?;
    let rows = conn
        .query(
            "media.variants_made",
            "SELECT width, format FROM media_variants WHERE hash = ?1",
            [hash],
            |r| Ok((r.get::<u32>(0)?, r.get::<String>(1)?)),
        )
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(w, f)| Some((w, format_named(&f)?)))
        .collect())
}

fn format_named(name: &str) -> Option<MediaFormat> {
    MediaFormat::ALL
        .into_iter()
        .find(|f| format_name(*f) == name)
}

/// The `format` column's value.
fn format_name(f: MediaFormat) -> &'static str {
    match f {
        MediaFormat::Avif => "avif",
        MediaFormat::Webp => "webp",
        MediaFormat::Jpeg => "jpeg",
    }
}

/// Stores one variant (a rerun after a crash may store it again: the first copy stays).
/// False if the original was deleted meanwhile.
pub async fn put_variant(
    store: &Store,
    hash: &str,
    width: u32,
    format: MediaFormat,
    data: &[u8],
    encode_ms: f64,
) -> Result<bool, ApiError> {
    let writer = store.write().await?;
    let n = writer
        .execute(
            "media.variant_insert",
            "INSERT INTO media_variants (hash, width, format, data, encode_ms)
             SELECT ?1, ?2, ?3, ?4, ?5 WHERE EXISTS (SELECT 1 FROM media WHERE hash = ?1)
             ON CONFLICT (hash, width, format) DO NOTHING",
            params![hash, width, format_name(format), data.to_vec(), encode_ms],
        )
        .await?;
    if n == 0 {
        return Ok(original(store, hash).await?.is_some());
    }
    Ok(true)
}

/// Makes `hash` the shown cover of `story` if it is still the one waiting; whether it was.
/// An upload replaced or removed meanwhile is collected instead.
pub async fn promote(store: &Store, story: &str, hash: &str) -> Result<bool, ApiError> {
    let mut writer = store.write().await?;
    let tx = writer.begin().await?;
    let n = tx
        .execute(
            "cover.promote",
            "UPDATE stories SET cover_hash = ?2, cover_pending = NULL WHERE id = ?1 AND cover_pending = ?2",
            [story, hash],
        )
        .await?;
    collect_unused(&tx).await?;
    tx.commit().await?;
    Ok(n > 0)
}

/// One variant's bytes.
pub async fn variant(
    store: &Store,
    hash: &str,
    width: u32,
    format: MediaFormat,
) -> Result<Option<Vec<u8>>, ApiError> {
    let conn = store.read().await?;
    Ok(conn
        .query_opt(
            "media.variant",
            "SELECT data FROM media_variants WHERE hash = ?1 AND width = ?2 AND format = ?3",
            params![hash, width, format_name(format)],
            |r| r.get::<Vec<u8>>(0),
        )
        .await?)
}

/// Stories whose uploaded cover still waits for its variants, with its hash (at most
/// `limit`): at start, so that uploads whose task was lost, and demo covers, get made.
pub async fn pending(store: &Store, limit: u32) -> Result<Vec<(String, String)>, ApiError> {
    let conn = store.read().await?;
    Ok(conn
        .query(
            "cover.pending",
            "SELECT id, cover_pending FROM stories WHERE cover_pending IS NOT NULL ORDER BY seq LIMIT ?1",
            [limit],
            |r| Ok((r.get::<String>(0)?, r.get::<String>(1)?)),
        )
        .await?)
}

/// Per format and width: variant count, total bytes and mean encode time (for the
/// benchmark and the dashboard).
pub async fn variant_stats(store: &Store) -> Result<Vec<(String, u32, u64, u64, f64)>, ApiError> {
    let conn = store.read().await?;
    Ok(conn
        .query(
            "media.variant_stats",
            "SELECT format, width, count(*), sum(length(data)), avg(encode_ms) FROM media_variants GROUP BY format, width ORDER BY format, width",
            (),
            |r| {
                Ok((
                    r.get::<String>(0)?,
                    r.get::<u32>(1)?,
                    r.get::<u64>(2)?,
                    r.get::<u64>(3)?,
                    r.get::<f64>(4)?,
                ))
            },
        )
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_canonical_media_names_parse() {
        assert_eq!(
            parse_media_name("0123456789abcdef-640.avif"),
            Some(("0123456789abcdef".into(), 640, MediaFormat::Avif))
        );
        for bad in [
            "0123456789ABCDEF-640.avif",
            "0123456789abcdef-0640.avif",
            "0123456789abcdef-640.png",
            "0123456789abcde-640.jpg",
            "0123456789abcdef-.jpg",
            "0123456789abcdef-999999.jpg",
            "../../etc/passwd",
        ] {
            assert_eq!(parse_media_name(bad), None, "{bad}");
        }
    }

    #[test]
    fn content_hashes_are_16_hex_digits() {
        let h = content_hash(b"abc");
        assert_eq!(h, "ba7816bf8f01cfea");
    }
}
