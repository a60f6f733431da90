//! The API checked by a fuzzer no one here wrote: schemathesis, pinned, against a release
//! server on a fresh database, driven by the server's own OpenAPI document
//! (`GET /api/openapi.json`). `cargo xtask api-fuzz` runs it alone (`test::api_fuzz_only`);
//! `cargo xtask test` runs it after the release build.
//!
//! schemathesis comes from the package registry into a virtual environment under
//! `~/.cache/aion-tools`, like Litestream, with every package pinned in
//! `xtask/schemathesis-requirements.txt` (wheels only), and is skipped when present.
//!
//! Three passes, all with the same seed, so a run is reproducible:
//! - as a signed-in writer (the session cookie), every operation but the operator's and
//!   the four that end sessions, with links between operations (create, then read, edit,
//!   delete what was created), inferred by schemathesis from the document or declared in it;
//! - as the operator (the bearer token), the `/api/admin/` operations (a request with the
//!   token is the operator's, not a writer's);
//! - anonymously, the four that end sessions (they answer 401 and end nothing), so the
//!   writer's pass keeps its session.
//!
//! Each must find no 5xx, no answer the document does not allow (status, content type,
//! headers, body schema), and the server must still be running afterwards. The HAR report of
//! each pass is counted: requests made and their statuses.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    process::Command,
    time::{Duration, Instant},
};

use crate::process::{
    Guard, http_exchange, pip_tool, root, run, tools_dir, wait_for_http, without_cargo_env,
};

/// The pinned schemathesis release (its dependencies: `schemathesis-requirements.txt`).
pub const VERSION: &str = "4.32.5";

/// The seed of every run.
const SEED: &str = "1";

/// Test cases per operation and phase (and the stateful phase's scenarios): the three
/// passes take well under a minute on two cores, about 6,000 test cases.
const EXAMPLES: &str = "100";

/// What the checks must hold (schemathesis's names): no 5xx; every status, content type,
/// header and body as the document says; 405 for a method an operation does not have; a
/// deleted resource gone, a created one there. Not `negative_data_rejection`: the server
/// reads some values more leniently than the document describes them (an empty query
/// parameter as absent, `null` for an optional field), which that check reports.
const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,\
                      response_headers_conformance,response_schema_conformance,\
                      unsupported_method,use_after_free,ensure_resource_availability";

/// The operations that end the caller's session(s): fuzzed anonymously, apart.
const SESSION_ENDING: &str =
    "^/api/account/(signout|signout-everywhere|password|sessions/\\{id\\})$";

/// The operator's operations: fuzzed with the bearer token, apart.
const OPERATOR: &str = "^/api/admin/";

/// The operator token of the fuzzed server (a temp server on loopback).
const ADMIN_TOKEN: &str = "api-fuzz-admin-token";

/// Installs schemathesis unless the pinned version is there.
pub fn ensure() -> Result<PathBuf, String> {
    let requirements = root().join("xtask").join("schemathesis-requirements.txt");
    pip_tool(
        &tools_dir(&format!("schemathesis-{VERSION}")),
        "st",
        "--version",
        VERSION,
        &[
            "--only-binary=:all:".as_ref(),
            "-r".as_ref(),
            requirements.as_os_str(),
        ],
    )
}

/// Fuzzes a release server started on a free loopback port with a fresh database (the
/// demo library), stopped and removed afterwards, also on failure.
pub fn check(server: &Path) -> Result<(), String> {
    let st = ensure()?;
    let data = std::env::temp_dir().join(format!("aion-api-fuzz-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    std::fs::create_dir_all(&data).map_err(|e| format!("cannot create {}: {e}", data.display()))?;
    let reports = root().join("target").join("schemathesis");
    let _ = std::fs::remove_dir_all(&reports);
    let result = (|| {
        run(without_cargo_env(&mut Command::new(server))
            .current_dir(&data)
            .env("AION_DB_PATH", data.join("aion.db"))
            .args(["seed", "--stories", "200", "--nodes-per-story", "5"]))?;
        let (mut server, port) = Guard::spawn_server(
            "release server (api fuzz)",
            Command::new(server)
                .current_dir(&data)
                .env("IP", "127.0.0.1")
                .env("PORT", "0")
                .env("AION_DB_PATH", data.join("aion.db"))
                .env("AION_ADMIN_TOKEN", ADMIN_TOKEN)
                // One client sending as fast as it can: the limits are tested elsewhere.
                .envs([
                    ("AION_WRITE_RATE_LIMIT_PER_MINUTE", "600000"),
                    ("AION_WRITE_RATE_LIMIT_BURST", "100000"),
                    ("AION_RATE_LIMIT_PER_MINUTE", "600000"),
                    ("AION_RATE_LIMIT_BURST", "100000"),
                    // Its exports and reports must not fill its share of the queue.
                    ("AION_TASK_MAX_PENDING_PER_CALLER", "100000"),
                    ("AION_TASK_MAX_PENDING", "100000"),
                    // The event stream ends soon, so reading it does not wait for long.
                    ("AION_EVENT_STREAM_MAX_SECS", "2"),
                ])
                // `app::serve` says where it listens.
                .env("RUST_LOG", "warn,app::serve=info"),
            Duration::from_secs(60),
        )?;
        wait_for_http(port, "/api/health", Duration::from_secs(60), &mut server)?;
        let cookie = sign_up(port)?;
        let base = format!("http://127.0.0.1:{port}/api/openapi.json");
        let started = Instant::now();
        let cookie = format!("Cookie: {cookie}");
        let bearer = format!("Authorization: Bearer {ADMIN_TOKEN}");
        let not_writers = format!("{OPERATOR}|{SESSION_ENDING}");
        let mut passes = Vec::new();
        let (all, no_links) = (
            "examples,coverage,fuzzing,stateful",
            // No links among these operations: no stateful phase.
            "examples,coverage,fuzzing",
        );
        for (name, args) in [
            (
                "writer",
                vec![
                    "--exclude-path-regex",
                    &not_writers,
                    "-H",
                    &cookie,
                    "--phases",
                    all,
                ],
            ),
            (
                "operator",
                vec![
                    "--include-path-regex",
                    OPERATOR,
                    "-H",
                    &bearer,
                    "--phases",
                    no_links,
                ],
            ),
            (
                "anonymous",
                vec!["--include-path-regex", SESSION_ENDING, "--phases", no_links],
            ),
        ] {
            let result = pass(&st, &base, &reports.join(name), &args);
            server.ensure_running()?;
            passes.push((name, result?));
        }
        let requests: usize = passes.iter().map(|(_, p)| p.requests).sum();
        let mut statuses = BTreeMap::<u16, usize>::new();
        for (_, p) in &passes {
            for (status, n) in &p.statuses {
                *statuses.entry(*status).or_default() += n;
            }
        }
        println!(
            "schemathesis {VERSION}, seed {SEED}: {requests} requests in {:.0?} ({}); \
             statuses {}; no failures; reports in {}",
            started.elapsed(),
            passes
                .iter()
                .map(|(name, p)| format!("{} {name}", p.requests))
                .collect::<Vec<_>>()
                .join(", "),
            statuses
                .iter()
                .map(|(s, n)| format!("{s}: {n}"))
                .collect::<Vec<_>>()
                .join(", "),
            reports.display()
        );
        Ok(())
    })();
    let _ = std::fs::remove_dir_all(&data);
    result
}

/// Signs up the fuzzing writer; its `Cookie` header value.
fn sign_up(port: u16) -> Result<String, String> {
    let (status, head, body) = http_exchange(
        port,
        "POST",
        "/api/account/signup",
        Some(r#"{"handle":"fuzzer","password":"a fuzzing writer's password"}"#),
        None,
    )?;
    if status != 201 {
        return Err(format!("signing up the fuzzing writer: {status} {body}"));
    }
    head.lines()
        .filter_map(|l| l.split_once(':'))
        .filter(|(name, _)| name.eq_ignore_ascii_case("set-cookie"))
        .filter_map(|(_, value)| value.trim().split(';').next())
        // `__Host-aion_account` where cookies are `Secure` (the default), as in production.
        .find(|c| {
            c.split('=')
                .next()
                .is_some_and(|n| n.ends_with("aion_account"))
        })
        .map(str::to_owned)
        .ok_or_else(|| "sign-up set no aion_account cookie".to_owned())
}

/// What one pass sent.
struct Pass {
    requests: usize,
    statuses: BTreeMap<u16, usize>,
}

/// One `st run`, its reports in `dir`; an error if it failed or made no requests.
fn pass(st: &Path, schema: &str, dir: &Path, extra: &[&str]) -> Result<Pass, String> {
    let status = Command::new(st)
        .arg("run")
        .arg(schema)
        .args(["--checks", CHECKS])
        .args(["--max-examples", EXAMPLES])
        .args(["--seed", SEED, "--generation-database", "none"])
        // One worker: with two threads, CPython 3.11's `ast.parse` (hypothesis describing a
        // filter) races and fails now and then ("AST constructor recursion depth mismatch").
        .args(["--workers", "1", "--request-timeout", "10"])
        .args(["--report", "har,junit", "--report-dir"])
        .arg(dir)
        .args(extra)
        .args(["--no-color", "--output-truncate", "true"])
        .env("SCHEMATHESIS_HOOKS", "")
        .status()
        .map_err(|e| format!("cannot run {}: {e}", st.display()))?;
    let counted = count(dir)?;
    if !status.success() {
        return Err(format!(
            "schemathesis found failures ({} requests; reports in {})",
            counted.requests,
            dir.display()
        ));
    }
    if counted.requests == 0 {
        return Err(format!("schemathesis made no requests ({})", dir.display()));
    }
    Ok(counted)
}

/// The requests in the pass's HAR report.
fn count(dir: &Path) -> Result<Pass, String> {
    let har = std::fs::read_dir(dir)
        .map_err(|e| format!("no reports in {}: {e}", dir.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("har-"))
        })
        .ok_or_else(|| format!("no HAR report in {}", dir.display()))?;
    let text = std::fs::read_to_string(&har).map_err(|e| format!("{}: {e}", har.display()))?;
    let har: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", har.display()))?;
    let entries = har["log"]["entries"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut statuses = BTreeMap::new();
    for entry in &entries {
        if let Some(status) = entry["response"]["status"].as_u64() {
            *statuses.entry(status as u16).or_default() += 1;
        }
    }
    Ok(Pass {
        requests: entries.len(),
        statuses,
    })
}
