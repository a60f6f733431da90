//! Web Vitals from this browser: LCP, CLS, INP, FCP and TTFB measured with
//! `PerformanceObserver` (buffered, so entries from before the client started count) and
//! sent once per page view with `navigator.sendBeacon` to `POST /api/vitals` when the page
//! is hidden or left, tagged with the route template and the navigation type. A route change
//! inside the app ends the view: its report goes out and a `soft` view of the new route
//! begins (CLS and INP only: there is no new load to time). FID is retired and not measured.
//!
//! ```ignore
//! use_vitals(route.template());   // in the layout, once
//! ```
//!
//! The definitions are web-vitals' (the Chrome team's library): CLS is the largest session
//! window of layout shifts without recent input (shifts less than 1 s apart, a window at
//! most 5 s long); INP is the 98th percentile of interaction latencies, taken as the
//! longest of the ten longest interactions skipping one per 50 interactions; LCP is the
//! last largest-contentful-paint entry; TTFB is the navigation's `responseStart`. That
//! library is JavaScript: [`PageView`] is the same arithmetic as plain data, unit-tested
//! natively, and a thin layer feeds it the browser's entries.

use app::model::{VitalSample, VitalsReport};

/// One page view's measurements so far (fed only in the browser; tested natively).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
pub struct PageView {
    route: &'static str,
    nav: String,
    lcp: Option<f64>,
    fcp: Option<f64>,
    ttfb: Option<f64>,
    observed_shifts: bool,
    session: f64,
    session_first: f64,
    session_last: f64,
    cls: f64,
    /// The longest interactions, by id, longest first (at most 10).
    longest: Vec<(u64, f64)>,
    interactions: u64,
    last_interaction: u64,
}

#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
impl PageView {
    /// A view of `route` (a template) reached by `nav` (a Navigation Timing type or `soft`).
    pub fn new(route: &'static str, nav: &str) -> Self {
        Self {
            route,
            nav: nav.to_owned(),
            lcp: None,
            fcp: None,
            ttfb: None,
            observed_shifts: false,
            session: 0.0,
            session_first: 0.0,
            session_last: 0.0,
            cls: 0.0,
            longest: Vec::new(),
            interactions: 0,
            last_interaction: 0,
        }
    }

    /// The route template of this view.
    pub fn route(&self) -> &'static str {
        self.route
    }

    fn hard(&self) -> bool {
        self.nav != "soft"
    }

    /// A largest-contentful-paint entry at `start` ms (the latest one wins).
    pub fn lcp(&mut self, start: f64) {
        if self.hard() {
            self.lcp = Some(start);
        }
    }

    /// The first-contentful-paint entry at `start` ms.
    pub fn fcp(&mut self, start: f64) {
        if self.hard() && self.fcp.is_none() {
            self.fcp = Some(start);
        }
    }

    /// The navigation's `responseStart`.
    pub fn ttfb(&mut self, response_start: f64) {
        if self.hard() && response_start > 0.0 {
            self.ttfb = Some(response_start);
        }
    }

    /// The layout-shift observer is running (so a CLS of 0 is a measurement).
    pub fn shifts_observed(&mut self) {
        self.observed_shifts = true;
    }

    /// A layout shift of `value` at `at` ms; shifts right after input do not count.
    pub fn layout_shift(&mut self, value: f64, at: f64, recent_input: bool) {
        self.observed_shifts = true;
        if recent_input {
            return;
        }
        if self.session > 0.0 && at - self.session_last < 1000.0 && at - self.session_first < 5000.0
        {
            self.session += value;
        } else {
            self.session = value;
            self.session_first = at;
        }
        self.session_last = at;
        self.cls = self.cls.max(self.session);
    }

    /// An event-timing entry of interaction `id` (0: not an interaction) lasting `duration`.
    pub fn interaction(&mut self, id: u64, duration: f64) {
        if id == 0 {
            return;
        }
        // Interaction ids grow: a larger one is a new interaction.
        if id > self.last_interaction {
            self.interactions += 1;
            self.last_interaction = id;
        }
        match self.longest.iter_mut().find(|(i, _)| *i == id) {
            Some(entry) => entry.1 = entry.1.max(duration),
            None => self.longest.push((id, duration)),
        }
        self.longest.sort_by(|a, b| b.1.total_cmp(&a.1));
        self.longest.truncate(10);
    }

    /// CLS so far (None before the observer ran).
    pub fn cls(&self) -> Option<f64> {
        self.observed_shifts.then_some(self.cls)
    }

    /// INP so far: the longest interaction, skipping one per 50 (None without any).
    pub fn inp(&self) -> Option<f64> {
        let skip = (self.interactions / 50) as usize;
        self.longest
            .get(skip.min(self.longest.len().saturating_sub(1)))
            .map(|(_, d)| *d)
    }

    /// The beacon for this view, if anything was measured, with the page's WASM memory
    /// now (`wasm_memory_bytes`, from the memory hook).
    pub fn report(&self, wasm_memory_bytes: Option<u64>) -> Option<VitalsReport> {
        let metrics: Vec<VitalSample> = [
            ("LCP", self.lcp),
            ("INP", self.inp()),
            ("CLS", self.cls()),
            ("FCP", self.fcp),
            ("TTFB", self.ttfb),
        ]
        .into_iter()
        .filter_map(|(name, v)| {
            Some(VitalSample {
                name: name.to_owned(),
                value: v?,
            })
        })
        .collect();
        (!metrics.is_empty()).then(|| VitalsReport {
            route: self.route.to_owned(),
            nav: self.nav.clone(),
            metrics,
            wasm_memory_bytes: wasm_memory_bytes.filter(|b| *b > 0),
        })
    }
}

/// Measures this page's views and beacons them; `route` is the current route template.
pub fn use_vitals(route: &'static str) {
    #[cfg(target_arch = "wasm32")]
    browser::use_vitals(route);
    #[cfg(not(target_arch = "wasm32"))]
    let _ = route;
}

#[cfg(target_arch = "wasm32")]
mod browser {
    use std::{cell::RefCell, rc::Rc};

    use dioxus::prelude::*;
    use js_sys::Reflect;
    use wasm_bindgen::{JsCast, JsValue, closure::Closure};
    use web_sys::{PerformanceObserver, PerformanceObserverEntryList, PerformanceObserverInit};

    use super::PageView;

    /// The view being measured, and whether its beacon went out.
    struct Collector {
        view: PageView,
        sent: bool,
    }

    impl Collector {
        /// Beacons the view (once).
        fn send(&mut self) {
            if self.sent {
                return;
            }
            let memory = crate::hooks::memory::sample().map(|m| m.wasm_bytes);
            let Some(report) = self.view.report(memory) else {
                return;
            };
            let (Some(window), Some(body)) = (web_sys::window(), beacon_body(&report)) else {
                return;
            };
            self.sent = window
                .navigator()
                .send_beacon_with_opt_str("/api/vitals", Some(&body))
                .unwrap_or(false);
        }
    }

    /// The report as JSON, built by the browser's `JSON.stringify`: the client's only
    /// serialised floats, so serde's serialisers and float formatting stay out of the
    /// bundle. The shape is `VitalsReport`'s, which the server decodes.
    fn beacon_body(report: &app::model::VitalsReport) -> Option<String> {
        let set = |o: &js_sys::Object, k: &str, v: JsValue| Reflect::set(o, &k.into(), &v).ok();
        let body = js_sys::Object::new();
        set(&body, "route", report.route.as_str().into())?;
        set(&body, "nav", report.nav.as_str().into())?;
        let metrics = js_sys::Array::new();
        for m in &report.metrics {
            let metric = js_sys::Object::new();
            set(&metric, "name", m.name.as_str().into())?;
            set(&metric, "value", m.value.into())?;
            metrics.push(&metric);
        }
        set(&body, "metrics", metrics.into())?;
        if let Some(bytes) = report.wasm_memory_bytes {
            set(&body, "wasm_memory_bytes", (bytes as f64).into())?;
        }
        js_sys::JSON::stringify(&body).ok()?.as_string()
    }

    /// A running observer and its callback (dropped together).
    type Observer = (
        PerformanceObserver,
        Closure<dyn FnMut(PerformanceObserverEntryList)>,
    );

    /// Whether this browser reports entries of `kind` (`PerformanceObserver.supportedEntryTypes`).
    fn supported(kind: &str) -> bool {
        Reflect::get(&js_sys::global(), &"PerformanceObserver".into())
            .and_then(|ctor| Reflect::get(&ctor, &"supportedEntryTypes".into()))
            .ok()
            .and_then(|types| types.dyn_into::<js_sys::Array>().ok())
            .is_some_and(|types| types.includes(&kind.into(), 0))
    }

    fn number(entry: &JsValue, field: &str) -> f64 {
        Reflect::get(entry, &field.into())
            .ok()
            .and_then(|v| v.as_f64())
            .unwrap_or(0.0)
    }

    /// Observes entries of `kind` (buffered), handing each to `f`.
    fn observe(
        kind: &str,
        extra: &[(&str, JsValue)],
        collector: &Rc<RefCell<Collector>>,
        f: fn(&mut PageView, &JsValue),
    ) -> Option<Observer> {
        if !supported(kind) {
            return None;
        }
        let c = collector.clone();
        let callback = Closure::<dyn FnMut(PerformanceObserverEntryList)>::new(
            move |list: PerformanceObserverEntryList| {
                let mut c = c.borrow_mut();
                for entry in list.get_entries().iter() {
                    f(&mut c.view, &entry);
                }
            },
        );
        let observer = PerformanceObserver::new(callback.as_ref().unchecked_ref()).ok()?;
        // `type` with `buffered` (web-sys's dictionary has only the older `entryTypes`,
        // which cannot be buffered).
        let init = js_sys::Object::new();
        let _ = Reflect::set(&init, &"type".into(), &kind.into());
        let _ = Reflect::set(&init, &"buffered".into(), &JsValue::TRUE);
        for (k, v) in extra {
            let _ = Reflect::set(&init, &(*k).into(), v);
        }
        observer.observe(init.unchecked_ref::<PerformanceObserverInit>());
        Some((observer, callback))
    }

    /// How this document was reached (`navigate`, `reload`, `back_forward`, …) and its
    /// time to first byte.
    fn navigation() -> (String, f64) {
        let entry = web_sys::window()
            .and_then(|w| w.performance())
            .map(|p| p.get_entries_by_type("navigation").get(0))
            .filter(|e| !e.is_undefined());
        match entry {
            Some(e) => {
                let kind = Reflect::get(&e, &"type".into())
                    .ok()
                    .and_then(|v| v.as_string())
                    .unwrap_or_else(|| "navigate".to_owned());
                (kind.replace('-', "_"), number(&e, "responseStart"))
            }
            None => ("navigate".to_owned(), 0.0),
        }
    }

    pub(super) fn use_vitals(route: &'static str) {
        let collector = use_hook(move || {
            let (nav, ttfb) = navigation();
            let mut view = PageView::new(route, &nav);
            view.ttfb(ttfb);
            Rc::new(RefCell::new(Collector { view, sent: false }))
        });
        let c = collector.clone();
        let held = use_hook(move || {
            let observers: Vec<_> = [
                observe("largest-contentful-paint", &[], &c, |v, e| {
                    v.lcp(number(e, "startTime"))
                }),
                observe("paint", &[], &c, |v, e| {
                    if Reflect::get(e, &"name".into())
                        .ok()
                        .and_then(|n| n.as_string())
                        == Some("first-contentful-paint".to_owned())
                    {
                        v.fcp(number(e, "startTime"));
                    }
                }),
                observe("layout-shift", &[], &c, |v, e| {
                    let recent = Reflect::get(e, &"hadRecentInput".into())
                        .ok()
                        .and_then(|b| b.as_bool())
                        .unwrap_or(false);
                    v.layout_shift(number(e, "value"), number(e, "startTime"), recent)
                }),
                observe(
                    "event",
                    &[("durationThreshold", JsValue::from_f64(16.0))],
                    &c,
                    |v, e| v.interaction(number(e, "interactionId") as u64, number(e, "duration")),
                ),
                // Event entries come only past the duration threshold; the first input's
                // entry comes whatever its duration, so a page whose interactions were all
                // short still has an INP (as web-vitals measures it).
                observe("first-input", &[], &c, |v, e| {
                    v.interaction(number(e, "interactionId") as u64, number(e, "duration"))
                }),
            ]
            .into_iter()
            .flatten()
            .collect();
            if supported("layout-shift") {
                c.borrow_mut().view.shifts_observed();
            }
            let leaving = c.clone();
            let listeners =
                crate::hooks::browser::on_page_leave(move || leaving.borrow_mut().send());
            Rc::new((observers, listeners))
        });
        use_drop(move || {
            for (observer, _) in &held.0 {
                observer.disconnect();
            }
        });
        // A route change inside the app ends this view and starts a soft one.
        let mut c = collector.borrow_mut();
        if c.view.route() != route {
            c.send();
            *c = Collector {
                view: PageView::new(route, "soft"),
                sent: false,
            };
            if supported("layout-shift") {
                c.view.shifts_observed();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(r: &VitalsReport, name: &str) -> Option<f64> {
        r.metrics.iter().find(|m| m.name == name).map(|m| m.value)
    }

    #[test]
    fn cls_is_the_largest_session_window_of_shifts_without_input() {
        let mut v = PageView::new("/", "navigate");
        assert_eq!(v.cls(), None);
        v.layout_shift(0.05, 100.0, false);
        v.layout_shift(0.05, 900.0, false); // 0.8 s later: same window
        v.layout_shift(0.3, 1_000.0, true); // after input: ignored
        assert!((v.cls().unwrap() - 0.1).abs() < 1e-9);
        v.layout_shift(0.02, 2_500.0, false); // 1.6 s gap: a new window
        v.layout_shift(0.02, 3_000.0, false);
        assert!(
            (v.cls().unwrap() - 0.1).abs() < 1e-9,
            "the first window stays largest"
        );
        // A window is at most 5 s long, however close its shifts.
        let mut w = PageView::new("/", "navigate");
        for i in 0..12 {
            w.layout_shift(0.01, f64::from(i) * 900.0, false);
        }
        assert!((w.cls().unwrap() - 0.06).abs() < 1e-9, "{:?}", w.cls());
    }

    #[test]
    fn inp_is_the_longest_interaction_skipping_one_per_fifty() {
        let mut v = PageView::new("/stories", "navigate");
        assert_eq!(v.inp(), None);
        v.interaction(0, 900.0); // not an interaction (e.g. a mousemove)
        v.interaction(1, 40.0);
        v.interaction(1, 80.0); // the same interaction's longer event
        v.interaction(2, 60.0);
        assert_eq!(v.inp(), Some(80.0));
        // 120 interactions: the two longest are skipped as outliers.
        let mut w = PageView::new("/stories", "navigate");
        for id in 1..=120u64 {
            w.interaction(id, id as f64);
        }
        assert_eq!(w.inp(), Some(118.0));
    }

    #[test]
    fn a_hard_view_reports_every_metric_and_a_soft_one_only_cls_and_inp() {
        let mut v = PageView::new("/stories/:id", "navigate");
        v.ttfb(120.0);
        v.fcp(300.0);
        v.fcp(900.0); // only the first counts
        v.lcp(400.0);
        v.lcp(700.0); // the last counts
        v.shifts_observed();
        v.interaction(3, 24.0);
        let r = v.report(Some(1 << 20)).expect("report");
        assert_eq!(
            (r.route.as_str(), r.nav.as_str()),
            ("/stories/:id", "navigate")
        );
        assert_eq!(r.wasm_memory_bytes, Some(1 << 20));
        assert_eq!(value(&r, "TTFB"), Some(120.0));
        assert_eq!(value(&r, "FCP"), Some(300.0));
        assert_eq!(value(&r, "LCP"), Some(700.0));
        assert_eq!(value(&r, "CLS"), Some(0.0));
        assert_eq!(value(&r, "INP"), Some(24.0));
        assert!(r.validate().is_ok(), "the server accepts it");

        let mut soft = PageView::new("/tasks", "soft");
        soft.lcp(100.0);
        soft.fcp(100.0);
        soft.ttfb(10.0);
        assert_eq!(soft.report(None), None, "nothing a soft view measures yet");
        soft.shifts_observed();
        let r = soft.report(None).expect("report");
        assert_eq!(r.metrics.len(), 1);
        assert_eq!(value(&r, "CLS"), Some(0.0));
    }
}
