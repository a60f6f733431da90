//! Windowing arithmetic for a virtual list: which rows to put in the DOM for a scroll
//! position, where each one goes, and how tall the whole list is.
//!
//! Rows have an estimated height until they are measured ([`Layout::measure`]); a Fenwick
//! tree holds the differences, so the offset of row `i`, the row at a pixel offset and a new
//! measurement each cost O(log n) even at 100,000 rows, and the total height (the honest
//! scrollbar) is always known. With every row the same height nothing is ever measured and
//! it is plain multiplication. [`Layout::window`] adds `overscan` rows on each side, so a
//! fling shows rows before the next scroll event arrives; the number of rows in the DOM is
//! bounded by the viewport, never by the list's length.
//!
//! ```ignore
//! let layout = Layout::new(100_000, 96.0);
//! let w = layout.window(scroll_top, viewport_height, 5);   // rows w.start..w.end
//! let y = layout.offset_of(w.start);                         // where the first one goes
//! ```
//!
//! The browser half is `components::VirtualList`. Why written here: the Dioxus components
//! library's VirtualList is not published (its crate is a placeholder), and the arithmetic
//! is the part worth testing; it follows TanStack Virtual (estimate, measure, overscan,
//! scroll to index with an alignment).

/// Row heights of a list: estimated, and measured as rows render.
#[derive(Debug, Clone)]
pub struct Layout {
    count: usize,
    estimate: f64,
    /// Fenwick tree over `measured - estimate` per row.
    tree: Vec<f64>,
    measured: Vec<Option<f32>>,
}

/// The rows to render: `start..end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Window {
    /// First row in the DOM.
    pub start: usize,
    /// One past the last row in the DOM.
    pub end: usize,
}

impl Window {
    /// How many rows are in the DOM.
    pub fn len(self) -> usize {
        self.end - self.start
    }
}

/// Where a row should end up when scrolled to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// At the top of the viewport.
    Start,
    /// In the middle.
    Center,
    /// Only as far as needed to make it visible.
    Auto,
}

impl Layout {
    /// `count` rows of `estimate` pixels each until measured.
    pub fn new(count: usize, estimate: f64) -> Self {
        Self {
            count,
            estimate: estimate.max(1.0),
            tree: Vec::new(),
            measured: Vec::new(),
        }
    }

    /// How many rows there are.
    pub fn count(&self) -> usize {
        self.count
    }

    /// Changes the row count (keeping measurements of rows that remain).
    pub fn resize(&mut self, count: usize) {
        if count == self.count {
            return;
        }
        let kept: Vec<(usize, f32)> = self
            .measured
            .iter()
            .enumerate()
            .filter_map(|(i, m)| m.map(|h| (i, h)))
            .filter(|(i, _)| *i < count)
            .collect();
        *self = Self::new(count, self.estimate);
        for (i, h) in kept {
            self.measure(i, f64::from(h));
        }
    }

    /// Records the rendered height of row `i`; returns whether it changed anything.
    pub fn measure(&mut self, i: usize, height: f64) -> bool {
        if i >= self.count || !height.is_finite() || height < 0.0 {
            return false;
        }
        if self.tree.is_empty() {
            self.tree = vec![0.0; self.count + 1];
            self.measured = vec![None; self.count];
        }
        let old = self.measured[i].map_or(self.estimate, f64::from);
        let height = f64::from(height as f32);
        // Only rounding noise is ignored: a row 0.4 px off its estimate is recorded, since
        // twenty such rows would put the list 8 px off (the browser test saw exactly that).
        if (old - height).abs() < 0.01 {
            return false;
        }
        self.measured[i] = Some(height as f32);
        let mut k = i + 1;
        while k <= self.count {
            self.tree[k] += height - old;
            k += k & k.wrapping_neg();
        }
        true
    }

    /// The height of row `i`.
    pub fn height_of(&self, i: usize) -> f64 {
        self.measured
            .get(i)
            .copied()
            .flatten()
            .map_or(self.estimate, f64::from)
    }

    /// Sum of measurement corrections of rows `0..i`.
    fn correction(&self, i: usize) -> f64 {
        if self.tree.is_empty() {
            return 0.0;
        }
        let mut k = i.min(self.count);
        let mut sum = 0.0;
        while k > 0 {
            sum += self.tree[k];
            k -= k & k.wrapping_neg();
        }
        sum
    }

    /// The top of row `i` (or the bottom of the list for `i == count`).
    pub fn offset_of(&self, i: usize) -> f64 {
        let i = i.min(self.count);
        i as f64 * self.estimate + self.correction(i)
    }

    /// The height of the whole list.
    pub fn total_height(&self) -> f64 {
        self.offset_of(self.count)
    }

    /// The row covering pixel `y` (clamped to the list).
    pub fn index_at(&self, y: f64) -> usize {
        if self.count == 0 || y <= 0.0 {
            return 0;
        }
        if self.tree.is_empty() {
            return ((y / self.estimate) as usize).min(self.count - 1);
        }
        // Binary search on the monotone offsets (heights are positive): O(log² n).
        let (mut lo, mut hi) = (0, self.count);
        while lo + 1 < hi {
            let mid = (lo + hi) / 2;
            if self.offset_of(mid) <= y {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        lo
    }

    /// The rows to render for a viewport at `scroll_top` of `viewport` pixels, with
    /// `overscan` extra rows above and below.
    pub fn window(&self, scroll_top: f64, viewport: f64, overscan: usize) -> Window {
        if self.count == 0 {
            return Window::default();
        }
        let first = self.index_at(scroll_top.max(0.0));
        let last = self.index_at((scroll_top + viewport.max(0.0)).max(0.0));
        Window {
            start: first.saturating_sub(overscan),
            end: (last + 1 + overscan).min(self.count),
        }
    }

    /// The scroll position that shows row `i` as `align` says, for the current position.
    pub fn scroll_to(&self, i: usize, align: Align, scroll_top: f64, viewport: f64) -> f64 {
        if self.count == 0 {
            return 0.0;
        }
        let i = i.min(self.count - 1);
        let top = self.offset_of(i);
        let bottom = top + self.height_of(i);
        let target = match align {
            Align::Start => top,
            Align::Center => top - (viewport - self.height_of(i)) / 2.0,
            Align::Auto if top < scroll_top => top,
            Align::Auto if bottom > scroll_top + viewport => bottom - viewport,
            Align::Auto => scroll_top,
        };
        target.clamp(0.0, (self.total_height() - viewport).max(0.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_rows_are_arithmetic() {
        let l = Layout::new(100_000, 96.0);
        assert_eq!(l.total_height(), 9_600_000.0);
        assert_eq!(l.offset_of(10), 960.0);
        assert_eq!(l.index_at(959.9), 9);
        assert_eq!(l.index_at(960.0), 10);
        assert_eq!(l.index_at(1e12), 99_999);
    }

    #[test]
    fn the_window_is_bounded_by_the_viewport_not_the_list() {
        let l = Layout::new(100_000, 96.0);
        let viewport = 900.0;
        let mut biggest = 0;
        let mut y = 0.0;
        while y < l.total_height() {
            let w = l.window(y, viewport, 5);
            assert!(w.start <= l.index_at(y) && l.index_at(y + viewport) < w.end);
            biggest = biggest.max(w.len());
            y += 7_919.0;
        }
        assert!(biggest <= 900 / 96 + 2 + 10, "{biggest} rows");
        let last = l.window(l.total_height() - viewport, viewport, 5);
        assert_eq!(last.end, 100_000, "the last row is reachable");
        assert_eq!(l.window(0.0, viewport, 5).start, 0);
    }

    #[test]
    fn sub_pixel_differences_add_up_and_count() {
        let mut l = Layout::new(100, 34.0);
        for i in 0..20 {
            assert!(l.measure(i, 33.59));
        }
        assert!((l.offset_of(20) - 20.0 * 33.59).abs() < 0.01);
    }

    #[test]
    fn measured_rows_move_everything_below_them() {
        let mut l = Layout::new(1_000, 50.0);
        assert!(l.measure(3, 80.0));
        assert!(!l.measure(3, 80.004), "rounding noise is ignored");
        assert!(l.measure(10, 20.0));
        assert_eq!(l.offset_of(3), 150.0);
        assert_eq!(l.offset_of(4), 230.0);
        assert_eq!(l.offset_of(11), 11.0 * 50.0 + 30.0 - 30.0);
        assert_eq!(l.total_height(), 50_000.0);
        // Every offset agrees with the sum of the heights above it.
        let mut sum = 0.0;
        for i in 0..l.count() {
            assert_eq!(l.offset_of(i), sum, "row {i}");
            assert_eq!(l.index_at(sum), i, "row {i}");
            sum += l.height_of(i);
        }
    }

    #[test]
    fn measuring_a_random_mix_matches_a_plain_sum() {
        let mut l = Layout::new(5_000, 64.0);
        let mut heights = vec![64.0; 5_000];
        let mut seed = 7u64;
        for _ in 0..2_000 {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            let i = (seed >> 33) as usize % 5_000;
            let h = 20.0 + ((seed >> 20) % 200) as f64;
            l.measure(i, h);
            heights[i] = h;
        }
        let mut sum = 0.0;
        for (i, h) in heights.iter().enumerate() {
            assert!((l.offset_of(i) - sum).abs() < 1e-6, "row {i}");
            sum += h;
        }
        assert!((l.total_height() - sum).abs() < 1e-6);
        for probe in [0.0, 1.0, sum / 3.0, sum / 2.0, sum - 1.0] {
            let i = l.index_at(probe);
            assert!(l.offset_of(i) <= probe && probe < l.offset_of(i) + l.height_of(i));
        }
    }

    #[test]
    fn resizing_keeps_the_measurements_of_remaining_rows() {
        let mut l = Layout::new(10, 10.0);
        l.measure(2, 30.0);
        l.measure(8, 30.0);
        l.resize(5);
        assert_eq!(l.total_height(), 70.0);
        l.resize(20);
        assert_eq!(l.total_height(), 220.0);
    }

    #[test]
    fn scroll_to_aligns_and_clamps() {
        let l = Layout::new(100, 100.0);
        assert_eq!(l.scroll_to(10, Align::Start, 0.0, 500.0), 1_000.0);
        assert_eq!(l.scroll_to(10, Align::Center, 0.0, 500.0), 800.0);
        assert_eq!(
            l.scroll_to(2, Align::Auto, 0.0, 500.0),
            0.0,
            "already visible"
        );
        assert_eq!(
            l.scroll_to(10, Align::Auto, 0.0, 500.0),
            600.0,
            "just into view"
        );
        assert_eq!(l.scroll_to(1, Align::Auto, 600.0, 500.0), 100.0);
        assert_eq!(
            l.scroll_to(99, Align::Start, 0.0, 500.0),
            9_500.0,
            "clamped"
        );
        assert_eq!(l.scroll_to(1_000, Align::Start, 0.0, 500.0), 9_500.0);
    }
}
