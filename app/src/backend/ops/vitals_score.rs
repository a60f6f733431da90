//! A score per page from its Web Vitals, in the style of Lighthouse's performance score:
//! each metric's p75 is scored on a log-normal curve that gives 0.9 at the metric's "good"
//! threshold and 0.5 at its "poor" one (Lighthouse places its p10 and median control points
//! the same way), and the page's score is the weighted mean of the metrics it has, 0-100.
//! Weights follow the Core Web Vitals first: LCP 30 %, INP 30 %, CLS 25 %, FCP 10 %,
//! TTFB 5 %. Computed on the server so the client bundle carries no logarithm or erf.

use crate::model::{MetricVitals, Vital};

/// How much each metric counts, in [`Vital::ALL`] order.
const WEIGHTS: [f64; 5] = [0.30, 0.30, 0.25, 0.10, 0.05];

/// `erf(x)`, Abramowitz and Stegun 7.1.26 (absolute error below 1.5e-7).
fn erf(x: f64) -> f64 {
    let sign = if x < 0.0 { -1.0 } else { 1.0 };
    let x = x.abs();
    let t = 1.0 / (1.0 + 0.327_591_1 * x);
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    sign * (1.0 - poly * (-x * x).exp())
}

/// 0-1 for `value` of `vital`: 0.9 at its good threshold, 0.5 at its poor one.
pub fn metric_score(vital: Vital, value: f64) -> f64 {
    if value <= 0.0 {
        return 1.0;
    }
    let (good, poor) = vital.thresholds();
    // Lighthouse's constant: erfc⁻¹(1/5), so that the p10 control point scores 0.9.
    const INVERSE_ERFC_ONE_FIFTH: f64 = 0.906_193_802_436_823_2;
    let x = (value / poor).ln();
    let p10 = -(good / poor).ln();
    let standardized = x * INVERSE_ERFC_ONE_FIFTH / p10;
    ((1.0 - erf(standardized)) / 2.0).clamp(0.0, 1.0)
}

/// The page's score from the p75 of each metric it has; `None` if it has none.
pub fn page_score(metrics: &[MetricVitals]) -> Option<u8> {
    let (mut sum, mut weights) = (0.0, 0.0);
    for m in metrics.iter().filter(|m| m.samples > 0) {
        let Some(v) = Vital::ALL.iter().find(|v| v.as_str() == m.name) else {
            continue;
        };
        sum += WEIGHTS[v.index()] * metric_score(*v, m.p75);
        weights += WEIGHTS[v.index()];
    }
    (weights > 0.0).then(|| (sum / weights * 100.0).round() as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(name: &str, p75: f64) -> MetricVitals {
        MetricVitals {
            name: name.to_owned(),
            samples: 10,
            p50: p75,
            p75,
            p95: p75,
            good: 10,
            needs_improvement: 0,
            poor: 0,
        }
    }

    #[test]
    fn the_control_points_score_as_lighthouse_places_them() {
        assert!((metric_score(Vital::Lcp, 2500.0) - 0.9).abs() < 1e-3);
        assert!((metric_score(Vital::Lcp, 4000.0) - 0.5).abs() < 1e-3);
        assert!((metric_score(Vital::Cls, 0.1) - 0.9).abs() < 1e-3);
        assert_eq!(metric_score(Vital::Cls, 0.0), 1.0);
        assert!(metric_score(Vital::Inp, 50.0) > 0.99);
        assert!(metric_score(Vital::Inp, 2000.0) < 0.05);
    }

    #[test]
    fn a_page_scores_the_weighted_mean_of_the_metrics_it_has() {
        assert_eq!(page_score(&[]), None);
        assert_eq!(page_score(&[m("LCP", 2500.0)]), Some(90));
        // LCP good (0.9, weight 30) and CLS at its poor threshold (0.5, weight 25).
        assert_eq!(
            page_score(&[m("LCP", 2500.0), m("CLS", 0.25)]),
            Some(((0.9 * 0.30 + 0.5 * 0.25) / 0.55 * 100.0_f64).round() as u8)
        );
        let fast = page_score(&[m("LCP", 300.0), m("FCP", 200.0), m("TTFB", 20.0)]);
        assert!(fast >= Some(99), "{fast:?}");
    }
}
