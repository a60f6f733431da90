//! `cargo xtask test`: everything CI checks, in the order that fails fastest.
//!
//! fmt, clippy for both feature sets, the Rust tests (unit, integration, doc), the release
//! build, schemathesis against that release server (`schemathesis`), then the browser tests
//! against it, each on a free loopback port with a fresh database. Each server is stopped
//! when its step ends, also on failure.

use std::{process::Command, time::Duration, time::Instant};

use crate::{
    build,
    process::{Guard, root, run, wait_for_http, without_cargo_env},
    setup,
};

/// Runs every check; the first failure stops the run.
pub fn run_all() -> Result<(), String> {
    let started = Instant::now();
    let mut timings = Vec::new();
    let mut step = |name: &'static str, f: &mut dyn FnMut() -> Result<(), String>| {
        let t = Instant::now();
        println!("\n==> {name}");
        let result = f();
        timings.push((name, t.elapsed()));
        result
    };

    step("setup", &mut || {
        setup::ensure(setup::Needs { browser: true })
    })?;
    step("fmt", &mut || {
        run(cargo().args(["fmt", "--all", "--", "--check"]))
    })?;
    step("clippy (server)", &mut || {
        run(cargo().args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--features",
            "app/server",
            "--",
            "-D",
            "warnings",
        ]))
    })?;
    step("clippy (web, wasm32)", &mut || {
        run(cargo().args([
            "clippy",
            "--package",
            "app",
            "--no-default-features",
            "--features",
            "web",
            "--target",
            "wasm32-unknown-unknown",
            "--",
            "-D",
            "warnings",
        ]))
    })?;
    step("rust tests", &mut || {
        // The replication tests run the real Litestream, the several-hosts tests a real
        // libsql server.
        let litestream = crate::litestream::ensure()?;
        let sqld = crate::sqld::ensure()?;
        run(cargo()
            .args(["test", "--workspace", "--features", "app/server"])
            .env("AION_TEST_LITESTREAM", litestream)
            .env("AION_TEST_SQLD", sqld))
    })?;
    let mut bundle = None;
    step("release build", &mut || {
        bundle = Some(build::release()?);
        Ok(())
    })?;
    let bundle = bundle.expect("the release step succeeded");
    step("api contract (schemathesis)", &mut || {
        crate::schemathesis::check(&bundle.server())
    })?;
    step("browser tests", &mut || browser_tests(&bundle, &[]))?;

    println!("\nall checks passed in {:.0?}", started.elapsed());
    for (name, took) in &timings {
        println!("  {name:<22} {took:>8.1?}");
    }
    Ok(())
}

/// The release build and the browser tests only (`cargo xtask e2e`).
pub fn browser_only(filter: &[String]) -> Result<(), String> {
    setup::ensure(setup::Needs { browser: true })?;
    let bundle = build::release()?;
    browser_tests(&bundle, filter)
}

/// The release build and the API contract step only (`cargo xtask api-fuzz`).
pub fn api_fuzz_only() -> Result<(), String> {
    setup::ensure(setup::Needs::default())?;
    let bundle = build::release()?;
    crate::schemathesis::check(&bundle.server())
}

fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(root());
    cmd
}

/// Rate limits of the server the browser tests run against: the tests are one client
/// address that creates stories and nodes faster than a person would and makes bursts of
/// reads to move the dashboard's figures (60 at a time, several tests within a minute), so
/// the limits are set here, explicitly, well above what one run sends (about 150 writes and
/// 600 reads), rather than left to the defaults (bursts of 10 writes and 100 reads). The
/// limits themselves are tested by the API tests.
const E2E_RATE_LIMITS: [(&str, &str); 4] = [
    ("AION_WRITE_RATE_LIMIT_PER_MINUTE", "6000"),
    ("AION_WRITE_RATE_LIMIT_BURST", "1000"),
    ("AION_RATE_LIMIT_PER_MINUTE", "12000"),
    ("AION_RATE_LIMIT_BURST", "2000"),
];

/// The admin token of the server the browser tests run against (a temp server on loopback;
/// the tests unlock the dashboard's admin actions with it).
const E2E_ADMIN_TOKEN: &str = "e2e-admin-token";

fn browser_tests(bundle: &build::Bundle, filter: &[String]) -> Result<(), String> {
    with_library_server(bundle, |port| {
        run(Command::new("npx")
            .args(["playwright", "test"])
            .args(filter)
            .current_dir(root().join("e2e"))
            .env("BASE_URL", format!("http://127.0.0.1:{port}"))
            .env("ADMIN_TOKEN", E2E_ADMIN_TOKEN))
    })
}

/// The client benchmarks (`cargo xtask bench-client`): the virtual list and a typical
/// session, in Chromium, against the release server with 100,000 stories.
pub fn bench_client() -> Result<(), String> {
    setup::ensure(setup::Needs { browser: true })?;
    let bundle = build::release()?;
    with_library_server(&bundle, |port| {
        run(Command::new("npx")
            .args([
                "playwright",
                "test",
                "--config",
                "playwright.bench.config.ts",
            ])
            .current_dir(root().join("e2e"))
            .env("BASE_URL", format!("http://127.0.0.1:{port}")))
    })
}

/// Runs `f` against the release server on a fresh database seeded with 100,000 stories in
/// a temp directory; the server is stopped and the directory removed afterwards, also on
/// failure.
fn with_library_server(
    bundle: &build::Bundle,
    f: impl FnOnce(u16) -> Result<(), String>,
) -> Result<(), String> {
    let data = std::env::temp_dir().join(format!("aion-e2e-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    std::fs::create_dir_all(&data).map_err(|e| format!("cannot create {}: {e}", data.display()))?;
    let result = (|| {
        // The virtual list is tested and measured over a library of 100,000 stories; two
        // nodes each keep the seeding short.
        let seeded = Instant::now();
        run(without_cargo_env(&mut Command::new(bundle.server()))
            .current_dir(&data)
            .env("AION_DB_PATH", data.join("aion.db"))
            // The 24 most recently updated get covers (the browser tests of lazy images).
            .args([
                "seed",
                "--stories",
                "100000",
                "--nodes-per-story",
                "2",
                "--covers",
                "24",
            ]))?;
        println!("seeded 100,000 stories in {:.1?}", seeded.elapsed());
        let (mut server, port) = Guard::spawn_server(
            "release server",
            Command::new(bundle.server())
                .current_dir(&data)
                .env("IP", "127.0.0.1")
                .env("PORT", "0")
                .env("AION_DB_PATH", data.join("aion.db"))
                .envs(E2E_RATE_LIMITS)
                .env("AION_ADMIN_TOKEN", E2E_ADMIN_TOKEN)
                .env("RUST_LOG", "warn,app::serve=info"),
            Duration::from_secs(60),
        )?;
        wait_for_http(port, "/api/health", Duration::from_secs(60), &mut server)?;
        f(port)?;
        server.ensure_running()
    })();
    let _ = std::fs::remove_dir_all(&data);
    result
}
