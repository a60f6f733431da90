//! `cargo xtask lighthouse`: Lighthouse's performance audit of the release app on `/`,
//! `/stories`, a reader page, the dashboard, the account page (signed out, and signed in)
//! and the editor of a writer's own story (with its sharing panel), the signed-in pages
//! with the session cookie Lighthouse is given as a header, with the desktop and the mobile preset,
//! each the median of three runs, printed as a table for BENCHMARKS.md and recorded in
//! `benchmarks/results.json`.
//!
//! Lighthouse 12.2.3 is the last major that runs on the machine's Node 20; it is installed
//! into the target directory (`tools/lighthouse`) the first time, not by the test command,
//! and drives Debian's Chromium (`CHROME_PATH`) headless with background networking off (the
//! machine has no network beyond loopback). The server runs from a temp directory with demo
//! data and is stopped afterwards, also on failure.

use std::{path::PathBuf, process::Command};

use serde_json::Value;

use crate::{
    bench_server::{start, story_paths},
    build,
    process::{http_get, run},
    results::{out, record},
    setup,
};

const VERSION: &str = "12.2.3";

fn install() -> Result<PathBuf, String> {
    let dir = build::target_dir().join("tools/lighthouse");
    let bin = dir.join("node_modules/.bin/lighthouse");
    let installed = dir.join("node_modules/lighthouse/package.json");
    let have = std::fs::read_to_string(&installed).unwrap_or_default();
    if bin.exists() && have.contains(&format!("\"version\": \"{VERSION}\"")) {
        return Ok(bin);
    }
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    run(Command::new("npm")
        .args(["install", "--no-audit", "--no-fund", "--no-save"])
        .arg(format!("lighthouse@{VERSION}"))
        .current_dir(&dir))?;
    Ok(bin)
}

/// One audit, with `cookie` sent on every request if given: the report as JSON.
fn audit(bin: &PathBuf, url: &str, desktop: bool, cookie: Option<&str>) -> Result<Value, String> {
    let report = std::env::temp_dir().join(format!("aion-lighthouse-{}.json", std::process::id()));
    let mut cmd = Command::new(bin);
    cmd.arg(url)
        .args(["--only-categories=performance", "--output=json", "--quiet"])
        .arg(format!("--output-path={}", report.display()))
        .arg(
            "--chrome-flags=--headless=new --no-sandbox --disable-gpu --disable-quic \
             --no-first-run --disable-background-networking --disable-component-update \
             --disable-sync",
        )
        .env("CHROME_PATH", "/usr/bin/chromium");
    if desktop {
        cmd.arg("--preset=desktop");
    }
    if let Some(cookie) = cookie {
        cmd.arg(format!(
            "--extra-headers={}",
            serde_json::json!({ "Cookie": cookie })
        ));
    }
    run(&mut cmd)?;
    let text =
        std::fs::read_to_string(&report).map_err(|e| format!("{}: {e}", report.display()))?;
    let _ = std::fs::remove_file(&report);
    serde_json::from_str(&text).map_err(|e| format!("lighthouse report: {e}"))
}

/// Audits per page and preset; the table shows the run with the median score.
const RUNS: usize = 3;

/// The performance score, 0-100.
fn score(r: &Value) -> f64 {
    r["categories"]["performance"]["score"]
        .as_f64()
        .unwrap_or(0.0)
        * 100.0
}

/// The score and the figures the targets are set on, as a table row.
fn row(page: &str, preset: &str, r: &Value) -> String {
    let score = score(r);
    let ms = |audit: &str| {
        r["audits"][audit]["numericValue"]
            .as_f64()
            .unwrap_or(f64::NAN)
    };
    format!(
        "| {page} | {preset} | {score:.0} | {:.0} | {:.0} | {:.3} | {:.0} | {:.0} |",
        ms("first-contentful-paint"),
        ms("largest-contentful-paint"),
        ms("cumulative-layout-shift"),
        ms("total-blocking-time"),
        ms("speed-index"),
    )
}

/// Runs every audit and records the table.
pub fn run_all() -> Result<(), String> {
    setup::ensure(setup::Needs { browser: true })?;
    let bin = install()?;
    let bundle = build::release()?;
    record("lighthouse", "cargo xtask lighthouse", || {
        // With the demo covers, audited once every variant exists (no encoding meanwhile).
        let server = start(&bundle, &[("AION_DEMO_COVERS", "24")])?;
        let ready = std::time::Instant::now();
        while http_get(server.port, "/api/stories?limit=100")?.contains("\"cover_pending\":true") {
            if ready.elapsed() > std::time::Duration::from_secs(300) {
                return Err("the demo covers were not ready within 5 minutes".into());
            }
            std::thread::sleep(std::time::Duration::from_millis(500));
        }
        let story = story_paths(server.port, "")?[0]
            .trim_start_matches("/api")
            .to_owned();
        // A writer with a story of their own: its editor has the sharing panel.
        let (status, cookies, _) = crate::accounts_bench::post(
            server.port,
            "/api/account/signup",
            r#"{"handle":"lighthouse","password":"correct horse battery staple"}"#,
        )?;
        let cookie = cookies
            .into_iter()
            .find(|c| c.contains("aion_account="))
            .filter(|_| status == 201)
            .ok_or_else(|| format!("sign-up of the Lighthouse writer: status {status}"))?;
        let (status, _, body) = crate::process::http_exchange(
            server.port,
            "POST",
            "/api/stories",
            Some(
                r#"{"title":"Lighthouse's draft","summary":"A private story of the audited writer."}"#,
            ),
            Some(&format!("Cookie: {cookie}")),
        )?;
        let own: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
        let own = own["id"]
            .as_str()
            .filter(|_| status < 300)
            .ok_or_else(|| format!("the Lighthouse writer's story: status {status} {body}"))?;
        let editor = format!("/stories/{own}/edit");
        out!(
            "\n### Lighthouse {VERSION}, performance category, release build on loopback, median of {RUNS} runs\n"
        );
        out!(
            "| page | preset | score | FCP ms | LCP ms | CLS | TBT ms | Speed Index ms |\n\
             |---|---|---:|---:|---:|---:|---:|---:|"
        );
        for (name, path, cookie) in [
            ("/", "/", None),
            ("/stories", "/stories", None),
            ("reader", story.as_str(), None),
            ("/performance-dashboard", "/performance-dashboard", None),
            ("/account", "/account", None),
            ("/account, signed in", "/account", Some(cookie.as_str())),
            ("editor, own story", editor.as_str(), Some(cookie.as_str())),
        ] {
            let url = format!("http://127.0.0.1:{}{path}", server.port);
            for (preset, desktop) in [("desktop", true), ("mobile", false)] {
                // Lighthouse's own advice: the median of several runs (single runs of one
                // page differed by 10 points here, on a shared 2-core machine).
                let mut reports = (0..RUNS)
                    .map(|_| audit(&bin, &url, desktop, cookie))
                    .collect::<Result<Vec<_>, _>>()?;
                reports.sort_by(|a, b| score(a).total_cmp(&score(b)));
                out!("{}", row(name, preset, &reports[RUNS / 2]));
            }
        }
        Ok(())
    })
}
