//! The alert list: every rule with its threshold and latest value, firing ones first with
//! since when. The states come from the server, which applies the hysteresis.

use dioxus::prelude::*;

use crate::model::AlertView;

use super::{ago, fixed, pct};

/// A value in the alert's unit.
fn shown(unit: &str, v: f64) -> String {
    match unit {
        "%" => pct(v),
        "" => fixed(v, 3),
        unit => format!("{} {unit}", fixed(v, 1)),
    }
}

/// `< 100.0 ms` or `> 95.0 %`.
fn threshold(a: &AlertView) -> String {
    let side = if a.below { "<" } else { ">" };
    format!("{side} {}", shown(&a.unit, a.threshold))
}

/// The latest value, or why there is none.
fn value(a: &AlertView) -> String {
    match a.value {
        Some(v) => shown(&a.unit, v),
        None => "no data".to_owned(),
    }
}

/// Every alert rule (the snapshot's `alerts`); `now` is the snapshot's time.
pub fn alert_list(alerts: &[AlertView], now: u64) -> Element {
    let order = |a: &&AlertView| match a.state.as_str() {
        "firing" => 0,
        "pending" => 1,
        "resolved" => 2,
        _ => 3,
    };
    let mut sorted: Vec<&AlertView> = alerts.iter().collect();
    sorted.sort_by_key(order);
    let firing = sorted.iter().filter(|a| a.state == "firing").count();
    rsx! {
        section { class: "card", "data-testid": "alerts",
            h2 { "Alerts" }
            p { class: "metric-explain",
                if firing == 0 { "Nothing firing. " } else { "{firing} firing. " }
                "A rule goes pending on its first breach, fires after three breaching samples and resolves after three samples clear of its threshold by 5 %, so a value sitting on a threshold does not flap. Firing and resolving also reach the operators' bell. Thresholds: PUT /api/admin/alerts."
            }
            ul { class: "alert-list",
                for a in sorted {
                    li { key: "{a.name}", class: "alert alert-{a.state}",
                        "data-alert": "{a.name}", "data-state": "{a.state}",
                        span { class: "alert-state", "{a.state}" }
                        span { class: "alert-label", "{a.label}" }
                        span { class: "muted", "{value(a)} (threshold {threshold(a)})" }
                        if a.state != "normal" && a.since_unix_ms > 0 {
                            span { class: "muted", " since {ago(now, a.since_unix_ms)}" }
                        }
                    }
                }
            }
        }
    }
}
