//! A trend chart in SVG, drawn here: a line over the series' points scaled into a fixed
//! box, with the latest value's position marked. At most [`MAX_POINTS`] are drawn (each the
//! maximum of its bucket, so a spike is never averaged away); coordinates are integers, so
//! the path is short and no float is ever formatted (float printing would cost the WASM
//! bundle ~10 KB). No chart crate: the dashboard needs a line and a box, which is this.

use dioxus::prelude::*;

/// Points drawn at most.
pub const MAX_POINTS: usize = 120;
/// The drawing's size in SVG units (the element stretches to its box).
pub const WIDTH: u32 = 240;
/// The drawing's height.
pub const HEIGHT: u32 = 48;

/// `values` reduced to at most `max` points, each the maximum of its bucket (in order).
pub fn downsample(values: &[f64], max: usize) -> Vec<f64> {
    if values.len() <= max || max == 0 {
        return values.to_vec();
    }
    let per = values.len().div_ceil(max);
    values
        .chunks(per)
        .map(|c| c.iter().copied().fold(f64::MIN, f64::max))
        .collect()
}

/// The `points` attribute of a polyline drawing `values` in a `width` × `height` box, from
/// 0 (bottom) to the series' maximum (top); a flat or empty series lies on the bottom.
pub fn polyline(values: &[f64], width: u32, height: u32) -> String {
    let values = downsample(values, MAX_POINTS);
    let top = values.iter().copied().fold(0.0, f64::max);
    let n = values.len();
    let mut out = String::with_capacity(n * 8);
    for (i, v) in values.iter().enumerate() {
        let x = if n <= 1 {
            width
        } else {
            (i as u64 * u64::from(width) / (n as u64 - 1)) as u32
        };
        let y = if top > 0.0 && v.is_finite() {
            height - ((v.max(0.0) / top) * f64::from(height)).round() as u32
        } else {
            height
        };
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&format!("{x},{y}"));
    }
    out
}

/// A trend of `values` (oldest first); `label` names it for screen readers.
pub fn trend_chart(values: &[f64], label: &str) -> Element {
    let points = polyline(values, WIDTH, HEIGHT);
    rsx! {
        svg {
            class: "trend",
            view_box: "0 0 {WIDTH} {HEIGHT}",
            preserve_aspect_ratio: "none",
            role: "img",
            "aria-label": "{label}, last hour",
            "data-points": "{values.len()}",
            line { x1: "0", y1: "{HEIGHT}", x2: "{WIDTH}", y2: "{HEIGHT}", class: "trend-axis" }
            if !values.is_empty() {
                polyline { points: "{points}", class: "trend-line" }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_series_is_scaled_into_the_box_with_its_maximum_on_top() {
        assert_eq!(polyline(&[0.0, 5.0, 10.0], 100, 40), "0,40 50,20 100,0");
    }

    #[test]
    fn flat_empty_and_single_series_lie_on_the_bottom() {
        assert_eq!(polyline(&[0.0, 0.0], 100, 40), "0,40 100,40");
        assert_eq!(polyline(&[], 100, 40), "");
        assert_eq!(polyline(&[3.0], 100, 40), "100,0");
        assert_eq!(polyline(&[f64::NAN, 2.0], 100, 40), "0,40 100,0");
    }

    #[test]
    fn long_series_keep_their_spikes_when_reduced() {
        let mut values = vec![1.0; 720];
        values[357] = 50.0;
        let reduced = downsample(&values, MAX_POINTS);
        assert_eq!(reduced.len(), MAX_POINTS);
        assert_eq!(reduced.iter().copied().fold(0.0, f64::max), 50.0);
        assert_eq!(
            polyline(&values, WIDTH, HEIGHT).split(' ').count(),
            MAX_POINTS
        );
    }
}
