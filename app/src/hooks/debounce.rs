//! Debounce: run a function once a burst of calls has paused, with lodash's semantics.
//!
//! Trailing by default (one call `wait` ms after the last one); `leading` also (or only)
//! calls at the start of a burst; `max_wait` bounds how long a steady stream of calls can
//! postpone it; `cancel` drops what is pending, `flush` runs it now, `pending` says whether
//! a call is waiting. Throttle ([`super::throttle`]) is this with `max_wait == wait`.
//!
//! ```ignore
//! let search = use_debounce(DebounceOptions::trailing(300.0), move |q: String| go(q));
//! rsx! { input { oninput: move |e| search.call(e.value()) } }
//! ```
//!
//! Why not `dioxus-sdk-time`'s `use_debounce`: it restarts one timeout per call and has
//! no leading edge, `max_wait`, `flush` or `pending`, which the editor's autosave (flush when
//! the page is hidden, bounded wait while typing continuously) and throttle need. The state
//! machine below is lodash's `debounce` (the same `shouldInvoke` / `remainingWait` rules),
//! kept free of timers so it is unit-tested on a manual clock; the hook adds one task per
//! debounced function that sleeps until the machine's deadline.

use dioxus::core::{Runtime, current_scope_id};
use dioxus::prelude::*;
use futures_channel::mpsc::{UnboundedSender, unbounded};
use futures_util::StreamExt;

use super::clock::{self, Millis};

/// When a debounced function runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DebounceOptions {
    /// The pause, in ms, after which a burst of calls ends.
    pub wait: Millis,
    /// Call at the start of a burst.
    pub leading: bool,
    /// Call at the end of a burst (with the last value).
    pub trailing: bool,
    /// The longest a call may be postponed while calls keep coming.
    pub max_wait: Option<Millis>,
}

impl DebounceOptions {
    /// Trailing edge only: lodash's default.
    pub fn trailing(wait: Millis) -> Self {
        Self {
            wait,
            leading: false,
            trailing: true,
            max_wait: None,
        }
    }

    /// Also call on the leading edge.
    pub fn leading(mut self, on: bool) -> Self {
        self.leading = on;
        self
    }

    /// Never postpone a call by more than `ms` (at least `wait`, as in lodash).
    pub fn max_wait(mut self, ms: Millis) -> Self {
        self.max_wait = Some(ms.max(self.wait));
        self
    }
}

/// The deciding half of a debounce: fed the time of every event, it says when to run.
#[derive(Debug)]
pub struct Debouncer<T> {
    opts: DebounceOptions,
    last_call: Option<Millis>,
    last_invoke: Millis,
    deadline: Option<Millis>,
    last_value: Option<T>,
}

impl<T> Debouncer<T> {
    /// A debouncer with nothing pending.
    pub fn new(opts: DebounceOptions) -> Self {
        Self {
            opts,
            last_call: None,
            last_invoke: 0.0,
            deadline: None,
            last_value: None,
        }
    }

    fn should_invoke(&self, now: Millis) -> bool {
        let Some(last_call) = self.last_call else {
            return true;
        };
        let since_call = now - last_call;
        since_call >= self.opts.wait
            || since_call < 0.0
            || self
                .opts
                .max_wait
                .is_some_and(|max| now - self.last_invoke >= max)
    }

    fn remaining_wait(&self, now: Millis) -> Millis {
        let waiting = self.opts.wait - (now - self.last_call.unwrap_or(now));
        match self.opts.max_wait {
            Some(max) => waiting.min(max - (now - self.last_invoke)),
            None => waiting,
        }
    }

    fn invoke(&mut self, now: Millis) -> Option<T> {
        self.last_invoke = now;
        self.last_value.take()
    }

    fn trailing_edge(&mut self, now: Millis) -> Option<T> {
        self.deadline = None;
        if self.opts.trailing && self.last_value.is_some() {
            return self.invoke(now);
        }
        self.last_value = None;
        None
    }

    /// A call at `now`; returns the value to run with right away, if any.
    pub fn call(&mut self, now: Millis, value: T) -> Option<T> {
        let invoking = self.should_invoke(now);
        self.last_value = Some(value);
        self.last_call = Some(now);
        if invoking {
            if self.deadline.is_none() {
                // Leading edge of a burst.
                self.last_invoke = now;
                self.deadline = Some(now + self.opts.wait);
                return if self.opts.leading {
                    self.invoke(now)
                } else {
                    None
                };
            }
            if self.opts.max_wait.is_some() {
                // Calls in a tight loop: `max_wait` is up.
                self.deadline = Some(now + self.opts.wait);
                return self.invoke(now);
            }
        }
        if self.deadline.is_none() {
            self.deadline = Some(now + self.opts.wait);
        }
        None
    }

    /// When the timer should next fire.
    pub fn deadline(&self) -> Option<Millis> {
        self.deadline
    }

    /// The timer fired at `now`; returns the value to run with, if the burst is over.
    pub fn expired(&mut self, now: Millis) -> Option<T> {
        if self.should_invoke(now) {
            return self.trailing_edge(now);
        }
        self.deadline = Some(now + self.remaining_wait(now));
        None
    }

    /// Drops whatever is pending.
    pub fn cancel(&mut self) {
        self.last_invoke = 0.0;
        self.last_call = None;
        self.deadline = None;
        self.last_value = None;
    }

    /// Ends the burst now: returns the pending value, if any.
    pub fn flush(&mut self, now: Millis) -> Option<T> {
        self.deadline?;
        self.trailing_edge(now)
    }

    /// Whether a call is waiting for its timer.
    pub fn pending(&self) -> bool {
        self.deadline.is_some()
    }
}

/// A debounced function; `Copy`, so event handlers can capture it freely.
pub struct Debounced<T: 'static> {
    core: CopyValue<Debouncer<T>>,
    run: Callback<T>,
    wake: CopyValue<Option<UnboundedSender<()>>>,
    scope: ScopeId,
}

impl<T> Clone for Debounced<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Debounced<T> {}

impl<T: 'static> Debounced<T> {
    /// Records a call; the function runs now or later as the options say.
    pub fn call(&self, value: T) {
        let out = self.core.write_unchecked().call(clock::now(), value);
        self.rearm();
        if let Some(v) = out {
            self.run.call(v);
        }
    }

    /// Drops the pending call.
    pub fn cancel(&self) {
        self.core.write_unchecked().cancel();
        self.rearm();
    }

    /// Runs the pending call now, if there is one.
    pub fn flush(&self) {
        let out = self.core.write_unchecked().flush(clock::now());
        self.rearm();
        if let Some(v) = out {
            self.run.call(v);
        }
    }

    /// Whether a call is waiting.
    pub fn pending(&self) -> bool {
        self.core.read_unchecked().pending()
    }

    /// Tells the timer task that the deadline may have moved, starting it on first use.
    fn rearm(&self) {
        if let Some(tx) = self.wake.read_unchecked().as_ref() {
            let _ = tx.unbounded_send(());
            return;
        }
        if self.core.read_unchecked().deadline().is_none() {
            return;
        }
        let (tx, mut rx) = unbounded::<()>();
        *self.wake.write_unchecked() = Some(tx);
        let (core, run) = (self.core, self.run);
        Runtime::current().spawn(self.scope, async move {
            loop {
                let Some(at) = core.read_unchecked().deadline() else {
                    if rx.next().await.is_none() {
                        return;
                    }
                    continue;
                };
                let timer = std::pin::pin!(clock::sleep(at - clock::now()));
                match futures_util::future::select(rx.next(), timer).await {
                    futures_util::future::Either::Left((None, _)) => return,
                    futures_util::future::Either::Left((Some(()), _)) => continue,
                    futures_util::future::Either::Right(_) => {
                        let out = core.write_unchecked().expired(clock::now());
                        if let Some(v) = out {
                            run.call(v);
                        }
                    }
                }
            }
        });
    }
}

/// Debounces `f` with `opts`. The timer lives as long as the calling component.
pub fn use_debounce<T: 'static>(opts: DebounceOptions, f: impl FnMut(T) + 'static) -> Debounced<T> {
    let run = use_callback(f);
    use_hook(|| Debounced {
        core: CopyValue::new(Debouncer::new(opts)),
        run,
        wake: CopyValue::new(None),
        scope: current_scope_id(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fires timers until `until`, like the browser would.
    fn run_timers<T>(d: &mut Debouncer<T>, until: Millis, out: &mut Vec<(Millis, T)>) {
        while let Some(at) = d.deadline() {
            if at > until {
                break;
            }
            if let Some(v) = d.expired(at) {
                out.push((at, v));
            }
        }
    }

    #[test]
    fn trailing_runs_once_after_the_pause_with_the_last_value() {
        let mut d = Debouncer::new(DebounceOptions::trailing(100.0));
        let mut out = Vec::new();
        for (t, v) in [(0.0, 'a'), (30.0, 'b'), (90.0, 'c')] {
            assert_eq!(d.call(t, v), None);
            run_timers(&mut d, t, &mut out);
        }
        assert!(d.pending());
        run_timers(&mut d, 1_000.0, &mut out);
        assert_eq!(out, vec![(190.0, 'c')]);
        assert!(!d.pending());
    }

    #[test]
    fn leading_runs_at_once_and_trailing_only_if_called_again() {
        let opts = DebounceOptions::trailing(100.0).leading(true);
        let mut d = Debouncer::new(opts);
        let mut out = Vec::new();
        assert_eq!(d.call(0.0, 1), Some(1));
        run_timers(&mut d, 1_000.0, &mut out);
        assert!(out.is_empty(), "a single call runs once: {out:?}");

        assert_eq!(d.call(2_000.0, 2), Some(2));
        assert_eq!(d.call(2_050.0, 3), None);
        run_timers(&mut d, 5_000.0, &mut out);
        assert_eq!(out, vec![(2_150.0, 3)]);
    }

    #[test]
    fn leading_only_ignores_the_rest_of_the_burst() {
        let mut opts = DebounceOptions::trailing(100.0).leading(true);
        opts.trailing = false;
        let mut d = Debouncer::new(opts);
        let mut out = Vec::new();
        let mut leading = Vec::new();
        for t in [0.0, 10.0, 20.0, 500.0] {
            run_timers(&mut d, t, &mut out);
            leading.extend(d.call(t, t));
        }
        run_timers(&mut d, 10_000.0, &mut out);
        assert_eq!(leading, vec![0.0, 500.0]);
        assert!(out.is_empty());
    }

    #[test]
    fn max_wait_bounds_the_delay_of_a_steady_stream() {
        let opts = DebounceOptions::trailing(100.0).max_wait(250.0);
        let mut d = Debouncer::new(opts);
        let mut out = Vec::new();
        // A call every 50 ms for a second: without max_wait nothing would run until the end.
        let mut t = 0.0;
        while t <= 1_000.0 {
            run_timers(&mut d, t, &mut out);
            if let Some(v) = d.call(t, t) {
                out.push((t, v));
            }
            t += 50.0;
        }
        run_timers(&mut d, 10_000.0, &mut out);
        let times: Vec<Millis> = out.iter().map(|(at, _)| *at).collect();
        assert!(times.len() >= 4, "{times:?}");
        for pair in times.windows(2) {
            assert!(pair[1] - pair[0] <= 250.0, "{times:?}");
        }
        // The last value always arrives, once.
        assert_eq!(out.last().map(|(_, v)| *v), Some(1_000.0));
        assert_eq!(out.iter().filter(|(_, v)| *v == 1_000.0).count(), 1);
    }

    #[test]
    fn cancel_drops_and_flush_runs_now() {
        let mut d = Debouncer::new(DebounceOptions::trailing(100.0));
        let mut out = Vec::new();
        d.call(0.0, "dropped");
        d.cancel();
        assert!(!d.pending());
        run_timers(&mut d, 1_000.0, &mut out);
        assert!(out.is_empty());

        d.call(2_000.0, "kept");
        assert_eq!(d.flush(2_010.0), Some("kept"));
        assert_eq!(d.flush(2_020.0), None, "nothing left to flush");
        run_timers(&mut d, 5_000.0, &mut out);
        assert!(out.is_empty(), "flushed values do not run again: {out:?}");
    }

    #[test]
    fn a_new_burst_after_the_pause_starts_over() {
        let mut d = Debouncer::new(DebounceOptions::trailing(100.0));
        let mut out = Vec::new();
        d.call(0.0, 1);
        run_timers(&mut d, 150.0, &mut out);
        d.call(300.0, 2);
        d.call(350.0, 3);
        run_timers(&mut d, 1_000.0, &mut out);
        assert_eq!(out, vec![(100.0, 1), (450.0, 3)]);
    }
}
