//! A fixed-size ring of snapshots for charts: the newest N points, oldest dropped first.

use std::{collections::VecDeque, sync::Mutex};

/// The last `capacity` values pushed.
///
/// ```
/// let h = server::metrics::History::new(2);
/// h.push(1); h.push(2); h.push(3);
/// assert_eq!(h.points(), vec![2, 3]);
/// ```
pub struct History<T> {
    points: Mutex<VecDeque<T>>,
    capacity: usize,
}

impl<T: Clone> History<T> {
    /// An empty ring holding at most `capacity` points.
    pub fn new(capacity: usize) -> Self {
        Self {
            points: Mutex::new(VecDeque::with_capacity(capacity)),
            capacity,
        }
    }

    /// Adds the newest point.
    pub fn push(&self, point: T) {
        let mut p = self.points.lock().unwrap_or_else(|e| e.into_inner());
        if p.len() == self.capacity {
            p.pop_front();
        }
        p.push_back(point);
    }

    /// All points, oldest first.
    pub fn points(&self) -> Vec<T> {
        self.points
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .cloned()
            .collect()
    }

    /// The newest point.
    pub fn latest(&self) -> Option<T> {
        self.points
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .back()
            .cloned()
    }
}
