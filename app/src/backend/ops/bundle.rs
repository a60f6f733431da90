//! The client bundle as served: raw and brotli bytes of the JavaScript, WebAssembly and CSS
//! in the public directory's `assets/`, measured once from the files the server sends (the
//! `.br` files are the precompressed copies it serves to browsers that accept brotli).

use std::path::Path;

use serde::Serialize;

/// Bytes per kind of file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct BundleSize {
    /// `.js` files: raw, brotli.
    pub js: (u64, u64),
    /// `.wasm` files.
    pub wasm: (u64, u64),
    /// `.css` files.
    pub css: (u64, u64),
}

impl BundleSize {
    /// Measures `public/assets` (nothing there: zeros).
    pub fn measure(public: &Path) -> Self {
        let mut size = Self::default();
        let Ok(dir) = std::fs::read_dir(public.join("assets")) else {
            return size;
        };
        for entry in dir.flatten() {
            let path = entry.path();
            let slot = match path.extension().and_then(|e| e.to_str()) {
                Some("js") => &mut size.js,
                Some("wasm") => &mut size.wasm,
                Some("css") => &mut size.css,
                _ => continue,
            };
            let len = |p: &Path| std::fs::metadata(p).map_or(0, |m| m.len());
            let mut br = path.clone().into_os_string();
            br.push(".br");
            slot.0 += len(&path);
            slot.1 += len(Path::new(&br));
        }
        size
    }

    /// Raw and brotli bytes of everything.
    pub fn total(&self) -> (u64, u64) {
        (
            self.js.0 + self.wasm.0 + self.css.0,
            self.js.1 + self.wasm.1 + self.css.1,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_code_and_its_brotli_copies_only() {
        let dir = tempfile::tempdir().expect("dir");
        let assets = dir.path().join("assets");
        std::fs::create_dir_all(&assets).expect("assets");
        for (name, bytes) in [
            ("app-1.wasm", 1000),
            ("app-1.wasm.br", 300),
            ("app-2.js", 200),
            ("app-2.js.br", 60),
            ("main.css", 50),
            ("logo.svg", 999),
        ] {
            std::fs::write(assets.join(name), vec![0u8; bytes]).expect("write");
        }
        let s = BundleSize::measure(dir.path());
        assert_eq!((s.wasm, s.js, s.css), ((1000, 300), (200, 60), (50, 0)));
        assert_eq!(s.total(), (1250, 360));
        assert_eq!(
            BundleSize::measure(&dir.path().join("none")),
            BundleSize::default()
        );
    }
}
