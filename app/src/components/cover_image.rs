//! A story's cover: a `<picture>` offering AVIF, then WebP, then JPEG, each as a `srcset` of
//! every width with `sizes`, so the browser fetches one file of the best format it decodes
//! at the width the layout needs.
//!
//! The box is laid out before any byte arrives: its aspect ratio (or the fixed box of a
//! card's thumbnail) comes from the story JSON, and it is painted the image's average colour,
//! so nothing moves when the image lands. Lazy covers render no `<picture>` until the box
//! comes within a screen of the viewport (`hooks::near_viewport`); nothing is requested for
//! covers the reader never scrolls to. An eager cover (the reader's, its likely LCP element)
//! is in the server's HTML with `fetchpriority="high"`.

use dioxus::prelude::*;

use app::model::{Cover, MediaFormat};

use crate::hooks::near_viewport::use_near_viewport;

/// How far outside the viewport a lazy cover starts loading.
const AHEAD: &str = "400px 0px";

/// One cover.
#[component]
pub fn CoverImage(
    cover: Cover,
    /// The `sizes` attribute: how wide the image is shown at each viewport width.
    sizes: String,
    /// Load at once with high priority (above the fold); otherwise when near the viewport.
    #[props(default)]
    eager: bool,
    /// Extra classes for the box (`cover-thumb`, `cover-hero`).
    #[props(default)]
    class: String,
    /// Text for people who cannot see the image.
    alt: String,
) -> Element {
    let (near, watch) = use_near_viewport(AHEAD);
    let show = eager || near();
    let widths = cover.widths();
    // The fallback `src` for browsers without srcset: the middle width.
    let fallback = widths.get(widths.len() / 2).copied().unwrap_or(cover.width);
    let (w, h) = (cover.width, cover.height);
    rsx! {
        div {
            class: "cover {class}",
            style: "aspect-ratio: {w} / {h}; background-color: {cover.color};",
            "data-testid": "cover",
            "data-loaded": "{show}",
            onmounted: watch,
            if show {
                picture {
                    source { r#type: "image/avif", "srcset": cover.srcset(MediaFormat::Avif), "sizes": "{sizes}" }
                    source { r#type: "image/webp", "srcset": cover.srcset(MediaFormat::Webp), "sizes": "{sizes}" }
                    img {
                        src: cover.url(fallback, MediaFormat::Jpeg),
                        srcset: cover.srcset(MediaFormat::Jpeg),
                        sizes: "{sizes}",
                        width: "{w}",
                        height: "{h}",
                        alt: "{alt}",
                        decoding: "async",
                        "fetchpriority": if eager { "high" } else { "auto" },
                    }
                }
            }
        }
    }
}
