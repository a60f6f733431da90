//! Counts story reads in memory and adds them to `stories.read_count` every few seconds,
//! in one statement, so reading never waits for a write.
//!
//! Which requests are reads is [`story_read`]'s decision. Only reads a client actually got
//! are counted (the HTTP edge calls [`ReadCounter::record`] after a 200 or 304, past the rate
//! limit: refused requests and ids that name nothing never count), and the pending map is bounded: past
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

use axum::http::{Method, Uri};
use server::store::{Store, StoreError};

use crate::model::fields::Id;

/// The story a request reads, if it is a read that counts: `GET /api/stories/{id}` (not its
/// tree, outline or node views) and the reader's pages `GET /stories/{id}` and `/stories/{id}/nodes/{node}` without
/// a query (a page rendered on the server is a read: the client does not fetch again). The
/// editor's page is not a read.
pub fn story_read(method: &Method, uri: &Uri) -> Option<Id> {
    if method != Method::GET {
        return None;
    }
    let path = uri.path();
    if let Some(rest) = path.strip_prefix("/api/stories/") {
        return canonical_id(rest);
    }
    let rest = path.strip_prefix("/stories/")?;
    if uri.query().is_some() {
        return None;
    }
    let mut parts = rest.split('/');
    let id = canonical_id(parts.next()?)?;
    match (parts.next(), parts.next(), parts.next()) {
        (None, ..) => Some(id),
        (Some("nodes"), Some(node), None) => canonical_id(node).map(|_| id),
        _ => None,
    }
}

/// The id in a path segment as the router will see it (percent-decoded), in canonical form.
pub fn canonical_id(segment: &str) -> Option<Id> {
    let decoded = percent_encoding::percent_decode_str(segment)
        .decode_utf8()
        .ok()?;
    Id::parse("id", &decoded).ok()
}

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

    #[test]
    fn single_story_reads_and_reader_pages_count_and_nothing_else() {
        let id = "0190a6b2-7c1e-7aaa-8bbb-0123456789ab";
        let read = |method: Method, uri: &str| {
            story_read(&method, &uri.parse().expect("uri")).map(|i| i.as_str().to_owned())
        };
        let upper = id.to_uppercase();
        for uri in [
            format!("/api/stories/{id}"),
            format!("/api/stories/{upper}"),
            format!("/stories/{id}"),
            format!("/stories/{id}/nodes/{id}"),
        ] {
            assert_eq!(read(Method::GET, &uri).as_deref(), Some(id), "{uri}");
        }
        for uri in [
            format!("/api/stories/{id}/tree"),
            format!("/stories/{id}/edit"),
            format!("/stories/{id}?x=1"),
            "/stories/not-an-id".to_owned(),
            "/api/stories".to_owned(),
            "/stories".to_owned(),
        ] {
            assert_eq!(read(Method::GET, &uri), None, "{uri}");
        }
        assert_eq!(read(Method::PATCH, &format!("/api/stories/{id}")), None);
    }

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
