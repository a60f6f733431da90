//! The alert list: every rule with its threshold and latest value, firing ones first with
//! since when. The states come from the server, which applies the hysteresis.

use dioxus::prelude::*;

use serde_json::Value;

use super::{ago, fixed, int, num, pct, text};

/// A value in the alert's unit.
fn shown(unit: &str, v: f64) -> String {
    match unit {
        "%" => pct(v),
        "" => fixed(v, 3),
        unit => format!("{} {unit}", fixed(v, 1)),
    }
}

/// `< 100.0 ms` or `> 95.0 %`.
fn threshold(a: &Value) -> String {
    let below = a.get("below").and_then(Value::as_bool).unwrap_or(true);
    let side = if below { "<" } else { ">" };
    format!("{side} {}", shown(text(a, "unit"), num(a, "threshold")))
}

/// The latest value, or why there is none.
fn value(a: &Value) -> String {
    match a.get("value").and_then(Value::as_f64) {
        Some(v) => shown(text(a, "unit"), v),
        None => "no data".to_owned(),
    }
}

/// Every alert rule (the snapshot's `alerts`); `now` is the snapshot's time.
pub fn alert_list(alerts: &Value, now: u64) -> Element {
    let order = |a: &&Value| match text(a, "state") {
        "firing" => 0,
        "pending" => 1,
        "resolved" => 2,
        _ => 3,
    };
    let mut sorted: Vec<&Value> = alerts.as_array().map_or(Vec::new(), |a| a.iter().collect());
    sorted.sort_by_key(order);
    let firing = sorted
        .iter()
        .filter(|a| text(a, "state") == "firing")
        .count();
    rsx! {
        section { class: "card", "data-testid": "alerts",
            h2 { "Alerts" }
            p { class: "metric-explain",
                if firing == 0 { "Nothing firing. " } else { "{firing} firing. " }
                "A rule goes pending on its first breach, fires after three breaching samples and resolves after three samples clear of its threshold by 5 %, so a value sitting on a threshold does not flap. Firing and resolving also reach the operators' bell. Thresholds: PUT /api/admin/alerts."
            }
            ul { class: "alert-list",
                for a in sorted {
                    li { key: "{text(a, \"name\")}", class: "alert alert-{text(a, \"state\")}",
                        "data-alert": "{text(a, \"name\")}", "data-state": "{text(a, \"state\")}",
                        span { class: "alert-state", "{text(a, \"state\")}" }
                        span { class: "alert-label", "{text(a, \"label\")}" }
                        span { class: "muted", "{value(a)} (threshold {threshold(a)})" }
                        if text(a, "state") != "normal" && int(a, "since_unix_ms") > 0 {
                            span { class: "muted", " since {ago(now, int(a, \"since_unix_ms\"))}" }
                        }
                    }
                }
            }
        }
    }
}
