//! A story's cover as it travels with the story: which image (a content hash), its shape and
//! a placeholder colour, and the URLs of its variants.
//!
//! Client and server derive the variant URLs from the same four fields, so the story JSON
//! stays small and a page can lay out the exact box of a cover (and paint its colour)
//! before any image byte arrives.

use serde::{Deserialize, Serialize};

/// The answer to `PUT /api/stories/{id}/cover` (202): the story as it is now (still with
/// its previous cover) and the task making the new one's variants (none when the same image
/// was uploaded before and its variants exist).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct CoverUploaded {
    /// The story.
    pub story: super::Story,
    /// The `cover.variants` task.
    pub task: Option<super::TaskView>,
}

/// The widths variants are made at; never wider than the image itself (see
/// [`Cover::widths`]).
pub const COVER_WIDTHS: [u32; 3] = [320, 640, 1280];

/// `{"hash","width","height","color"}`: the cover shown with a story.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Cover {
    /// First 16 hex digits of the SHA-256 of the uploaded file; names its variants.
    pub hash: String,
    /// Width in pixels, after EXIF orientation.
    pub width: u32,
    /// Height in pixels, after EXIF orientation.
    pub height: u32,
    /// The image's average colour, `#rrggbb`: painted where the image will be.
    pub color: String,
}

/// The formats variants are encoded in, best first (the order of `<source>` elements).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum MediaFormat {
    /// AV1 image: smallest; every current browser decodes it.
    Avif,
    /// WebP (lossy).
    Webp,
    /// Baseline JPEG: what every browser shows.
    Jpeg,
}

impl MediaFormat {
    /// Every format, best first.
    pub const ALL: [MediaFormat; 3] = [Self::Avif, Self::Webp, Self::Jpeg];

    /// The file extension in media URLs.
    pub fn ext(self) -> &'static str {
        match self {
            Self::Avif => "avif",
            Self::Webp => "webp",
            Self::Jpeg => "jpg",
        }
    }

    /// The MIME type.
    pub fn mime(self) -> &'static str {
        match self {
            Self::Avif => "image/avif",
            Self::Webp => "image/webp",
            Self::Jpeg => "image/jpeg",
        }
    }

    /// The format with extension `ext`.
    pub fn from_ext(ext: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.ext() == ext)
    }
}

/// The widths an image `width` pixels wide gets variants at: those of [`COVER_WIDTHS`]
/// narrower than it, plus its own width when that is under the widest (never upscaled).
pub fn variant_widths(width: u32) -> Vec<u32> {
    let widest = COVER_WIDTHS[COVER_WIDTHS.len() - 1];
    let mut out: Vec<u32> = COVER_WIDTHS.into_iter().filter(|&w| w < width).collect();
    if width <= widest {
        out.push(width.max(1));
    }
    out
}

impl Cover {
    /// The widths its variants exist at.
    pub fn widths(&self) -> Vec<u32> {
        variant_widths(self.width)
    }

    /// URL of one variant.
    pub fn url(&self, width: u32, format: MediaFormat) -> String {
        media_url(&self.hash, width, format)
    }

    /// A `srcset` of every width in `format`.
    pub fn srcset(&self, format: MediaFormat) -> String {
        self.widths()
            .into_iter()
            .map(|w| format!("{} {w}w", self.url(w, format)))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The height of a variant `width` pixels wide, as the encoder rounds it.
    pub fn height_at(&self, width: u32) -> u32 {
        scaled_height(self.width, self.height, width)
    }
}

/// `/media/{hash}-{width}.{ext}`.
pub fn media_url(hash: &str, width: u32, format: MediaFormat) -> String {
    format!("/media/{hash}-{width}.{}", format.ext())
}

/// The height of an image `w`×`h` scaled to `width` wide, rounded, at least 1.
pub fn scaled_height(w: u32, h: u32, width: u32) -> u32 {
    if w == 0 {
        return 1;
    }
    ((h as u64 * width as u64 + w as u64 / 2) / w as u64).max(1) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_never_upscale_and_always_include_one() {
        assert_eq!(variant_widths(4000), vec![320, 640, 1280]);
        assert_eq!(variant_widths(1280), vec![320, 640, 1280]);
        assert_eq!(variant_widths(1000), vec![320, 640, 1000]);
        assert_eq!(variant_widths(320), vec![320]);
        assert_eq!(variant_widths(200), vec![200]);
    }

    #[test]
    fn urls_and_srcsets_name_hash_width_and_format() {
        let c = Cover {
            hash: "0123456789abcdef".into(),
            width: 800,
            height: 450,
            color: "#102030".into(),
        };
        assert_eq!(
            c.srcset(MediaFormat::Webp),
            "/media/0123456789abcdef-320.webp 320w, /media/0123456789abcdef-640.webp 640w, /media/0123456789abcdef-800.webp 800w"
        );
        assert_eq!(c.height_at(320), 180);
        assert_eq!(MediaFormat::from_ext("jpg"), Some(MediaFormat::Jpeg));
        assert_eq!(MediaFormat::from_ext("png"), None);
    }
}
