//! The dashboard's alerts: ten rules on what the server measures, evaluated at every
//! history sample (5 s) with the hysteresis of `server::metrics::alerts`, shown in the
//! metrics snapshot, and told to operators' notification bell when one fires or resolves.
//!
//! Thresholds start at the defaults below (the targets) and are changed with
//! `PUT /api/admin/alerts`; changes are kept in the store (`alert_thresholds`), so a restart
//! keeps them. Each instance evaluates its own figures (a cluster's instances each alert on
//! themselves).

use std::sync::Mutex;

use server::{
    metrics::alerts::{Alert, Direction, Transition},
    store::{Store, StoreError, params},
};

use crate::backend::{
    AppState,
    notifications::{self, LiveMessage, NewNotification},
};
use crate::model::{AlertView, ApiError, LiveEvent, Vital};

/// One rule.
pub struct Rule {
    /// Its key.
    pub name: &'static str,
    /// What it watches, for people.
    pub label: &'static str,
    /// Its unit after a value (`%` rules hold ratios 0-1).
    pub unit: &'static str,
    /// Which side is good.
    pub direction: Direction,
    /// The default threshold.
    pub default: f64,
}

const fn rule(
    name: &'static str,
    label: &'static str,
    unit: &'static str,
    direction: Direction,
    default: f64,
) -> Rule {
    Rule {
        name,
        label,
        unit,
        direction,
        default,
    }
}

/// Every rule, in the dashboard's order.
pub const RULES: [Rule; 10] = [
    rule(
        "api_p95_ms",
        "API p95 latency",
        "ms",
        Direction::Below,
        100.0,
    ),
    rule(
        "api_success",
        "API success rate",
        "%",
        Direction::Above,
        0.95,
    ),
    rule(
        "db_p95_ms",
        "Database query p95",
        "ms",
        Direction::Below,
        20.0,
    ),
    rule(
        "cache_hit_ratio",
        "Data cache hit ratio (L1 + L2)",
        "%",
        Direction::Above,
        0.8,
    ),
    rule(
        "lcp_ms",
        "LCP (p75, worst page)",
        "ms",
        Direction::Below,
        2500.0,
    ),
    rule(
        "inp_ms",
        "INP (p75, worst page)",
        "ms",
        Direction::Below,
        200.0,
    ),
    rule("cls", "CLS (p75, worst page)", "", Direction::Below, 0.1),
    rule(
        "fcp_ms",
        "FCP (p75, worst page)",
        "ms",
        Direction::Below,
        1800.0,
    ),
    rule(
        "memory_mb",
        "Server memory (RSS)",
        "MB",
        Direction::Below,
        200.0,
    ),
    rule(
        "bundle_kb",
        "Client bundle (brotli)",
        "KB",
        Direction::Below,
        1024.0,
    ),
];

/// Fewest data-cache lookups a hit-ratio reading is judged on. A handful of lookups says
/// nothing, and a cold start's first lookups are all misses (a fresh server once fired on
/// the 2 % of its first 75 lookups, then showed "100 %" while firing, since no more
/// lookups came to clear it).
pub const MIN_RATIO_LOOKUPS: u64 = 200;

/// The data cache's hits and lookups since the last judged hit ratio: intervals are added
/// up until they hold [`MIN_RATIO_LOOKUPS`], then judged as one reading.
#[derive(Debug, Default)]
pub(crate) struct RatioWindow {
    hits: u64,
    lookups: u64,
}

impl RatioWindow {
    /// Adds one interval; the window's hit ratio once it holds enough lookups (and a new
    /// window starts), `None` until then.
    pub(crate) fn add(&mut self, hits: u64, lookups: u64) -> Option<f64> {
        self.hits += hits.min(lookups);
        self.lookups += lookups;
        if self.lookups < MIN_RATIO_LOOKUPS {
            return None;
        }
        let ratio = self.hits as f64 / self.lookups as f64;
        *self = Self::default();
        Some(ratio)
    }
}

/// One value per rule (in [`RULES`] order); `None` where there is nothing to measure.
pub type Readings = [Option<f64>; RULES.len()];

/// The rules' alert states.
pub struct Alerts {
    alerts: Mutex<Vec<Alert>>,
}

impl Alerts {
    /// Every rule at its default threshold, or the stored one.
    pub async fn load(store: &Store) -> Result<Self, StoreError> {
        let stored = store
            .read()
            .await?
            .query(
                "alert.thresholds",
                "SELECT name, threshold FROM alert_thresholds",
                (),
                |r| Ok((r.get::<String>(0)?, r.get::<f64>(1)?)),
            )
            .await?;
        let alerts = RULES
            .iter()
            .map(|r| {
                let threshold = stored
                    .iter()
                    .find(|(n, _)| n == r.name)
                    .map_or(r.default, |(_, t)| *t);
                Alert::new(threshold, r.direction)
            })
            .collect();
        Ok(Self {
            alerts: Mutex::new(alerts),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Alert>> {
        self.alerts.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Every rule as the dashboard shows it.
    pub fn views(&self) -> Vec<AlertView> {
        self.lock()
            .iter()
            .zip(&RULES)
            .map(|(a, r)| AlertView {
                name: r.name.to_owned(),
                label: r.label.to_owned(),
                unit: r.unit.to_owned(),
                state: a.state().as_str().to_owned(),
                below: r.direction == Direction::Below,
                threshold: a.threshold,
                value: a.last(),
                since_unix_ms: a.since_ms(),
            })
            .collect()
    }

    /// Takes one reading per rule; the rules that fired or resolved.
    fn observe(&self, readings: &Readings, now_ms: u64) -> Vec<(usize, Transition, f64, f64)> {
        let mut alerts = self.lock();
        let mut out = Vec::new();
        for (i, (alert, value)) in alerts.iter_mut().zip(readings).enumerate() {
            if let Some(t) = alert.observe(*value, now_ms) {
                out.push((i, t, value.unwrap_or_default(), alert.threshold));
            }
        }
        out
    }
}

/// `value` in the rule's unit, for a notification.
fn shown(rule: &Rule, value: f64) -> String {
    match rule.unit {
        "%" => format!("{:.1} %", value * 100.0),
        "" => format!("{value:.3}"),
        unit => format!("{value:.1} {unit}"),
    }
}

/// Checks a `PUT /api/admin/alerts` body: known rules, finite thresholds in range.
pub fn parse_thresholds(
    body: &serde_json::Map<String, serde_json::Value>,
) -> Result<Vec<(usize, f64)>, ApiError> {
    if body.is_empty() {
        return Err(ApiError::invalid(
            "body",
            "name at least one rule and its threshold, e.g. {\"api_p95_ms\": 100}",
        ));
    }
    body.iter()
        .map(|(name, v)| {
            let i = RULES.iter().position(|r| r.name == name).ok_or_else(|| {
                let known: Vec<&str> = RULES.iter().map(|r| r.name).collect();
                ApiError::invalid(name, format!("unknown rule; rules: {}", known.join(", ")))
            })?;
            let t = v
                .as_f64()
                .filter(|t| t.is_finite() && *t >= 0.0 && *t <= 1e9)
                .ok_or_else(|| ApiError::invalid(name, "a threshold is a number from 0 to 1e9"))?;
            if RULES[i].unit == "%" && t > 1.0 {
                return Err(ApiError::invalid(name, "a ratio threshold is from 0 to 1"));
            }
            Ok((i, t))
        })
        .collect()
}

impl AppState {
    /// Sets thresholds (checked by [`parse_thresholds`]), stores them, and answers every
    /// rule as it stands.
    pub async fn set_alert_thresholds(
        &self,
        changes: &[(usize, f64)],
    ) -> Result<Vec<AlertView>, ApiError> {
        let writer = self.store().write().await?;
        for (i, t) in changes {
            writer
                .execute(
                    "alert.set_threshold",
                    "INSERT INTO alert_thresholds (name, threshold) VALUES (?1, ?2)
                     ON CONFLICT (name) DO UPDATE SET threshold = excluded.threshold",
                    params![RULES[*i].name, *t],
                )
                .await?;
        }
        drop(writer);
        {
            let mut alerts = self.alerts().lock();
            for (i, t) in changes {
                alerts[*i].set_threshold(*t);
            }
        }
        Ok(self.alerts().views())
    }

    /// The worst page's p75 of each Web Vital the rules watch (LCP, INP, CLS, FCP).
    pub(crate) fn worst_vitals(&self) -> [Option<f64>; 4] {
        let summary = self.vitals().summary();
        let worst = |v: Vital| {
            summary
                .pages
                .iter()
                .flat_map(|p| &p.metrics)
                .filter(|m| m.name == v.as_str() && m.samples > 0)
                .map(|m| m.p75)
                .reduce(f64::max)
        };
        [
            worst(Vital::Lcp),
            worst(Vital::Inp),
            worst(Vital::Cls),
            worst(Vital::Fcp),
        ]
    }

    /// Feeds one reading per rule to the alerts and tells operators what fired or resolved.
    pub(crate) async fn evaluate_alerts(&self, readings: &Readings, now_ms: u64) {
        for (i, transition, value, threshold) in self.alerts().observe(readings, now_ms) {
            let rule = &RULES[i];
            let side = if rule.direction == Direction::Below {
                "<"
            } else {
                ">"
            };
            let (level, title) = match transition {
                Transition::Fired => ("failure", format!("Alert: {}", rule.label)),
                Transition::Resolved => ("success", format!("Resolved: {}", rule.label)),
            };
            let body = format!(
                "{} is {} (threshold {side} {}).",
                rule.label,
                shown(rule, value),
                shown(rule, threshold)
            );
            tracing::warn!(rule = rule.name, value, threshold, "{title}");
            let made = notifications::create(
                self.store(),
                NewNotification {
                    level,
                    title: &title,
                    body: &body,
                    link: Some("/performance-dashboard"),
                    task_uid: None,
                    owner: None,
                },
            )
            .await;
            match made {
                Ok(Some(notification)) => {
                    let unread = notifications::unread_count(self.store(), None)
                        .await
                        .unwrap_or(0);
                    let event = LiveEvent::Notification {
                        notification,
                        unread,
                    };
                    notifications::broadcast(self, LiveMessage { owner: None, event }).await;
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(rule = rule.name, "alert notification failed: {e:?}"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hit_ratio_is_judged_only_on_enough_lookups() {
        let mut w = RatioWindow::default();
        // A cold start: 75 lookups, all but one missed, then an idle interval.
        assert_eq!(w.add(1, 75), None, "too few lookups to judge");
        assert_eq!(w.add(0, 0), None);
        // Warm: the next 125 lookups hit; judged together with the cold ones.
        let ratio = w.add(125, 125).expect("200 lookups are judged");
        assert!((ratio - 126.0 / 200.0).abs() < 1e-9, "{ratio}");
        // A new window starts empty.
        assert_eq!(w.add(10, 10), None);
        assert_eq!(w.add(190, 190), Some(1.0));
    }
}
