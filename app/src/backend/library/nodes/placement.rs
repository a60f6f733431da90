//! Where a batch's new nodes land among their siblings, worked out in memory before any SQL,
//! so that the store moves each existing sibling once (a few range updates per sibling
//! group) instead of shifting the group once per new node: a batch of 10,000 nodes at
//! position 0 used to be ~50 million row updates in one transaction, holding the only
//! writer for over a minute.
//!
//! The batch means what inserting its items one after another would: each goes to its
//! `position` among the siblings it has at that moment (clamped to the end), or to the end.
//! Final places come from a Fenwick tree over the group's final slots, taking the items last
//! to first: an item's index counts the slots that no later item took, since those were
//! inserted after it. That is O((n + m) log(n + m)) for n existing and m new siblings; the
//! existing siblings keep their order in the slots left free.

/// How one sibling group changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placed {
    /// The final position of each new node, in the batch's order.
    pub new: Vec<u32>,
    /// Existing siblings at positions `from..to` move up by `by`; highest range first.
    pub shifts: Vec<Shift>,
}

/// Existing siblings `from..to` (their positions before the batch) move up by `by`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shift {
    /// First position that moves.
    pub from: u32,
    /// End of the range (exclusive).
    pub to: u32,
    /// How far.
    pub by: u32,
}

/// Places `wanted.len()` new nodes (each its wanted position, or the end) into a group of
/// `existing` siblings.
pub fn place(existing: u32, wanted: &[Option<u32>]) -> Placed {
    let n = existing as usize;
    let m = wanted.len();
    let mut free = Fenwick::full(n + m);
    let mut taken = vec![false; n + m];
    let mut new = vec![0u32; m];
    for (i, want) in wanted.iter().enumerate().rev() {
        // The group had n + i siblings when this item was inserted.
        let index = want.map_or(n + i, |p| (p as usize).min(n + i));
        let slot = free.take_kth(index);
        taken[slot] = true;
        new[i] = slot as u32;
    }
    let mut shifts: Vec<Shift> = Vec::new();
    let free_slots = taken.iter().enumerate().filter(|(_, t)| !**t);
    for (k, (slot, _)) in free_slots.enumerate() {
        let (k, by) = (k as u32, (slot - k) as u32);
        match shifts.last_mut() {
            Some(last) if last.by == by && last.to == k => last.to = k + 1,
            _ if by > 0 => shifts.push(Shift {
                from: k,
                to: k + 1,
                by,
            }),
            _ => {}
        }
    }
    shifts.reverse();
    Placed { new, shifts }
}

/// Counts of free slots, with "the k-th free slot" found in O(log n).
struct Fenwick {
    tree: Vec<u32>,
}

impl Fenwick {
    /// `len` slots, all free.
    fn full(len: usize) -> Self {
        let mut tree = vec![0u32; len + 1];
        for i in 1..=len {
            tree[i] += 1;
            let parent = i + (i & i.wrapping_neg());
            if parent <= len {
                tree[parent] += tree[i];
            }
        }
        Self { tree }
    }

    /// Takes the free slot with `index` free slots before it; its 0-based place.
    fn take_kth(&mut self, index: usize) -> usize {
        let len = self.tree.len() - 1;
        let mut remaining = index as u32 + 1;
        let mut pos = 0usize;
        let mut step = len.next_power_of_two();
        while step > 0 {
            let next = pos + step;
            if next <= len && self.tree[next] < remaining {
                pos = next;
                remaining -= self.tree[next];
            }
            step /= 2;
        }
        // pos + 1 is the 1-based slot; mark it taken.
        let mut i = pos + 1;
        while i <= len {
            self.tree[i] -= 1;
            i += i & i.wrapping_neg();
        }
        pos
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The meaning: insert one by one into a list of the existing siblings.
    fn one_by_one(existing: u32, wanted: &[Option<u32>]) -> Placed {
        #[derive(Clone, Copy, PartialEq)]
        enum Entry {
            Old(u32),
            New(usize),
        }
        let mut list: Vec<Entry> = (0..existing).map(Entry::Old).collect();
        for (i, want) in wanted.iter().enumerate() {
            let at = want.map_or(list.len(), |p| (p as usize).min(list.len()));
            list.insert(at, Entry::New(i));
        }
        let mut new = vec![0; wanted.len()];
        let mut moved: Vec<(u32, u32)> = Vec::new();
        for (slot, e) in list.iter().enumerate() {
            match e {
                Entry::New(i) => new[*i] = slot as u32,
                Entry::Old(k) => moved.push((*k, slot as u32 - k)),
            }
        }
        let mut shifts: Vec<Shift> = Vec::new();
        for (k, by) in moved {
            match shifts.last_mut() {
                Some(last) if last.by == by && last.to == k => last.to = k + 1,
                _ if by > 0 => shifts.push(Shift {
                    from: k,
                    to: k + 1,
                    by,
                }),
                _ => {}
            }
        }
        shifts.reverse();
        Placed { new, shifts }
    }

    #[test]
    fn positions_mean_what_inserting_one_by_one_means() {
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        let mut next = |below: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % below
        };
        for _ in 0..2_000 {
            let existing = next(12) as u32;
            let wanted: Vec<Option<u32>> = (0..next(12))
                .map(|_| (next(3) > 0).then(|| next(16) as u32))
                .collect();
            assert_eq!(
                place(existing, &wanted),
                one_by_one(existing, &wanted),
                "existing {existing}, wanted {wanted:?}"
            );
        }
    }

    #[test]
    fn many_at_the_front_move_each_existing_sibling_once() {
        let placed = place(3, &[Some(0); 4]);
        // Each new node went in front of the ones before it: the last is first.
        assert_eq!(placed.new, [3, 2, 1, 0]);
        assert_eq!(
            placed.shifts,
            [Shift {
                from: 0,
                to: 3,
                by: 4
            }]
        );
        let appended = place(5, &[None, Some(99)]);
        assert_eq!(appended.new, [5, 6]);
        assert!(appended.shifts.is_empty(), "appending moves nothing");
    }
}
