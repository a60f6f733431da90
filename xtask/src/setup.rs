//! Installs what the build and the tests need, skipping whatever is already present.
//!
//! Versions are pinned where drift breaks things: dx 0.7.10 (built offline-capable with
//! `no-downloads`), and wasm-bindgen-cli at exactly the wasm-bindgen version in Cargo.lock
//! (the two must match or the client fails at load). Debian's binaryen 108 cannot parse
//! current wasm (dx then silently ships unoptimised wasm), so an old `wasm-opt` is replaced
//! with binaryen from npm.

use std::process::Command;

use crate::process::{output, root, run};

const DX_VERSION: &str = "0.7.10";
const MIN_WASM_OPT: u32 = 116;

/// What to install beyond the build toolchain.
#[derive(Default, Clone, Copy)]
pub struct Needs {
    /// Chromium, PDF tools (poppler), Redis, HAProxy and the test packages (Playwright,
    /// web-vitals) for the tests.
    pub browser: bool,
}

/// Installs whatever is missing.
pub fn ensure(needs: Needs) -> Result<(), String> {
    wasm_target()?;
    dx()?;
    wasm_bindgen()?;
    npm_tool("esbuild", "esbuild")?;
    wasm_opt()?;
    // PDF exports set Chinese and Latin text in this font (Apache-2.0 / GPLv3 with font
    // exception), so the app needs it to run, not only to be tested.
    debian_packages(&[
        (
            "fonts-wqy-microhei",
            "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
        ),
        // Passkeys (webauthn-rs) link the system's OpenSSL, found through pkg-config.
        ("libssl-dev", "/usr/include/openssl/ssl.h"),
        ("pkg-config", "/usr/bin/pkg-config"),
    ])?;
    if needs.browser {
        debian_packages(&[
            ("chromium", "/usr/bin/chromium"),
            ("chromium-driver", "/usr/bin/chromedriver"),
            // `pdftotext`/`pdffonts` read exported PDFs back in the tests.
            ("poppler-utils", "/usr/bin/pdftotext"),
            // The multi-instance tests share a Redis and go through HAProxy (both started
            // by the tests themselves on a socket or a free loopback port).
            ("redis-server", "/usr/bin/redis-server"),
            ("haproxy", "/usr/sbin/haproxy"),
        ])?;
        playwright()?;
        // The API contract step's fuzzer (`cargo xtask test`).
        crate::schemathesis::ensure()?;
        // The libsql server of the several-hosts tests.
        crate::sqld::ensure()?;
    }
    Ok(())
}

fn wasm_target() -> Result<(), String> {
    let installed =
        output(Command::new("rustup").args(["target", "list", "--installed"])).unwrap_or_default();
    if installed
        .lines()
        .any(|l| l.trim() == "wasm32-unknown-unknown")
    {
        return Ok(());
    }
    run(Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]))
}

fn dx() -> Result<(), String> {
    if output(Command::new("dx").arg("--version")).is_some_and(|v| v.contains(DX_VERSION)) {
        return Ok(());
    }
    println!("installing dx {DX_VERSION} (about 11 minutes on 2 cores, once)");
    run(Command::new("cargo").args([
        "install",
        "dioxus-cli",
        "--version",
        DX_VERSION,
        "--locked",
        "--features",
        "no-downloads",
    ]))
}

/// The wasm-bindgen version Cargo.lock resolved.
pub fn locked_wasm_bindgen() -> Result<String, String> {
    let lock = std::fs::read_to_string(root().join("Cargo.lock"))
        .map_err(|e| format!("cannot read Cargo.lock: {e}"))?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == "name = \"wasm-bindgen\""
            && let Some(version) = lines.next().and_then(|l| l.strip_prefix("version = \""))
        {
            return Ok(version.trim_end_matches('"').to_owned());
        }
    }
    Err("Cargo.lock has no wasm-bindgen entry".into())
}

fn wasm_bindgen() -> Result<(), String> {
    let want = locked_wasm_bindgen()?;
    let have = output(Command::new("wasm-bindgen").arg("--version")).unwrap_or_default();
    if have.split_whitespace().nth(1) == Some(want.as_str()) {
        return Ok(());
    }
    // Not --locked: the CLI's own lockfile names a crate version the registry no longer has.
    run(Command::new("cargo").args(["install", "wasm-bindgen-cli", "--version", &want, "--force"]))
}

fn npm_tool(binary: &str, package: &str) -> Result<(), String> {
    if output(Command::new(binary).arg("--version")).is_some() {
        return Ok(());
    }
    run(Command::new("npm").args(["install", "--global", "--no-audit", "--no-fund", package]))
}

fn wasm_opt() -> Result<(), String> {
    let version = output(Command::new("wasm-opt").arg("--version"))
        .and_then(|v| {
            v.split_whitespace()
                .nth(2)
                .and_then(|n| n.parse::<u32>().ok())
        })
        .unwrap_or(0);
    if version >= MIN_WASM_OPT {
        return Ok(());
    }
    if version > 0 && output(Command::new("dpkg").args(["-s", "binaryen"])).is_some() {
        println!("removing Debian's binaryen {version}: it cannot parse current wasm");
        run(sudo().args(["apt-get", "remove", "-y", "binaryen"]))?;
    }
    run(Command::new("npm").args(["install", "--global", "--no-audit", "--no-fund", "binaryen"]))
}

/// Installs Debian packages whose marker file is missing.
pub fn debian_packages(packages: &[(&str, &str)]) -> Result<(), String> {
    let missing: Vec<&str> = packages
        .iter()
        .filter(|(_, marker)| !std::path::Path::new(marker).exists())
        .map(|(name, _)| *name)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    run(sudo().args(["apt-get", "update"]))?;
    run(sudo()
        .args([
            "DEBIAN_FRONTEND=noninteractive",
            "apt-get",
            "install",
            "-y",
            "--no-install-recommends",
        ])
        .args(&missing))
}

fn playwright() -> Result<(), String> {
    let e2e = root().join("e2e");
    let wanted = std::fs::read_to_string(e2e.join("package.json")).unwrap_or_default();
    // Every test dependency (Playwright, web-vitals) installed at its pinned version.
    let deps = dev_dependencies(&wanted);
    let installed = |(name, version): &(String, String)| {
        let have =
            std::fs::read_to_string(e2e.join("node_modules").join(name).join("package.json"))
                .unwrap_or_default();
        json_string(&have, "\"version\":").as_deref() == Some(version.as_str())
    };
    if !deps.is_empty() && deps.iter().all(installed) {
        return Ok(());
    }
    // Playwright's own browser download is never used (and fails offline): tests drive
    // Debian's Chromium.
    run(Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(&e2e)
        .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1"))
}

/// The first string value after `key` in a JSON text.
fn json_string(json: &str, key: &str) -> Option<String> {
    let at = json.find(key)? + key.len();
    let rest = &json[at..];
    let start = rest.find('"')? + 1;
    let end = start + rest[start..].find('"')?;
    Some(rest[start..end].to_owned())
}

/// `"devDependencies": {"name": "version", ...}` of a package.json, as pairs.
fn dev_dependencies(package_json: &str) -> Vec<(String, String)> {
    let Some(at) = package_json.find("\"devDependencies\"") else {
        return Vec::new();
    };
    let rest = &package_json[at..];
    let Some(open) = rest.find('{') else {
        return Vec::new();
    };
    let Some(close) = rest[open..].find('}') else {
        return Vec::new();
    };
    rest[open + 1..open + close]
        .split(',')
        .filter_map(|pair| {
            let (name, version) = pair.split_once(':')?;
            let unquote = |s: &str| s.trim().trim_matches('"').to_owned();
            Some((unquote(name), unquote(version)))
        })
        .collect()
}

/// `env` as root, `sudo env` otherwise; callers pass `NAME=value` arguments before the command.
fn sudo() -> Command {
    let is_root = output(Command::new("id").arg("-u")).is_some_and(|id| id == "0");
    if is_root {
        Command::new("env")
    } else {
        let mut cmd = Command::new("sudo");
        cmd.arg("env");
        cmd
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn dev_dependencies_are_read_with_their_versions() {
        let json = r#"{"name": "x", "devDependencies": {
            "@playwright/test": "1.65.0",
            "web-vitals": "6.2.3"
        }, "other": {"a": "b"}}"#;
        assert_eq!(
            super::dev_dependencies(json),
            [
                ("@playwright/test".to_owned(), "1.65.0".to_owned()),
                ("web-vitals".to_owned(), "6.2.3".to_owned())
            ]
        );
        assert!(super::dev_dependencies("{}").is_empty());
    }
}
