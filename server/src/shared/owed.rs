//! Invalidations owed to the other instances: the tags of publishes that failed, kept
//! (bounded) until the bus publishes them again (see [`super::SharedBus`]).

use std::collections::BTreeSet;

/// Most tags owed to the other instances; past it, a clear of everything is owed instead.
pub const MAX_OWED_TAGS: usize = 1_000;

/// Invalidations that failed to publish, to be published again.
#[derive(Default)]
pub(super) struct Owed {
    tags: BTreeSet<String>,
    all: bool,
}

impl Owed {
    pub(super) fn add(&mut self, tags: &[&str]) {
        if tags.contains(&"*") || self.tags.len() + tags.len() > MAX_OWED_TAGS {
            self.all = true;
        }
        if self.all {
            self.tags.clear();
        } else {
            self.tags.extend(tags.iter().map(|t| (*t).to_owned()));
        }
    }

    /// What to publish now (tags, message body), leaving nothing owed.
    pub(super) fn take(&mut self) -> Option<(Vec<String>, String)> {
        if std::mem::take(&mut self.all) {
            self.tags.clear();
            return Some((vec!["*".to_owned()], "*".to_owned()));
        }
        if self.tags.is_empty() {
            return None;
        }
        let tags: Vec<String> = std::mem::take(&mut self.tags).into_iter().collect();
        let body = tags.join("\n");
        Some((tags, body))
    }

    pub(super) fn len(&self) -> usize {
        if self.all { 1 } else { self.tags.len() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owed_tags_are_bounded_and_taken_once() {
        let mut owed = Owed::default();
        owed.add(&["story:1", "stories:list"]);
        owed.add(&["story:1"]);
        assert_eq!(
            owed.take(),
            Some((
                vec!["stories:list".to_owned(), "story:1".to_owned()],
                "stories:list\nstory:1".to_owned()
            ))
        );
        assert_eq!(owed.take(), None);
        let many: Vec<String> = (0..=MAX_OWED_TAGS).map(|i| format!("story:{i}")).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        owed.add(&many);
        assert_eq!(owed.len(), 1, "past the bound, a clear of everything");
        assert_eq!(owed.take(), Some((vec!["*".to_owned()], "*".to_owned())));
        owed.add(&["*"]);
        owed.add(&["story:2"]);
        assert_eq!(owed.take(), Some((vec!["*".to_owned()], "*".to_owned())));
        assert_eq!(owed.take(), None);
    }
}
