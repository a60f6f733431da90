//! `cargo xtask bundle-size`: what a browser downloads on first load, raw and brotli.
//!
//! Sizes are computed here (brotli quality 11, as served from the precompressed `.br` files)
//! rather than typed into BENCHMARKS.md by hand.

use std::{io::Write, path::Path};

use crate::{build, results::out};

/// Prints a table of the release bundle's wasm, JS and CSS files with totals.
pub fn report() -> Result<(), String> {
    let public = build::bundle().public();
    if !public.is_dir() {
        return Err(format!(
            "{} does not exist: run `cargo xtask build` first",
            public.display()
        ));
    }
    let mut files = Vec::new();
    collect(&public, &mut files)?;
    files.sort();
    out!("| file | kind | raw bytes | brotli bytes |");
    out!("|---|---|---:|---:|");
    let (mut raw_total, mut br_total) = (0usize, 0usize);
    for path in &files {
        let kind = match path.extension().and_then(|e| e.to_str()) {
            Some("wasm") => "wasm",
            Some("js") => "js",
            Some("css") => "css",
            _ => continue,
        };
        let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let br = brotli_len(&bytes)?;
        raw_total += bytes.len();
        br_total += br;
        let name = path.strip_prefix(&public).unwrap_or(path).display();
        out!("| {name} | {kind} | {} | {br} |", bytes.len());
    }
    out!("| **total** | | **{raw_total}** | **{br_total}** |");
    out!(
        "\ninitial JS+WASM+CSS: {:.1} KB raw, {:.1} KB brotli",
        raw_total as f64 / 1024.0,
        br_total as f64 / 1024.0
    );
    Ok(())
}

fn collect(dir: &Path, out: &mut Vec<std::path::PathBuf>) -> Result<(), String> {
    for entry in std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))? {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.is_dir() {
            collect(&path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

fn brotli_len(bytes: &[u8]) -> Result<usize, String> {
    let mut out = Vec::new();
    {
        let mut writer = brotli::CompressorWriter::new(&mut out, 64 * 1024, 11, 22);
        writer.write_all(bytes).map_err(|e| e.to_string())?;
    }
    Ok(out.len())
}
