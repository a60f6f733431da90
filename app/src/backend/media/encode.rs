//! Making a cover's variants: resized (never upscaled) and encoded as AVIF (ravif, pure
//! Rust on rav1e), lossy WebP (libwebp through the `webp` crate: the `image` crate encodes
//! WebP losslessly only, several times larger for photographs) and baseline JPEG (the
//! `image` crate). Re-encoding from pixels is also what strips the metadata: no EXIF, GPS
//! or ICC chunk of the upload reaches a variant.
//!
//! Qualities were chosen by eye and bytes on the benchmark cover (see BENCHMARKS.md,
//! "Covers"): AVIF 55 at speed 8, WebP 75, JPEG 80. A variant as wide as the original that
//! would come out larger than the uploaded file is encoded again at lower quality.

use std::time::Instant;

use image::{DynamicImage, RgbImage, imageops::FilterType};

use crate::model::{MediaFormat, scaled_height};

/// An encoded variant.
#[derive(Debug, Clone)]
pub struct Encoded {
    /// The bytes.
    pub data: Vec<u8>,
    /// Width.
    pub width: u32,
    /// Height.
    pub height: u32,
    /// Time spent resizing and encoding.
    pub encode_ms: f64,
}

/// The image flattened over white (covers are opaque) as 8-bit RGB.
pub fn flatten(image: &DynamicImage) -> RgbImage {
    if !image.color().has_alpha() {
        return image.to_rgb8();
    }
    let rgba = image.to_rgba8();
    RgbImage::from_fn(rgba.width(), rgba.height(), |x, y| {
        let [r, g, b, a] = rgba.get_pixel(x, y).0;
        let over = |c: u8| ((u16::from(c) * u16::from(a) + 255 * (255 - u16::from(a))) / 255) as u8;
        image::Rgb([over(r), over(g), over(b)])
    })
}

/// The average colour, `#rrggbb`: the placeholder painted before the image arrives.
pub fn average_color(image: &DynamicImage) -> String {
    let small = image.thumbnail(16, 16).to_rgb8();
    let n = u64::from(small.width() * small.height()).max(1);
    let mut sum = [0u64; 3];
    for p in small.pixels() {
        for (s, c) in sum.iter_mut().zip(p.0) {
            *s += u64::from(c);
        }
    }
    format!("#{:02x}{:02x}{:02x}", sum[0] / n, sum[1] / n, sum[2] / n)
}

/// `source` scaled to `width` (or as is when it is that wide already).
pub fn resized(source: &RgbImage, width: u32) -> RgbImage {
    if width >= source.width() {
        return source.clone();
    }
    let height = scaled_height(source.width(), source.height(), width);
    image::imageops::resize(source, width, height, FilterType::CatmullRom)
}

/// Default quality per format (0-100).
pub fn quality(format: MediaFormat) -> u8 {
    match format {
        MediaFormat::Avif => 55,
        MediaFormat::Webp => 75,
        MediaFormat::Jpeg => 80,
    }
}

/// Encodes `pixels` in `format` at `quality`.
/// The longest side libwebp encodes.
const WEBP_MAX_SIDE: u32 = 16_383;

/// Encodes `pixels` as `format`; an error (never a panic) for what the encoder refuses.
pub fn encode(pixels: &RgbImage, format: MediaFormat, quality: u8) -> Result<Vec<u8>, String> {
    let (w, h) = pixels.dimensions();
    match format {
        MediaFormat::Jpeg => {
            let mut out = Vec::new();
            image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality)
                .encode_image(pixels)
                .map_err(|e| e.to_string())?;
            Ok(out)
        }
        MediaFormat::Webp => {
            // libwebp refuses sides over 16,383 pixels; `encode` would panic on its error.
            if w.max(h) > WEBP_MAX_SIDE {
                return Err(format!(
                    "{w}×{h} is beyond WebP's {WEBP_MAX_SIDE} pixels a side"
                ));
            }
            let encoded = webp::Encoder::from_rgb(pixels.as_raw(), w, h)
                .encode_simple(false, f32::from(quality))
                .map_err(|e| format!("libwebp: {e:?}"))?;
            Ok(encoded.to_vec())
        }
        MediaFormat::Avif => {
            use rgb::FromSlice;
            let img = ravif::Img::new(pixels.as_raw().as_rgb(), w as usize, h as usize);
            let out = ravif::Encoder::new()
                .with_quality(f32::from(quality))
                .with_speed(8)
                .encode_rgb(img)
                .map_err(|e| e.to_string())?;
            Ok(out.avif_file)
        }
    }
}

/// One variant of `source` (already flattened) at `width` in `format`; `limit` is the
/// uploaded file's size when this variant is as wide as the original, so that it never
/// comes out larger.
pub fn variant(
    source: &RgbImage,
    width: u32,
    format: MediaFormat,
    limit: Option<usize>,
) -> Result<Encoded, String> {
    let started = Instant::now();
    let pixels = resized(source, width);
    let mut q = quality(format);
    let mut data = encode(&pixels, format, q)?;
    while let Some(limit) = limit {
        if data.len() <= limit || q <= 30 {
            break;
        }
        q -= 15;
        data = encode(&pixels, format, q)?;
    }
    Ok(Encoded {
        data,
        width: pixels.width(),
        height: pixels.height(),
        encode_ms: started.elapsed().as_secs_f64() * 1000.0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webp_beyond_its_sides_is_an_error_not_a_panic() {
        let tall = RgbImage::new(2, 16_400);
        let err = encode(&tall, MediaFormat::Webp, 80).expect_err("too tall for WebP");
        assert!(err.contains("16383"), "{err}");
        assert!(encode(&RgbImage::new(2, 16_383), MediaFormat::Webp, 80).is_ok());
    }

    #[test]
    fn variants_decode_at_their_width_without_upscaling() {
        let src = RgbImage::from_fn(400, 300, |x, y| {
            image::Rgb([(x / 2) as u8, (y / 2) as u8, 128])
        });
        for format in [MediaFormat::Jpeg, MediaFormat::Webp] {
            let v = variant(&src, 320, format, None).expect("encodes");
            let back = image::load_from_memory(&v.data).expect("decodes");
            assert_eq!((back.width(), back.height()), (320, 240), "{format:?}");
        }
        let avif = variant(&src, 320, MediaFormat::Avif, None).expect("encodes");
        assert_eq!(&avif.data[4..12], b"ftypavif");
        assert_eq!(resized(&src, 800).width(), 400);
    }

    #[test]
    fn the_average_colour_is_the_image_colour() {
        let img = DynamicImage::ImageRgb8(RgbImage::from_pixel(20, 10, image::Rgb([255, 0, 16])));
        assert_eq!(average_color(&img), "#ff0010");
    }
}
