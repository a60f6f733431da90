//! How much memory decoding and encoding images may hold at once, in all.
//!
//! A cover's bytes say little about its pixels: a 140 KB all-zero PNG of 6000×6000 is 144 MB
//! once decoded, and its orientation and flattening copy it again. Unbounded, ten such
//! uploads at once took a release server from 246 MB to 2,051 MB. Every piece of image work
//! (checking an upload, an import's covers, making a cover's variants) first reserves what
//! its pixels will take, [`BYTES_PER_PIXEL`] per pixel read from the header (every copy
//! counted), from one budget (`AION_IMAGE_MEMORY_MB`), and holds it until its blocking work
//! ends, even if the request that started it has gone. Work bigger than the whole budget
//! waits for all of it and runs alone. An upload that cannot get its share within
//! [`UPLOAD_WAIT`] is refused with 503 and `Retry-After`; tasks wait their turn.
//!
//! A tokio semaphore counted in MiB: the queue is fair (first come, first served), so a
//! stream of small covers cannot starve a large one.

use std::{sync::Arc, time::Duration};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::model::{ApiError, ErrorCode};

/// What one pixel costs while it is worked on: decoded RGBA (4), the upright copy after
/// EXIF orientation (4), and the flattened RGB the encoders read (3).
pub const BYTES_PER_PIXEL: u64 = 11;
/// How long an upload waits for its share before it is refused.
pub const UPLOAD_WAIT: Duration = Duration::from_secs(5);
/// What a refused upload is told to wait, in seconds.
pub const RETRY_AFTER_SECS: u32 = 5;

/// The budget.
#[derive(Clone)]
pub struct ImageBudget {
    permits: Arc<Semaphore>,
    total_mib: u32,
}

/// A share of the budget, given back when dropped.
pub struct Share(#[allow(dead_code)] OwnedSemaphorePermit);

impl ImageBudget {
    /// A budget of `mib` MiB (at least 16).
    pub fn new(mib: u32) -> Self {
        let total_mib = mib.max(16);
        Self {
            permits: Arc::new(Semaphore::new(total_mib as usize)),
            total_mib,
        }
    }

    /// What work on a `width`×`height` image costs, in MiB: at least 1, at most the whole.
    pub fn cost_mib(&self, width: u32, height: u32) -> u32 {
        let bytes = u64::from(width) * u64::from(height) * BYTES_PER_PIXEL;
        (bytes.div_ceil(1 << 20).max(1)).min(u64::from(self.total_mib)) as u32
    }

    /// Waits for the share of a `width`×`height` image.
    pub async fn reserve(&self, width: u32, height: u32) -> Result<Share, ApiError> {
        let n = self.cost_mib(width, height);
        // The semaphore is never closed, so this does not fail.
        self.permits
            .clone()
            .acquire_many_owned(n)
            .await
            .map(Share)
            .map_err(|_| ApiError::internal())
    }

    /// Waits up to `wait` for the share of a `width`×`height` image; 503 beyond.
    pub async fn reserve_within(
        &self,
        width: u32,
        height: u32,
        wait: Duration,
    ) -> Result<Share, ApiError> {
        tokio::time::timeout(wait, self.reserve(width, height))
            .await
            .map_err(|_| busy())?
    }

    /// MiB not reserved now.
    pub fn available_mib(&self) -> u32 {
        self.permits.available_permits() as u32
    }

    /// The whole budget, in MiB.
    pub fn total_mib(&self) -> u32 {
        self.total_mib
    }
}

/// The refusal of an upload that found the budget taken.
pub fn busy() -> ApiError {
    ApiError::new(
        ErrorCode::Unavailable,
        format!("the server is busy with other images; try again in {RETRY_AFTER_SECS} seconds"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn costs_count_every_copy_and_stay_within_the_budget() {
        let budget = ImageBudget::new(512);
        // 6000×6000 at 11 bytes a pixel: 378 MiB.
        assert_eq!(budget.cost_mib(6000, 6000), 378);
        assert_eq!(budget.cost_mib(1, 1), 1);
        // Larger than the whole budget: the whole budget, so it runs alone.
        assert_eq!(budget.cost_mib(20_000, 20_000), 512);
    }

    #[tokio::test]
    async fn a_second_large_image_waits_until_the_first_is_done() {
        let budget = ImageBudget::new(512);
        let first = budget.reserve(6000, 6000).await;
        let refused = budget
            .reserve_within(6000, 6000, Duration::from_millis(20))
            .await;
        assert_eq!(
            refused.err().map(|e| e.code()),
            Some(ErrorCode::Unavailable)
        );
        // Small work still fits beside it.
        let small = budget
            .reserve_within(640, 480, Duration::from_millis(20))
            .await;
        assert!(small.is_ok());
        drop(small);
        drop(first);
        assert_eq!(budget.available_mib(), 512);
        assert!(
            budget
                .reserve_within(6000, 6000, Duration::from_millis(20))
                .await
                .is_ok()
        );
    }
}
