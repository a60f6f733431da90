//! Live refresh for a page that shows figures as they change: ticks at a chosen rate,
//! stops while the user has paused it or the tab is hidden, and ticks at once when it
//! comes back (so what is shown is never a whole interval old after a resume).
//!
//! ```ignore
//! let live = use_live_refresh(every_secs, paused);   // ReadSignal<u32>, ReadSignal<bool>
//! use_effect(move || { live.tick(); spawn(fetch()); });
//! ```
//!
//! The deciding part ([`Refresh`]) is plain data: given the settings and the time, whether
//! a tick is due and how long to wait for the next, unit-tested natively. The browser
//! layer is one task that sleeps until the next due time; it is cancelled and restarted
//! whenever the settings or the visibility change, so a paused or hidden page has no
//! timer running at all. `dioxus-sdk-time`'s interval hook restarts on a changed period
//! too, but knows neither pausing nor visibility; the state here is small enough to keep.

use dioxus::prelude::*;

use super::clock::{self, Millis};

/// The rates a user can choose, in seconds.
pub const RATES_SECS: [u32; 4] = [1, 5, 10, 30];

/// The deciding half: when ticks are due.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Refresh {
    /// Time between ticks.
    pub every: Millis,
    /// When the last tick was (`None`: never).
    pub last: Option<Millis>,
}

impl Refresh {
    /// `None` while it must not tick (paused or hidden); else how long until the next tick
    /// (0: now). A tick that was missed while inactive is due at once on resuming.
    pub fn wait(&self, now: Millis, active: bool) -> Option<Millis> {
        if !active {
            return None;
        }
        Some(
            self.last
                .map_or(0.0, |last| (last + self.every - now).max(0.0)),
        )
    }
}

/// What [`use_live_refresh`] gives the page.
#[derive(Clone, Copy, PartialEq)]
pub struct LiveRefresh {
    ticks: Signal<u64>,
    hidden: Signal<bool>,
}

impl LiveRefresh {
    /// Ticks so far (reading it subscribes: an effect that reads it runs on every tick).
    pub fn tick(&self) -> u64 {
        (self.ticks)()
    }

    /// Whether the tab is hidden now.
    pub fn hidden(&self) -> bool {
        (self.hidden)()
    }
}

/// Ticks every `every_secs` seconds while `paused` is false and the tab is visible; the
/// first tick comes at once in the browser (never during server rendering).
pub fn use_live_refresh(every_secs: ReadSignal<u32>, paused: ReadSignal<bool>) -> LiveRefresh {
    let mut ticks = use_signal(|| 0u64);
    let hidden = use_signal(|| false);
    let mut last = use_signal(|| None::<Millis>);
    #[cfg(target_arch = "wasm32")]
    {
        let mut hidden = hidden;
        let listener = use_hook(move || {
            hidden.set(super::browser::page_hidden());
            std::rc::Rc::new(super::browser::on_visibility(move |h| hidden.set(h)))
        });
        use_drop(move || drop(listener));
    }
    let mut running = use_signal(|| None::<dioxus::core::Task>);
    use_effect(move || {
        let refresh = Refresh {
            every: f64::from(every_secs()) * 1000.0,
            last: *last.peek(),
        };
        let active = !paused() && !hidden();
        if let Some(task) = running.write().take() {
            task.cancel();
        }
        let Some(mut wait) = refresh.wait(clock::now(), active) else {
            return;
        };
        let every = refresh.every;
        running.set(Some(spawn(async move {
            loop {
                clock::sleep(wait).await;
                last.set(Some(clock::now()));
                ticks += 1;
                wait = every;
            }
        })));
    });
    LiveRefresh { ticks, hidden }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_tick_is_due_at_once_then_one_per_period() {
        let mut r = Refresh {
            every: 5_000.0,
            last: None,
        };
        assert_eq!(r.wait(100.0, true), Some(0.0));
        r.last = Some(100.0);
        assert_eq!(r.wait(1_100.0, true), Some(4_000.0));
        assert_eq!(r.wait(5_100.0, true), Some(0.0));
    }

    #[test]
    fn paused_or_hidden_never_ticks_and_a_missed_tick_is_due_on_resume() {
        let r = Refresh {
            every: 1_000.0,
            last: Some(0.0),
        };
        for now in [10.0, 999.0, 60_000.0] {
            assert_eq!(r.wait(now, false), None);
        }
        assert_eq!(r.wait(60_000.0, true), Some(0.0));
        // Resumed before the period ran out: the rest of it.
        assert_eq!(r.wait(400.0, true), Some(600.0));
    }

    #[test]
    fn a_shorter_period_brings_the_next_tick_forward() {
        let r = Refresh {
            every: 30_000.0,
            last: Some(0.0),
        };
        assert_eq!(r.wait(2_000.0, true), Some(28_000.0));
        let faster = Refresh {
            every: 1_000.0,
            ..r
        };
        assert_eq!(faster.wait(2_000.0, true), Some(0.0));
    }
}
