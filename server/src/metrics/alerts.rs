//! Threshold alerts with hysteresis: normal → pending → firing → resolved, so a metric
//! sitting on its threshold does not flap.
//!
//! Each sample of a metric is one of three things: a **breach** (strictly on the wrong side
//! of the threshold), **clear** (on the right side by at least the margin, 5 % of the
//! threshold by default) or in the **band** between. A breach makes a normal (or resolved)
//! alert pending; `fire_after` breaching samples in a row-or-band make it fire; only
//! `clear_after` clear samples in a row resolve a firing alert, and one clear sample sends
//! a pending one back to normal. Samples in the band change nothing, which is the point:
//! noise around the threshold neither fires an alert that was never really breached nor
//! resolves one that is still near it. A missing sample (no traffic to measure) holds the
//! state. The clock is an argument, so all of it is tested without waiting.

use serde::Serialize;

/// Which side of the threshold is good.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Direction {
    /// The value must stay below the threshold (latency, memory).
    Below,
    /// The value must stay above it (success rate, hit ratio).
    Above,
}

/// Where an alert stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertState {
    /// Never breached, or back to normal from pending.
    Normal,
    /// Breached; firing if it stays so.
    Pending,
    /// Breached for long enough.
    Firing,
    /// Was firing, now clear.
    Resolved,
}

impl AlertState {
    /// Its name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertState::Normal => "normal",
            AlertState::Pending => "pending",
            AlertState::Firing => "firing",
            AlertState::Resolved => "resolved",
        }
    }
}

/// A change worth telling someone about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// It started firing.
    Fired,
    /// It stopped.
    Resolved,
}

/// One metric's alert.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    /// The threshold.
    pub threshold: f64,
    /// Which side is good.
    pub direction: Direction,
    /// Breaching samples (band samples between them allowed) before it fires.
    pub fire_after: u32,
    /// Clear samples in a row before a firing alert resolves.
    pub clear_after: u32,
    /// The band's width as a share of the threshold.
    pub margin: f64,
    state: AlertState,
    since_ms: u64,
    breaches: u32,
    clears: u32,
    last: Option<f64>,
}

impl Alert {
    /// A normal alert on `threshold`: fires after 3 breaching samples, resolves after 3
    /// clear ones, with a 5 % band.
    pub fn new(threshold: f64, direction: Direction) -> Self {
        Self {
            threshold,
            direction,
            fire_after: 3,
            clear_after: 3,
            margin: 0.05,
            state: AlertState::Normal,
            since_ms: 0,
            breaches: 0,
            clears: 0,
            last: None,
        }
    }

    /// Its state now.
    pub fn state(&self) -> AlertState {
        self.state
    }

    /// When it entered that state (Unix ms; 0 if never left normal).
    pub fn since_ms(&self) -> u64 {
        self.since_ms
    }

    /// The latest sample.
    pub fn last(&self) -> Option<f64> {
        self.last
    }

    /// A new threshold; the state is kept (the next samples decide under the new one).
    pub fn set_threshold(&mut self, threshold: f64) {
        self.threshold = threshold;
    }

    fn breached(&self, v: f64) -> bool {
        match self.direction {
            Direction::Below => v > self.threshold,
            Direction::Above => v < self.threshold,
        }
    }

    fn clear(&self, v: f64) -> bool {
        let band = self.threshold.abs() * self.margin;
        match self.direction {
            Direction::Below => v <= self.threshold - band,
            Direction::Above => v >= self.threshold + band,
        }
    }

    fn enter(&mut self, state: AlertState, now_ms: u64) {
        self.state = state;
        self.since_ms = now_ms;
    }

    /// Takes one sample (`None`: nothing to measure now, the state holds) at `now_ms`.
    pub fn observe(&mut self, value: Option<f64>, now_ms: u64) -> Option<Transition> {
        let v = value.filter(|v| v.is_finite())?;
        self.last = Some(v);
        let (breach, clear) = (self.breached(v), self.clear(v));
        match self.state {
            AlertState::Normal | AlertState::Resolved if breach => {
                self.enter(AlertState::Pending, now_ms);
                self.breaches = 1;
                if self.breaches >= self.fire_after {
                    return self.fire(now_ms);
                }
            }
            AlertState::Pending if breach => {
                self.breaches += 1;
                if self.breaches >= self.fire_after {
                    return self.fire(now_ms);
                }
            }
            AlertState::Pending if clear => self.enter(AlertState::Normal, now_ms),
            AlertState::Firing if clear => {
                self.clears += 1;
                if self.clears >= self.clear_after {
                    self.enter(AlertState::Resolved, now_ms);
                    return Some(Transition::Resolved);
                }
            }
            AlertState::Firing => self.clears = 0,
            _ => {}
        }
        None
    }

    fn fire(&mut self, now_ms: u64) -> Option<Transition> {
        self.enter(AlertState::Firing, now_ms);
        self.clears = 0;
        Some(Transition::Fired)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(alert: &mut Alert, values: &[f64]) -> Vec<(AlertState, Option<Transition>)> {
        values
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let t = alert.observe(Some(*v), i as u64 * 1000);
                (alert.state(), t)
            })
            .collect()
    }

    #[test]
    fn a_sustained_breach_goes_pending_then_fires_then_resolves_once_clear() {
        let mut a = Alert::new(100.0, Direction::Below);
        let states: Vec<_> = run(
            &mut a,
            &[50.0, 150.0, 150.0, 150.0, 150.0, 50.0, 50.0, 50.0],
        )
        .into_iter()
        .map(|(s, _)| s)
        .collect();
        use AlertState::*;
        assert_eq!(
            states,
            [
                Normal, Pending, Pending, Firing, Firing, Firing, Firing, Resolved
            ]
        );
        assert_eq!(a.since_ms(), 7000);
    }

    #[test]
    fn a_value_sitting_on_its_threshold_does_not_flap() {
        // Noise of ±2 % around the threshold: inside the 5 % band except for the breaches.
        let mut a = Alert::new(100.0, Direction::Below);
        let noisy: Vec<f64> = (0..200)
            .map(|i| if i % 2 == 0 { 101.0 } else { 98.0 })
            .collect();
        let out = run(&mut a, &noisy);
        let transitions: Vec<_> = out.iter().filter_map(|(_, t)| *t).collect();
        // It really is over the threshold half the time: it fires once and stays firing.
        assert_eq!(transitions, [Transition::Fired]);
        // And 98 is not clear enough to resolve it, however long it lasts.
        let out = run(&mut a, &[98.0; 50]);
        assert!(
            out.iter()
                .all(|(s, t)| *s == AlertState::Firing && t.is_none())
        );
    }

    #[test]
    fn one_breach_in_a_quiet_stream_never_fires() {
        let mut a = Alert::new(0.8, Direction::Above);
        let out = run(&mut a, &[0.9, 0.7, 0.9, 0.9, 0.9]);
        assert_eq!(out[1].0, AlertState::Pending);
        assert_eq!(out[2].0, AlertState::Normal);
        assert!(out.iter().all(|(_, t)| t.is_none()));
    }

    #[test]
    fn a_resolve_needs_clear_samples_in_a_row() {
        let mut a = Alert::new(100.0, Direction::Below);
        run(&mut a, &[200.0, 200.0, 200.0]);
        assert_eq!(a.state(), AlertState::Firing);
        // Clear, clear, back in the band: the count starts again.
        let out = run(&mut a, &[10.0, 10.0, 99.0, 10.0, 10.0]);
        assert!(out.iter().all(|(s, _)| *s == AlertState::Firing));
        assert_eq!(a.observe(Some(10.0), 99_000), Some(Transition::Resolved));
        // A new breach starts over from pending.
        assert_eq!(a.observe(Some(300.0), 100_000), None);
        assert_eq!(a.state(), AlertState::Pending);
    }

    #[test]
    fn no_sample_holds_the_state() {
        let mut a = Alert::new(100.0, Direction::Below);
        run(&mut a, &[200.0, 200.0]);
        for t in 0..10 {
            assert_eq!(a.observe(None, t), None);
            assert_eq!(a.observe(Some(f64::NAN), t), None);
        }
        assert_eq!(a.state(), AlertState::Pending);
        assert_eq!(a.observe(Some(200.0), 20), Some(Transition::Fired));
    }
}
