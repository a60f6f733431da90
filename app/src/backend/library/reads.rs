//! Counts story reads in memory and adds them to `stories.read_count` every few seconds,
//! in one statement, so reading never waits for a write.
//!
//! Only reads a client actually got are counted (the HTTP edge calls [`ReadCounter::record`]
//! after a 200 or 304, past the rate limit), and the pending map is bounded: past
//! [`MAX_PENDING`] distinct stories between two flushes further stories are not counted
//! until the next flush (the drop is logged), so no flood of ids can grow memory or the
//! flush's work.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering::Relaxed},
    },
    time::Duration,
};

use server::store::{Store, StoreError};

use crate::model::fields::Id;

/// Distinct stories counted between two flushes at most.
pub const MAX_PENDING: usize = 10_000;

/// Reads not yet written to the database.
#[derive(Default)]
pub struct ReadCounter {
    pending: Mutex<HashMap<Id, u64>>,
    /// Not counted since the last flush (the map was full).
    dropped: AtomicU64,
    /// Counted since start.
    counted: AtomicU64,
}

impl ReadCounter {
    /// A callback for the HTTP edge that counts one read of `id` when the client got it.
    pub fn on_success(self: &Arc<Self>, id: Id) -> server::http::response_cache::OnSuccess {
        let reads = self.clone();
        Box::new(move || reads.record(id))
    }

    /// Counts one read of story `id`.
    pub fn record(&self, id: Id) {
        let mut p = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = p.get_mut(&id) {
            *n += 1;
        } else if p.len() < MAX_PENDING {
            p.insert(id, 1);
        } else {
            self.dropped.fetch_add(1, Relaxed);
            return;
        }
        self.counted.fetch_add(1, Relaxed);
    }

    /// Reads counted since start.
    pub fn counted_total(&self) -> u64 {
        self.counted.load(Relaxed)
    }

    /// Distinct stories waiting to be written.
    pub fn pending(&self) -> usize {
        self.pending.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Writes the counted reads in one statement; returns how many stories were counted.
    pub async fn flush(&self, store: &Store) -> Result<usize, StoreError> {
        let batch: HashMap<Id, u64> = {
            let mut p = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            std::mem::take(&mut *p)
        };
        let dropped = self.dropped.swap(0, Relaxed);
        if dropped > 0 {
            tracing::warn!(
                dropped,
                "reads of more than {MAX_PENDING} distinct stories in one interval; the rest were not counted"
            );
        }
        if batch.is_empty() {
            return Ok(0);
        }
        // {"<id>": n, ...}: ids are canonical UUIDs, so no escaping is needed.
        let mut json = String::with_capacity(batch.len() * 48 + 2);
        json.push('{');
        for (i, (id, n)) in batch.iter().enumerate() {
            if i > 0 {
                json.push(',');
            }
            json.push('"');
            json.push_str(id.as_str());
            json.push_str("\":");
            json.push_str(&n.to_string());
        }
        json.push('}');
        let writer = store.write().await?;
        writer
            .execute(
                "story.read_count",
                "UPDATE stories SET read_count = read_count + r.value
                 FROM json_each(?1) AS r WHERE stories.id = r.key",
                [json],
            )
            .await?;
        Ok(batch.len())
    }
}

/// How often counted reads are written.
pub const FLUSH_EVERY: Duration = Duration::from_secs(5);

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: usize) -> Id {
        Id::parse("id", &format!("00000000-0000-7000-8000-{n:012x}")).expect("valid id")
    }

    #[test]
    fn the_pending_map_is_bounded_but_known_stories_keep_counting() {
        let reads = ReadCounter::default();
        for n in 0..MAX_PENDING + 100 {
            reads.record(id(n));
        }
        reads.record(id(0));
        assert_eq!(reads.pending(), MAX_PENDING);
        assert_eq!(reads.dropped.load(Relaxed), 100);
        let p = reads.pending.lock().expect("lock");
        assert_eq!(p.get(&id(0)), Some(&2));
    }
}
