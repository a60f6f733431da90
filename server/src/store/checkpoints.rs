//! When the write-ahead log was last checkpointed into the database file.
//!
//! SQLite checkpoints on its own (`wal_autocheckpoint`, at the commit that crosses the
//! page limit) as well as when asked, and reports neither. A completed checkpoint shows
//! in the WAL file itself: the next write restarts the log and bumps the checkpoint
//! sequence number in its header (bytes 12-15, big-endian). The store dates every
//! checkpoint it runs, and every change of that number it sees when the log is looked at
//! ([`super::Store::last_checkpoint_unix_ms`], called at each metrics sample), so an
//! automatic checkpoint is dated to within one sampling interval. Reading the header is
//! one 16-byte read of a file the OS has cached.

use std::{
    io::Read,
    path::Path,
    sync::atomic::{AtomicU64, Ordering::Relaxed},
    time::{SystemTime, UNIX_EPOCH},
};

/// The WAL header's magic numbers (big- or little-endian checksums).
const MAGIC: [u32; 2] = [0x377f_0682, 0x377f_0683];

/// The checkpoint sequence number in the WAL at `path`, if it has a header.
fn sequence(path: &Path) -> Option<u32> {
    let mut head = [0u8; 16];
    std::fs::File::open(path).ok()?.read_exact(&mut head).ok()?;
    let word = |i: usize| u32::from_be_bytes([head[i], head[i + 1], head[i + 2], head[i + 3]]);
    MAGIC.contains(&word(0)).then(|| word(12))
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// The last checkpoint seen, and the log's sequence number when last looked at.
#[derive(Debug, Default)]
pub(crate) struct CheckpointWatch {
    /// Sequence number + 1; 0 before the first look.
    seen: AtomicU64,
    /// Unix milliseconds; 0 for none since start.
    at_unix_ms: AtomicU64,
}

impl CheckpointWatch {
    /// A checkpoint the store ran just now.
    pub(crate) fn ran(&self) {
        self.at_unix_ms.store(now_ms(), Relaxed);
    }

    /// Looks at the log at `wal`: a sequence number other than the last one seen means a
    /// checkpoint completed since.
    pub(crate) fn observe(&self, wal: &Path) {
        let Some(seq) = sequence(wal) else { return };
        let before = self.seen.swap(u64::from(seq) + 1, Relaxed);
        if before != 0 && before != u64::from(seq) + 1 {
            self.at_unix_ms.fetch_max(now_ms(), Relaxed);
        }
    }

    /// Unix milliseconds of the last checkpoint seen, if any since start.
    pub(crate) fn last(&self) -> Option<u64> {
        Some(self.at_unix_ms.load(Relaxed)).filter(|&t| t > 0)
    }
}
