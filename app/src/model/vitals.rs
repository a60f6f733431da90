//! Web Vitals from real browsers: the beacon a page sends to `POST /api/vitals` when it is
//! hidden, and the summary `GET /api/vitals` answers.
//!
//! The metrics and thresholds are the official ones (web.dev, "good" up to the first
//! threshold, "poor" beyond the second): LCP 2.5 / 4 s, INP 200 / 500 ms, CLS 0.1 / 0.25,
//! FCP 1.8 / 3 s, TTFB 0.8 / 1.8 s. FID is retired (INP replaced it in 2024) and refused.
//! Pages are named by route template, never by raw URL, so the set of keys is closed:
//! anything else is counted under `other`.

use serde::{Deserialize, Serialize};

use super::ApiError;

/// Route templates a beacon may name (the app's routes); anything else is `other`.
pub const VITAL_ROUTES: [&str; 9] = [
    "/",
    "/stories",
    "/stories/:id",
    "/stories/:id/nodes/:node",
    "/stories/:id/edit",
    "/tasks",
    "/performance",
    "/performance-dashboard",
    // Appended: kept rollups name pages by their index here.
    "/account",
];

/// Navigation types (the Navigation Timing ones, and `soft` for an in-app route change).
pub const NAVIGATION_TYPES: [&str; 6] = [
    "navigate",
    "reload",
    "back_forward",
    "prerender",
    "restore",
    "soft",
];

/// One page view's measurements.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct VitalsReport {
    /// The route template of the page.
    pub route: String,
    /// How the page was reached: one of [`NAVIGATION_TYPES`].
    pub nav: String,
    /// One to five metrics, each at most once.
    pub metrics: Vec<VitalSample>,
    /// The page's WASM linear memory when it was left (the memory hook's reading), at
    /// most 4 GiB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wasm_memory_bytes: Option<u64>,
}

/// The most WASM memory a beacon may report: 4 GiB, wasm32's whole address space.
pub const MAX_WASM_MEMORY: u64 = 1 << 32;

/// One metric's value: milliseconds, except CLS (a unitless score).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct VitalSample {
    /// `LCP`, `INP`, `CLS`, `FCP` or `TTFB`.
    pub name: String,
    /// The value.
    pub value: f64,
}

/// The five metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vital {
    /// Largest Contentful Paint.
    Lcp,
    /// Interaction to Next Paint.
    Inp,
    /// Cumulative Layout Shift.
    Cls,
    /// First Contentful Paint.
    Fcp,
    /// Time to First Byte.
    Ttfb,
}

impl Vital {
    /// All of them, in display order.
    pub const ALL: [Vital; 5] = [Vital::Lcp, Vital::Inp, Vital::Cls, Vital::Fcp, Vital::Ttfb];

    /// The name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Vital::Lcp => "LCP",
            Vital::Inp => "INP",
            Vital::Cls => "CLS",
            Vital::Fcp => "FCP",
            Vital::Ttfb => "TTFB",
        }
    }

    /// Position in [`Vital::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// Good up to the first, poor beyond the second.
    pub fn thresholds(self) -> (f64, f64) {
        match self {
            Vital::Lcp => (2500.0, 4000.0),
            Vital::Inp => (200.0, 500.0),
            Vital::Cls => (0.1, 0.25),
            Vital::Fcp => (1800.0, 3000.0),
            Vital::Ttfb => (800.0, 1800.0),
        }
    }

    /// The largest plausible value (10 minutes; a CLS of 100).
    fn max(self) -> f64 {
        match self {
            Vital::Cls => 100.0,
            _ => 600_000.0,
        }
    }

    /// 0 good, 1 needs improvement, 2 poor.
    pub fn rating(self, value: f64) -> usize {
        let (good, poor) = self.thresholds();
        if value <= good {
            0
        } else if value <= poor {
            1
        } else {
            2
        }
    }
}

/// A report that passed [`VitalsReport::validate`].
#[derive(Debug, Clone, PartialEq)]
pub struct ValidVitals {
    /// Index into [`VITAL_ROUTES`], or `VITAL_ROUTES.len()` for `other`.
    pub route: usize,
    /// Index into [`NAVIGATION_TYPES`].
    pub nav: usize,
    /// The metrics.
    pub metrics: Vec<(Vital, f64)>,
    /// The page's WASM memory, bytes.
    pub wasm_memory_bytes: Option<u64>,
}

impl VitalsReport {
    /// Checks every field; the error names the first bad one.
    pub fn validate(&self) -> Result<ValidVitals, ApiError> {
        if self.route.is_empty() || self.route.len() > 200 || !self.route.starts_with('/') {
            return Err(ApiError::invalid(
                "route",
                "route must be a route template starting with / (at most 200 characters)",
            ));
        }
        let route = VITAL_ROUTES
            .iter()
            .position(|r| *r == self.route)
            .unwrap_or(VITAL_ROUTES.len());
        let nav = NAVIGATION_TYPES
            .iter()
            .position(|n| *n == self.nav)
            .ok_or_else(|| {
                ApiError::invalid(
                    "nav",
                    format!("nav must be one of {}", NAVIGATION_TYPES.join(", ")),
                )
            })?;
        if self.metrics.is_empty() || self.metrics.len() > Vital::ALL.len() {
            return Err(ApiError::invalid(
                "metrics",
                "metrics must hold one to five measurements",
            ));
        }
        let mut metrics = Vec::with_capacity(self.metrics.len());
        for (i, m) in self.metrics.iter().enumerate() {
            let vital = match m.name.as_str() {
                "FID" => {
                    return Err(ApiError::invalid(
                        format!("metrics[{i}].name"),
                        "FID is retired: send INP instead",
                    ));
                }
                name => Vital::ALL
                    .into_iter()
                    .find(|v| v.as_str() == name)
                    .ok_or_else(|| {
                        ApiError::invalid(
                            format!("metrics[{i}].name"),
                            "name must be one of LCP, INP, CLS, FCP, TTFB",
                        )
                    })?,
            };
            if metrics.iter().any(|(v, _)| *v == vital) {
                return Err(ApiError::invalid(
                    format!("metrics[{i}].name"),
                    format!("{} is reported twice", vital.as_str()),
                ));
            }
            if !m.value.is_finite() || m.value < 0.0 || m.value > vital.max() {
                return Err(ApiError::invalid(
                    format!("metrics[{i}].value"),
                    format!("{} must be between 0 and {}", vital.as_str(), vital.max()),
                ));
            }
            metrics.push((vital, m.value));
        }
        if self
            .wasm_memory_bytes
            .is_some_and(|b| b == 0 || b > MAX_WASM_MEMORY)
        {
            return Err(ApiError::invalid(
                "wasm_memory_bytes",
                "wasm_memory_bytes must be between 1 and 4294967296",
            ));
        }
        Ok(ValidVitals {
            route,
            nav,
            metrics,
            wasm_memory_bytes: self.wasm_memory_bytes,
        })
    }
}

/// `GET /api/vitals`: every page with samples.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct VitalsSummary {
    /// Pages (route templates, and `other`) that have samples.
    pub pages: Vec<PageVitals>,
}

/// `[[type, count], ...]` for the API document: utoipa writes a tuple as `prefixItems`
/// (right for OpenAPI 3.1), which schemathesis 4.32 refuses; this says the same without it.
#[cfg(feature = "server")]
fn navigation_counts() -> utoipa::openapi::schema::Array {
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, OneOfBuilder, Type};
    let name_or_count = OneOfBuilder::new()
        .item(ObjectBuilder::new().schema_type(Type::String))
        .item(
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(0)),
        );
    ArrayBuilder::new()
        .items(
            ArrayBuilder::new()
                .items(name_or_count)
                .min_items(Some(2))
                .max_items(Some(2)),
        )
        .build()
}

/// One page's field data since the server started.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct PageVitals {
    /// Route template or `other`.
    pub route: String,
    /// Beacons per navigation type (only types seen).
    #[cfg_attr(feature = "server", schema(schema_with = navigation_counts))]
    pub navigations: Vec<(String, u64)>,
    /// Metrics with samples.
    pub metrics: Vec<MetricVitals>,
    /// 0-100 from the p75s, in the style of Lighthouse's performance score (see
    /// `backend::ops::vitals_score`); `None` without samples.
    pub score: Option<u8>,
}

/// One metric on one page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct MetricVitals {
    /// `LCP`, `INP`, …
    pub name: String,
    /// How many samples.
    pub samples: u64,
    /// Median.
    pub p50: f64,
    /// 75th percentile: the headline figure, as Web Vitals assesses a page.
    pub p75: f64,
    /// 95th percentile.
    pub p95: f64,
    /// Samples rated good, needs improvement, poor.
    pub good: u64,
    /// See `good`.
    pub needs_improvement: u64,
    /// See `good`.
    pub poor: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(route: &str, nav: &str, metrics: &[(&str, f64)]) -> VitalsReport {
        VitalsReport {
            route: route.into(),
            nav: nav.into(),
            metrics: metrics
                .iter()
                .map(|(n, v)| VitalSample {
                    name: (*n).into(),
                    value: *v,
                })
                .collect(),
            wasm_memory_bytes: None,
        }
    }

    #[test]
    fn good_reports_pass_and_unknown_routes_collapse() {
        let v = report(
            "/stories/:id",
            "navigate",
            &[("LCP", 1200.0), ("CLS", 0.02)],
        )
        .validate()
        .expect("valid");
        assert_eq!(v.route, 2);
        assert_eq!(v.metrics, vec![(Vital::Lcp, 1200.0), (Vital::Cls, 0.02)]);
        let other = report("/stories/0190c2a4-8f1e", "soft", &[("INP", 80.0)]).validate();
        assert_eq!(other.expect("valid").route, VITAL_ROUTES.len());
    }

    #[test]
    fn bad_reports_name_the_field() {
        let field = |r: VitalsReport| {
            r.validate()
                .expect_err("invalid")
                .field()
                .map(str::to_owned)
        };
        assert_eq!(
            field(report("/", "navigate", &[("FID", 10.0)])).as_deref(),
            Some("metrics[0].name")
        );
        assert_eq!(
            field(report("/", "navigate", &[("LCP", -1.0)])).as_deref(),
            Some("metrics[0].value")
        );
        assert_eq!(
            field(report("/", "navigate", &[("CLS", 0.1), ("CLS", 0.2)])).as_deref(),
            Some("metrics[1].name")
        );
        assert_eq!(
            field(report("/", "navigate", &[("LCP", 1e12)])).as_deref(),
            Some("metrics[0].value")
        );
        assert_eq!(
            field(report("/", "teleport", &[("LCP", 1.0)])).as_deref(),
            Some("nav")
        );
        assert_eq!(
            field(report("stories", "navigate", &[("LCP", 1.0)])).as_deref(),
            Some("route")
        );
        assert_eq!(
            field(report("/", "navigate", &[])).as_deref(),
            Some("metrics")
        );
        for bytes in [0, MAX_WASM_MEMORY + 1] {
            let mut r = report("/", "navigate", &[("LCP", 1.0)]);
            r.wasm_memory_bytes = Some(bytes);
            assert_eq!(field(r).as_deref(), Some("wasm_memory_bytes"));
        }
    }

    #[test]
    fn ratings_follow_the_official_thresholds() {
        assert_eq!(Vital::Lcp.rating(2500.0), 0);
        assert_eq!(Vital::Lcp.rating(2501.0), 1);
        assert_eq!(Vital::Inp.rating(501.0), 2);
        assert_eq!(Vital::Cls.rating(0.1), 0);
        assert_eq!(Vital::Cls.rating(0.25), 1);
        assert_eq!(Vital::Ttfb.rating(1800.1), 2);
    }
}
