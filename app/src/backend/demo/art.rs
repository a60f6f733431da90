//! Procedural cover art for the demo library: a landscape (a sky gradient, a sun or moon,
//! three ridges of hills) whose colours and shapes come from a seed, so the same demo story
//! always gets the same picture and a fresh install shows a library with real images made
//! here, not files copied from elsewhere. Encoded as a JPEG, it goes through the same path
//! as an upload.

use image::{Rgb, RgbImage};

use super::rng::Rng;

/// Width of a demo cover.
pub const WIDTH: u32 = 960;
/// Height of a demo cover (16:9).
pub const HEIGHT: u32 = 540;

/// HSL (hue in turns) to RGB.
fn hsl(h: f32, s: f32, l: f32) -> [f32; 3] {
    let c = (1.0 - (2.0 * l - 1.0).abs()) * s;
    let h6 = h.rem_euclid(1.0) * 6.0;
    let x = c * (1.0 - (h6 % 2.0 - 1.0).abs());
    let (r, g, b) = match h6 as u32 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    let m = l - c / 2.0;
    [r + m, g + m, b + m]
}

fn mix(a: [f32; 3], b: [f32; 3], t: f32) -> [f32; 3] {
    [0, 1, 2].map(|i| a[i] + (b[i] - a[i]) * t)
}

/// The picture for `seed`, `width`×`height` pixels.
pub fn render(seed: u64, width: u32, height: u32) -> RgbImage {
    let mut rng = Rng(seed ^ 0xA10E_C0DE);
    let hue = rng.unit();
    let night = rng.unit() < 0.3;
    let (top, horizon) = if night {
        (hsl(hue + 0.6, 0.5, 0.08), hsl(hue + 0.7, 0.45, 0.3))
    } else {
        (hsl(hue, 0.55, 0.35), hsl(hue + 0.12, 0.75, 0.72))
    };
    let sun = (
        rng.unit() * width as f32,
        (0.15 + rng.unit() * 0.3) * height as f32,
        (0.05 + rng.unit() * 0.06) * width as f32,
    );
    let sun_colour = if night {
        [0.92, 0.92, 0.85]
    } else {
        hsl(hue + 0.1, 0.9, 0.88)
    };
    // Three ridges, far to near: each a sum of sines with its own phases, darker and lower.
    let ridges: Vec<([f32; 6], f32, [f32; 3])> = (0..3)
        .map(|i| {
            let phases = [0; 6].map(|_| rng.unit() * std::f32::consts::TAU);
            let base = 0.5 + 0.13 * i as f32;
            let shade = mix(
                horizon,
                hsl(hue + 0.5 + 0.05 * i as f32, 0.35, 0.1),
                0.45 + 0.25 * i as f32,
            );
            (phases, base, shade)
        })
        .collect();
    let (w, h) = (width as f32, height as f32);
    RgbImage::from_fn(width, height, |x, y| {
        let (fx, fy) = (x as f32 / w, y as f32 / h);
        let mut c = mix(top, horizon, fy.powf(0.8));
        let (dx, dy) = (x as f32 - sun.0, y as f32 - sun.1);
        let d = (dx * dx + dy * dy).sqrt();
        if d < sun.2 {
            c = sun_colour;
        } else {
            let glow = (1.0 - (d - sun.2) / (sun.2 * 4.0)).max(0.0);
            c = mix(c, sun_colour, glow * glow * 0.5);
        }
        for (phases, base, shade) in &ridges {
            let ridge = base
                + 0.06 * (fx * 3.0 + phases[0]).sin()
                + 0.03 * (fx * 7.0 + phases[1]).sin()
                + 0.015 * (fx * 17.0 + phases[2]).sin()
                + 0.006 * (fx * 41.0 + phases[3]).sin();
            if fy > ridge {
                // Haze: lighter at the top of each ridge.
                let depth = ((fy - ridge) * 6.0).min(1.0);
                c = mix(mix(*shade, horizon, 0.25), *shade, depth);
            }
        }
        // A little grain, as in a photograph (and so encoders have real work).
        let grain = ((x.wrapping_mul(7919) ^ y.wrapping_mul(104_729)) % 17) as f32 / 17.0 - 0.5;
        Rgb(c.map(|v| ((v + grain * 0.02).clamp(0.0, 1.0) * 255.0) as u8))
    })
}

/// The picture for `seed` as a JPEG file (quality 90), as a camera or an editor would save it.
pub fn jpeg(seed: u64, width: u32, height: u32) -> Vec<u8> {
    let mut out = Vec::new();
    // Encoding pixels we just made cannot fail.
    let _ = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
        .encode_image(&render(seed, width, height));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Draws the home page's illustration (`app/assets/home.png`, which `asset!` turns into
    /// AVIF, WebP and JPEG at build time):
    /// `AION_HOME_ART=app/assets/home.png cargo test -p app --features server home_illustration -- --ignored`
    #[test]
    #[ignore = "writes a file; run by hand to redraw the illustration"]
    fn home_illustration() {
        if let Ok(path) = std::env::var("AION_HOME_ART") {
            render(2026, 1200, 400).save(path).expect("written");
        }
    }

    #[test]
    fn the_same_seed_draws_the_same_picture_and_others_differ() {
        let a = render(7, 96, 54);
        assert_eq!(a, render(7, 96, 54));
        assert_ne!(a, render(8, 96, 54));
        assert!(image::load_from_memory(&jpeg(7, 96, 54)).is_ok());
    }
}
