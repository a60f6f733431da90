//! Counts story reads in memory and adds them to `stories.read_count` every few seconds,
//! in one transaction, so reading never waits for a write.

use std::{collections::HashMap, sync::Mutex, time::Duration};

use server::store::{Store, StoreError, params};

/// Reads not yet written to the database.
#[derive(Default)]
pub struct ReadCounter {
    pending: Mutex<HashMap<String, u64>>,
}

impl ReadCounter {
    /// Counts one read of story `id`.
    pub fn record(&self, id: &str) {
        let mut p = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        match p.get_mut(id) {
            Some(n) => *n += 1,
            None => {
                p.insert(id.to_owned(), 1);
            }
        }
    }

    /// Writes the counted reads; returns how many stories were updated.
    pub async fn flush(&self, store: &Store) -> Result<usize, StoreError> {
        let batch: Vec<(String, u64)> = {
            let mut p = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            p.drain().collect()
        };
        if batch.is_empty() {
            return Ok(0);
        }
        let mut writer = store.write().await?;
        let tx = writer.begin().await?;
        {
            let mut add = tx
                .prepare(
                    "story.read_count",
                    "UPDATE stories SET read_count = read_count + ?2 WHERE id = ?1",
                )
                .await?;
            for (id, n) in &batch {
                add.execute(params![id.as_str(), *n as i64]).await?;
            }
        }
        tx.commit().await?;
        Ok(batch.len())
    }
}

/// How often counted reads are written.
pub const FLUSH_EVERY: Duration = Duration::from_secs(5);
