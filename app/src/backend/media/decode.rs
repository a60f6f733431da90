//! Checking an uploaded cover before anything is stored: size, format (by its bytes, and
//! against the declared Content-Type), dimensions (refused from the header through the
//! decoder's limits, before the pixels are allocated, so a decompression bomb costs
//! nothing), a full decode (damaged and truncated files fail here), and EXIF orientation
//! applied. Every refusal names its field: `cover` for the bytes, `content-type` for the
//! header.

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageError, ImageFormat, ImageReader, Limits};

use crate::model::{ApiError, ErrorCode};

/// Largest upload: 10 MB.
pub const MAX_BYTES: usize = 10 * 1000 * 1000;
/// Most pixels: 40 megapixels.
pub const MAX_PIXELS: u64 = 40_000_000;
/// Longest side accepted by the decoder.
const MAX_SIDE: u32 = 20_000;
/// A cover's longer side is at most this many times its shorter one. A strip of 64×17,000
/// passed every other check, and its variant was taller than WebP allows (16,383 pixels):
/// the encoder gave up on every try. Within this ratio no variant (at most 1,280 wide, or the
/// image's own width below 320) is taller than 10,240 pixels.
pub const MAX_ASPECT: u64 = 8;

/// A decoded, upright upload.
pub struct Decoded {
    /// The pixels, EXIF orientation applied.
    pub image: DynamicImage,
    /// The MIME type its bytes are.
    pub content_type: &'static str,
}

/// The error for a body over [`MAX_BYTES`].
pub fn too_large(bytes: Option<usize>) -> ApiError {
    let got = bytes.map_or(String::new(), |b| format!(" (got {b} bytes)"));
    let mut e = ApiError::new(
        ErrorCode::PayloadTooLarge,
        format!("a cover is at most 10 MB{got}"),
    );
    e.error.field = Some("cover".into());
    e
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::invalid("cover", message)
}

/// The MIME type of a supported format.
fn mime(format: ImageFormat) -> Option<&'static str> {
    match format {
        ImageFormat::Jpeg => Some("image/jpeg"),
        ImageFormat::Png => Some("image/png"),
        ImageFormat::WebP => Some("image/webp"),
        _ => None,
    }
}

/// The pixel size an image's header claims, within the decoder's limits (no pixels are
/// decoded); `None` when the header cannot be read or claims more than a cover may have
/// (the full check then refuses it before allocating anything).
pub fn dimensions(bytes: &[u8]) -> Option<(u32, u32)> {
    let (w, h) = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .ok()?
        .into_dimensions()
        .ok()?;
    (w <= MAX_SIDE && h <= MAX_SIDE && u64::from(w) * u64::from(h) <= MAX_PIXELS).then_some((w, h))
}

/// Checks and decodes an upload whose request said `declared` as its Content-Type.
pub fn decode(bytes: &[u8], declared: Option<&str>) -> Result<Decoded, ApiError> {
    if bytes.is_empty() {
        return Err(invalid("the body is empty: send the image file's bytes"));
    }
    if bytes.len() > MAX_BYTES {
        return Err(too_large(Some(bytes.len())));
    }
    let format = image::guess_format(bytes)
        .map_err(|_| invalid("the body is not an image: send a JPEG, PNG or WebP file"))?;
    let content_type = mime(format).ok_or_else(|| {
        invalid(format!(
            "{} images are not supported: send a JPEG, PNG or WebP file",
            format!("{format:?}").to_uppercase()
        ))
    })?;
    if let Some(declared) = declared {
        let declared = declared
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        let same =
            declared == content_type || (declared == "image/jpg" && content_type == "image/jpeg");
        if !same && declared != "application/octet-stream" && !declared.is_empty() {
            return Err(ApiError::invalid(
                "content-type",
                format!("the Content-Type says {declared}, but the bytes are {content_type}"),
            ));
        }
    }
    if format == ImageFormat::Jpeg && !jpeg_has_end(bytes) {
        return Err(invalid(
            "the JPEG file is truncated: its image data ends before the end-of-image marker",
        ));
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    // The pixels (RGBA, 8 bits) plus the decoders' own buffers.
    limits.max_alloc = Some(MAX_PIXELS * 4 + (64 << 20));
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(refused)?;
    let (w, h) = decoder.dimensions();
    if u64::from(w) * u64::from(h) > MAX_PIXELS {
        return Err(invalid(format!(
            "the image is {w}×{h} pixels ({:.1} megapixels); at most 40 megapixels",
            (u64::from(w) * u64::from(h)) as f64 / 1e6
        )));
    }
    if u64::from(w.max(h)) > u64::from(w.min(h)) * MAX_ASPECT {
        return Err(invalid(format!(
            "the image is {w}×{h} pixels; a cover's longer side is at most {MAX_ASPECT} times its shorter one"
        )));
    }
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut image = DynamicImage::from_decoder(decoder).map_err(refused)?;
    image.apply_orientation(orientation);
    Ok(Decoded {
        image,
        content_type,
    })
}

fn refused(e: ImageError) -> ApiError {
    match e {
        ImageError::Limits(_) => invalid(format!(
            "the image is too large to decode: at most {MAX_SIDE} pixels a side and 40 megapixels"
        )),
        ImageError::Unsupported(e) => invalid(format!("this image cannot be read: {e}")),
        e => invalid(format!("the image is damaged or truncated: {e}")),
    }
}

/// Whether a JPEG's end-of-image marker follows its first scan. Decoders fill a cut-off
/// scan with grey instead of failing, so truncation is checked on the bytes: markers are
/// walked to the first start-of-scan (skipping an embedded EXIF thumbnail, which has an end
/// marker of its own), and an end marker must come after it (entropy-coded data never
/// holds one; bytes appended after the end, as some cameras do, are allowed).
fn jpeg_has_end(bytes: &[u8]) -> bool {
    let mut i = 2;
    let sos = loop {
        // Fill bytes before a marker.
        while bytes.get(i) == Some(&0xFF) && bytes.get(i + 1) == Some(&0xFF) {
            i += 1;
        }
        match (bytes.get(i), bytes.get(i + 1)) {
            (Some(0xFF), Some(0xDA)) => break i,
            (Some(0xFF), Some(_)) => {
                let (Some(&hi), Some(&lo)) = (bytes.get(i + 2), bytes.get(i + 3)) else {
                    return false;
                };
                i += 2 + usize::from(u16::from_be_bytes([hi, lo]));
            }
            _ => return false,
        }
    };
    bytes[sos..].windows(2).any(|w| w == [0xFF, 0xD9])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jpeg(w: u32, h: u32) -> Vec<u8> {
        let img = image::RgbImage::from_fn(w, h, |x, y| image::Rgb([x as u8, y as u8, 90]));
        let mut out = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85)
            .encode_image(&img)
            .expect("encodes");
        out
    }

    #[test]
    fn a_whole_jpeg_passes_and_a_cut_one_does_not() {
        let full = jpeg(64, 48);
        let d = decode(&full, Some("image/jpeg")).expect("decodes");
        assert_eq!((d.image.width(), d.image.height()), (64, 48));
        let cut = &full[..full.len() * 2 / 3];
        assert_eq!(
            decode(cut, None)
                .err()
                .and_then(|e| e.field().map(str::to_owned))
                .as_deref(),
            Some("cover")
        );
    }

    #[test]
    fn a_content_type_that_disagrees_is_named() {
        let Err(e) = decode(&jpeg(8, 8), Some("image/png")) else {
            panic!("a PNG type for JPEG bytes was accepted");
        };
        assert_eq!(e.field(), Some("content-type"));
        assert!(decode(&jpeg(8, 8), Some("application/octet-stream")).is_ok());
        assert!(decode(&jpeg(8, 8), Some("image/jpg; charset=binary")).is_ok());
    }
}
