//! `cover.variants`: makes every variant of an uploaded cover (AVIF, WebP, JPEG at each
//! width), one at a time with progress per variant, then shows the new cover in place of
//! the old one. Variants already stored are skipped, so a task that was interrupted resumes
//! where it stopped, and a second task for one upload (asked for again at start) finds
//! every variant made and only shows the cover, without decoding it.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use server::{
    store::Store,
    tasks::{Handler, TaskContext, TaskError},
};

use crate::backend::tasks::Env;
use crate::{
    backend::media::{self, decode, encode},
    model::{ApiError, MediaFormat, variant_widths},
};

/// Payload: which story waits for which upload.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CoverPayload {
    /// The story.
    pub story_id: String,
    /// The upload's content hash.
    pub hash: String,
}

/// The handler.
pub struct CoverVariants(pub Env);

impl Handler for CoverVariants {
    const KIND: &'static str = crate::model::TaskKind::CoverVariants.as_str();
    type Payload = CoverPayload;

    async fn run(&self, payload: CoverPayload, ctx: TaskContext) -> Result<Value, TaskError> {
        let (story, hash) = (payload.story_id.clone(), payload.hash.clone());
        let result = self.make(payload, &ctx).await;
        // An upload whose variants can never be made is given up, so that it is not asked
        // for again at every start (a cancelled task's upload stays pending: it may be asked
        // for again).
        if let Err(e) = &result
            && !e.retryable
            && !ctx.is_cancelled()
        {
            abandon(&self.0.store, &story, &hash).await?;
        }
        result
    }
}

impl CoverVariants {
    /// Makes every variant not made yet, then shows the cover.
    async fn make(&self, payload: CoverPayload, ctx: &TaskContext) -> Result<Value, TaskError> {
        let ctx = ctx.clone();
        let store = &self.0.store;
        let hash = payload.hash;
        ctx.progress(1, "reading the uploaded image");
        let gone = || json!({ "hash": hash, "skipped": "the upload was replaced or removed" });
        match media::complete(store, &hash).await? {
            // Replaced or removed before its variants were made: nothing to do.
            None => return Ok(gone()),
            // Made by an earlier task for the same upload: only show it.
            Some(true) => {
                return self
                    .finish(&payload.story_id, &hash, 0, Vec::new(), &ctx)
                    .await;
            }
            Some(false) => {}
        }
        let Some((content_type, original)) = media::original(store, &hash).await? else {
            return Ok(gone());
        };
        let original_bytes = original.len();
        // The pixels' share of the image budget, held until the last encode of them ends
        // (each blocking job holds it too: a cancelled task's encode still counts).
        let (w, h) = decode::dimensions(&original).unwrap_or((1, 1));
        let share = std::sync::Arc::new(self.0.images.reserve(w, h).await?);
        let held = share.clone();
        let pixels = ctx
            .blocking("decoding the image", move |_| {
                let _held = held;
                decode::decode(&original, Some(content_type.as_str()))
                    .map(|d| encode::flatten(&d.image))
                    .map_err(TaskError::from)
            })
            .await?;
        let pixels = std::sync::Arc::new(pixels);
        let made = media::made(store, &hash).await?;
        let widths = variant_widths(pixels.width());
        let jobs: Vec<(u32, MediaFormat)> = widths
            .iter()
            .flat_map(|&w| MediaFormat::ALL.map(|f| (w, f)))
            .collect();
        let mut results = Vec::new();
        for (i, &(width, format)) in jobs.iter().enumerate() {
            if ctx.is_cancelled() {
                return Err(TaskError::permanent("cancelled"));
            }
            if made.contains(&(width, format)) {
                continue;
            }
            let src = pixels.clone();
            let held = share.clone();
            let limit = (width == src.width()).then_some(original_bytes);
            // One variant's encode runs to its end once started (the encoders take no
            // cancel); the next one does not start.
            let v = ctx
                .blocking("encoding the image", move |cancelled| {
                    let _held = held;
                    cancelled.check()?;
                    encode::variant(&src, width, format, limit).map_err(|e| {
                        TaskError::permanent("the image could not be encoded").detail(e)
                    })
                })
                .await?;
            if !media::put_variant(store, &hash, width, format, &v.data, v.encode_ms).await? {
                return Ok(
                    json!({ "hash": hash, "skipped": "the upload was replaced or removed" }),
                );
            }
            let done = (i + 1) * 98 / jobs.len();
            ctx.progress(
                (1 + done) as u8,
                format!(
                    "{} {width} px: {} bytes in {:.0} ms",
                    format.ext(),
                    v.data.len(),
                    v.encode_ms
                ),
            );
            results.push(json!({
                "format": format.ext(), "width": width, "height": v.height,
                "bytes": v.data.len(), "encode_ms": v.encode_ms,
            }));
        }
        self.finish(&payload.story_id, &hash, original_bytes, results, &ctx)
            .await
    }
}

impl CoverVariants {
    /// Shows the cover whose variants all exist (if it is still the one waiting) and reports.
    async fn finish(
        &self,
        story_id: &str,
        hash: &str,
        original_bytes: usize,
        results: Vec<Value>,
        ctx: &TaskContext,
    ) -> Result<Value, TaskError> {
        let shown = media::promote(&self.0.store, story_id, hash).await?;
        if let Some(app) = self.0.app.get() {
            app.cover_changed(story_id).await;
        }
        let summary = if shown {
            format!("{} variants made; the cover is shown", results.len())
        } else {
            "the cover was replaced meanwhile".to_owned()
        };
        ctx.progress(100, summary);
        Ok(json!({
            "hash": hash,
            "story_id": story_id,
            "original_bytes": original_bytes,
            "shown": shown,
            "variants": results,
        }))
    }
}

/// Gives up `story`'s pending upload `hash` (its variants cannot be made): the story keeps
/// the cover it shows, the upload is no longer asked for at start, and unused media go.
async fn abandon(store: &Store, story: &str, hash: &str) -> Result<(), ApiError> {
    let mut writer = store.write().await?;
    let tx = writer.begin().await?;
    tx.execute(
        "cover.abandon",
        "UPDATE stories SET cover_pending = NULL WHERE id = ?1 AND cover_pending = ?2",
        [story, hash],
    )
    .await?;
    media::collect_unused(&tx).await?;
    tx.commit().await?;
    Ok(())
}
