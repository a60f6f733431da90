//! Field data from real browsers (`POST /api/vitals`), aggregated in memory per page and
//! metric: a DDSketch (1 % relative error) for the percentiles and counts per rating.
//!
//! Memory is bounded by construction: pages are the app's route templates plus `other`,
//! metrics are five, navigation types six; a sketch holds at most 1,024 bins whatever
//! arrives. Since server start; persisted minute rollups come with the dashboard's history.

use std::sync::Mutex;

use sketches_ddsketch::{Config, DDSketch};

use crate::model::{
    MetricVitals, NAVIGATION_TYPES, PageVitals, VITAL_ROUTES, ValidVitals, Vital, VitalsSummary,
};

const PAGES: usize = VITAL_ROUTES.len() + 1;

struct Metric {
    sketch: DDSketch,
    ratings: [u64; 3],
}

#[derive(Default)]
struct Page {
    navigations: [u64; NAVIGATION_TYPES.len()],
    metrics: [Option<Box<Metric>>; Vital::ALL.len()],
}

/// Every page's vitals.
pub struct Vitals {
    pages: Mutex<Vec<Page>>,
}

impl Default for Vitals {
    fn default() -> Self {
        Self {
            pages: Mutex::new((0..PAGES).map(|_| Page::default()).collect()),
        }
    }
}

impl Vitals {
    /// Adds one validated beacon.
    pub fn record(&self, report: &ValidVitals) {
        let mut pages = self.pages.lock().unwrap_or_else(|p| p.into_inner());
        let Some(page) = pages.get_mut(report.route) else {
            return;
        };
        page.navigations[report.nav] += 1;
        for &(vital, value) in &report.metrics {
            let m = page.metrics[vital.index()].get_or_insert_with(|| {
                Box::new(Metric {
                    sketch: DDSketch::new(Config::new(0.01, 1024, 1e-3)),
                    ratings: [0; 3],
                })
            });
            m.sketch.add(value);
            m.ratings[vital.rating(value)] += 1;
        }
    }

    /// Pages with samples, in route order, `other` last.
    pub fn summary(&self) -> VitalsSummary {
        let pages = self.pages.lock().unwrap_or_else(|p| p.into_inner());
        let pages = pages
            .iter()
            .enumerate()
            .filter(|(_, p)| p.navigations.iter().any(|n| *n > 0))
            .map(|(i, p)| PageVitals {
                route: VITAL_ROUTES.get(i).copied().unwrap_or("other").to_owned(),
                navigations: NAVIGATION_TYPES
                    .iter()
                    .zip(p.navigations)
                    .filter(|(_, n)| *n > 0)
                    .map(|(t, n)| ((*t).to_owned(), n))
                    .collect(),
                metrics: Vital::ALL
                    .iter()
                    .filter_map(|v| {
                        let m = p.metrics[v.index()].as_ref()?;
                        let q = |x: f64| m.sketch.quantile(x).ok().flatten().unwrap_or(0.0);
                        Some(MetricVitals {
                            name: v.as_str().to_owned(),
                            samples: m.sketch.count() as u64,
                            p50: q(0.5),
                            p75: q(0.75),
                            p95: q(0.95),
                            good: m.ratings[0],
                            needs_improvement: m.ratings[1],
                            poor: m.ratings[2],
                        })
                    })
                    .collect(),
            })
            .collect();
        VitalsSummary { pages }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{VitalSample, VitalsReport};

    fn beacon(route: &str, lcp: f64) -> ValidVitals {
        VitalsReport {
            route: route.into(),
            nav: "navigate".into(),
            metrics: vec![VitalSample {
                name: "LCP".into(),
                value: lcp,
            }],
        }
        .validate()
        .expect("valid")
    }

    #[test]
    fn percentiles_and_ratings_per_page() {
        let v = Vitals::default();
        for i in 1..=100 {
            v.record(&beacon("/stories", f64::from(i) * 50.0)); // 50 ms .. 5 s
        }
        let s = v.summary();
        assert_eq!(s.pages.len(), 1);
        let lcp = &s.pages[0].metrics[0];
        assert_eq!((lcp.name.as_str(), lcp.samples), ("LCP", 100));
        assert!((lcp.p75 - 3750.0).abs() / 3750.0 < 0.03, "p75 {}", lcp.p75);
        assert_eq!((lcp.good, lcp.needs_improvement, lcp.poor), (50, 30, 20));
        assert_eq!(s.pages[0].navigations, vec![("navigate".to_owned(), 100)]);
    }

    #[test]
    fn any_number_of_unknown_routes_is_one_page() {
        let v = Vitals::default();
        for i in 0..1000 {
            v.record(&beacon(&format!("/made-up/{i}"), 100.0));
        }
        let s = v.summary();
        assert_eq!(s.pages.len(), 1);
        assert_eq!(s.pages[0].route, "other");
        assert_eq!(s.pages[0].metrics[0].samples, 1000);
    }
}
