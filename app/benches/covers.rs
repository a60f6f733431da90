//! `cargo xtask bench-server --only covers`: what one cover costs. A 2400×1600 picture (the
//! demo art at camera size, saved as a quality-90 JPEG as a camera would) is checked like an
//! upload, then every variant is made as the `cover.variants` task makes it: bytes of each
//! format and width against the uploaded file, and the time of each variant (median of 3
//! runs) and of the whole cover, on this machine.

use std::time::Instant;

use app::{
    backend::{
        demo::art,
        media::{Upload, decode, encode},
    },
    model::{MediaFormat, variant_widths},
};

const RUNS: usize = 3;

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn main() {
    let (w, h) = (2400, 1600);
    let original = art::jpeg(7, w, h);
    let started = Instant::now();
    let upload =
        Upload::check(original.clone(), Some("image/jpeg")).expect("the art is a valid upload");
    let check_ms = started.elapsed().as_secs_f64() * 1000.0;
    let decoded = decode::decode(&original, None).expect("decodes");
    let pixels = encode::flatten(&decoded.image);
    println!(
        "### One cover: {w}×{h} JPEG upload of {} bytes (check and measure: {check_ms:.0} ms)\n",
        original.len()
    );
    println!("| format | width | bytes | % of upload | encode ms (median of {RUNS}) |");
    println!("|---|---:|---:|---:|---:|");
    let mut per_format = Vec::new();
    let mut total_ms = 0.0;
    for format in MediaFormat::ALL {
        let mut format_ms = 0.0;
        for width in variant_widths(upload.width) {
            let mut times = Vec::new();
            let mut bytes = 0;
            for _ in 0..RUNS {
                let v = encode::variant(&pixels, width, format, None).expect("encodes");
                times.push(v.encode_ms);
                bytes = v.data.len();
            }
            let ms = median(times);
            format_ms += ms;
            println!(
                "| {} | {width} | {bytes} | {:.1} % | {ms:.1} |",
                format.ext(),
                bytes as f64 * 100.0 / original.len() as f64
            );
        }
        total_ms += format_ms;
        per_format.push((format, format_ms));
    }
    println!();
    for (format, ms) in per_format {
        println!("- {} at every width: {ms:.0} ms", format.ext());
    }
    println!(
        "- the whole cover (9 variants, one core at a time as the task runs them): {total_ms:.0} ms"
    );
}
