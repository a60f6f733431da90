//! Throttle: run a function at most once per `wait` ms while calls keep coming, on the
//! leading edge (the first call runs at once) and the trailing edge (the last value of a
//! window is not lost).
//!
//! As in lodash this is [`super::debounce`] with `leading`, `trailing` and
//! `max_wait == wait`, so both share one tested state machine.
//!
//! ```ignore
//! // The story list loads the pages under the viewport (components/story_list.rs).
//! let settle = use_throttle(250.0, move |w: Window| load_pages(w));
//! rsx! { VirtualList { on_range: move |w| settle.call(w), … } }
//! ```

use super::clock::Millis;
use super::debounce::{DebounceOptions, Debounced, use_debounce};

/// The debounce options that make a throttle.
pub fn throttle_options(wait: Millis) -> DebounceOptions {
    DebounceOptions::trailing(wait).leading(true).max_wait(wait)
}

/// Throttles `f` to one call per `wait` ms.
pub fn use_throttle<T: 'static>(wait: Millis, f: impl FnMut(T) + 'static) -> Debounced<T> {
    use_debounce(throttle_options(wait), f)
}

#[cfg(test)]
mod tests {
    use super::super::debounce::Debouncer;
    use super::*;

    #[test]
    fn runs_first_then_at_most_once_per_window_and_keeps_the_last_value() {
        let mut d = Debouncer::new(throttle_options(100.0));
        let mut runs = Vec::new();
        // A call every 10 ms from 0 to 330 ms.
        for i in 0..=33 {
            let t = f64::from(i) * 10.0;
            while let Some(at) = d.deadline().filter(|at| *at <= t) {
                runs.extend(d.expired(at).map(|v| (at, v)));
            }
            runs.extend(d.call(t, i).map(|v| (t, v)));
        }
        while let Some(at) = d.deadline() {
            runs.extend(d.expired(at).map(|v| (at, v)));
        }
        assert_eq!(runs.first(), Some(&(0.0, 0)), "leading edge: {runs:?}");
        assert_eq!(
            runs.last().map(|r| r.1),
            Some(33),
            "trailing edge: {runs:?}"
        );
        for pair in runs.windows(2) {
            assert!(pair[1].0 - pair[0].0 >= 100.0 - 1e-9, "{runs:?}");
            assert!(pair[1].0 - pair[0].0 <= 100.0 + 1e-9, "{runs:?}");
        }
    }

    #[test]
    fn a_single_call_runs_once() {
        let mut d = Debouncer::new(throttle_options(100.0));
        assert_eq!(d.call(0.0, 'x'), Some('x'));
        while let Some(at) = d.deadline() {
            assert_eq!(d.expired(at), None);
        }
    }
}
