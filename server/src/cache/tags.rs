//! Which keys carry which tag, and which tags were invalidated lately.
//!
//! Invalidation must win every race with a load that read the database before the write:
//! each load remembers the epoch at which it started, every invalidation gets a new epoch,
//! and an entry whose tags were invalidated after its load started is never kept. The last
//! few thousand invalidations are remembered for that check; a load older than all of them is
//! treated as invalidated (it is simply not cached).

use std::{
    collections::{HashMap, HashSet, VecDeque},
    hash::Hash,
};

/// Invalidations remembered for the race check.
const RECENT: usize = 4096;

/// The wildcard recorded by a full clear.
pub(crate) const ALL: &str = "*";

pub(crate) struct TagIndex<K> {
    keys: HashMap<String, HashSet<K>>,
    recent: VecDeque<(u64, String)>,
    epoch: u64,
    /// Epoch of the oldest invalidation dropped from `recent`.
    forgotten: u64,
}

impl<K: Hash + Eq + Clone> TagIndex<K> {
    pub fn new() -> Self {
        Self {
            keys: HashMap::new(),
            recent: VecDeque::with_capacity(RECENT),
            epoch: 0,
            forgotten: 0,
        }
    }

    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// Records that `key` carries `tags`.
    pub fn register(&mut self, key: &K, tags: &[String]) {
        for tag in tags {
            self.keys
                .entry(tag.clone())
                .or_default()
                .insert(key.clone());
        }
    }

    /// Invalidates `tag`: a new epoch, and the keys that carried it.
    pub fn invalidate(&mut self, tag: &str) -> (u64, Vec<K>) {
        self.epoch += 1;
        if self.recent.len() == RECENT
            && let Some((e, _)) = self.recent.pop_front()
        {
            self.forgotten = e;
        }
        self.recent.push_back((self.epoch, tag.to_owned()));
        let keys = if tag == ALL {
            let all: HashSet<K> = self.keys.drain().flat_map(|(_, ks)| ks).collect();
            all.into_iter().collect()
        } else {
            self.keys
                .remove(tag)
                .map(|s| s.into_iter().collect())
                .unwrap_or_default()
        };
        (self.epoch, keys)
    }

    /// True if any of `tags` (or everything) was invalidated after `since`.
    pub fn invalidated_since(&self, tags: &[String], since: u64) -> bool {
        if since < self.forgotten {
            return true;
        }
        self.recent
            .iter()
            .rev()
            .take_while(|(e, _)| *e > since)
            .any(|(_, t)| t == ALL || tags.iter().any(|x| x == t))
    }

    /// Drops keys for which `alive` is false (entries evicted or expired from every tier).
    pub fn prune(&mut self, alive: impl Fn(&K) -> bool) -> usize {
        let mut removed = 0;
        self.keys.retain(|_, keys| {
            let before = keys.len();
            keys.retain(|k| alive(k));
            removed += before - keys.len();
            !keys.is_empty()
        });
        removed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalidation_reports_keys_and_races() {
        let mut t = TagIndex::<u32>::new();
        t.register(&1, &["a".into(), "b".into()]);
        t.register(&2, &["b".into()]);
        let start = t.epoch();
        let (_, mut keys) = t.invalidate("b");
        keys.sort();
        assert_eq!(keys, [1, 2]);
        assert!(t.invalidated_since(&["b".into()], start));
        assert!(!t.invalidated_since(&["a".into()], start));
        assert!(!t.invalidated_since(&["b".into()], t.epoch()));
        t.invalidate(ALL);
        assert!(t.invalidated_since(&["zzz".into()], start));
    }

    #[test]
    fn a_load_older_than_the_remembered_window_counts_as_invalidated() {
        let mut t = TagIndex::<u32>::new();
        let start = t.epoch();
        for i in 0..RECENT + 10 {
            t.invalidate(&format!("t{i}"));
        }
        assert!(t.invalidated_since(&["unrelated".into()], start));
    }
}
