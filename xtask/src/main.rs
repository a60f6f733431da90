//! Project tooling, run as `cargo xtask <command>` (an alias in `.cargo/config.toml`).
//!
//! Written in Rust with almost no dependencies so that the two commands a newcomer needs,
//! `run` and `test`, work on a fresh machine with nothing but cargo. Every step checks
//! whether its tool is already present and skips the install if so.

mod accounts_bench;
mod bench_server;
mod build;
mod bundle;
mod cluster;
mod hosts_bench;
mod http_bench;
mod lighthouse;
mod litestream;
mod process;
mod replica_bench;
mod results;
mod scale_bench;
mod schemathesis;
mod server_bench;
mod setup;
mod soak;
mod sqld;
mod test;

use std::process::ExitCode;

const USAGE: &str = "\
usage: cargo xtask <command>

  run            install what is missing, build the release app, serve it on 127.0.0.1:8080
                 (with AION_REPLICA_URL set: under Litestream, replicating continuously)
  test           install what is missing, then fmt, clippy, unit + integration tests, browser tests
  api-fuzz       the release build, then schemathesis against it, driven by the server's
                 OpenAPI document (reports in target/schemathesis)
  e2e [FILTER..] the release build and the browser tests only (FILTER: spec names or
                 Playwright options, e.g. `e2e script_policy`)
  setup          install the toolchain only (add --browser for Chromium and Playwright)
  build          build the release app (client + server) with dx
  bundle-size    print raw and brotli sizes of the release wasm, JS and CSS
                 (bench-*, bundle-size record what they print in benchmarks/results.json)
  bench-http     HTTP load benchmarks against the release server
                 [--seconds N per run] [--only stack|app|cache|pages|redis|cluster|shared|hosts|slow-clients|accounts]
  cluster N      N release instances sharing one database file and Redis, behind HAProxy on
                 127.0.0.1:8080 [--port P]; with --store sqld, each an embedded replica of a
                 libsql server (sqld), as on several hosts; Ctrl-C stops them all
  bench-server   in-process benchmarks of the task queue, the cache and the store (the store's
                 builds a 100,000-story database once, ~4 min) [--only tasks|cache-hits|store|covers]
  lighthouse     Lighthouse 12 performance audits (desktop and mobile) of /, /stories, a
                 reader page and the dashboard against the release server
  bench-client   client benchmarks in Chromium: the virtual list over 100,000 stories
                 (frames while flinging, DOM nodes, memory) and a typical session's requests
  seed ARGS      write deterministic demo data: seed --stories N [--nodes-per-story N]
                 [--seed N] into AION_DB_PATH (default data/aion.db), using the release build
  bench-replica  replication with Litestream: write throughput with and without it, lag
                 under a steady load, restore time of the 100,000-story database
                 [--only writes|restore]
  restore        restore the database from its Litestream replica into a new file, verified:
                 restore --to PATH [--at RFC3339 time] [--from REPLICA_URL (AION_REPLICA_URL)]
  soak           crash soak: mixed load while the server is killed and restarted, then the
                 ledger of acknowledged writes is checked [--seconds N (300)] [--seed N]
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("run") => build::run_app(),
        Some("test") => test::run_all(),
        Some("e2e") => test::browser_only(&args[1..]),
        Some("api-fuzz") => test::api_fuzz_only(),
        Some("setup") => setup::ensure(setup::Needs {
            browser: args.iter().any(|a| a == "--browser"),
        }),
        Some("build") => {
            setup::ensure(setup::Needs::default()).and_then(|()| build::release().map(|_| ()))
        }
        Some("bundle-size") => results::record("bundle", "cargo xtask bundle-size", bundle::report),
        Some("seed") => build::seed(&args[1..]),
        Some("bench-client") => test::bench_client(),
        Some("lighthouse") => lighthouse::run_all(),
        Some("bench-server") => server_bench::run_all(&args[1..]),
        Some("bench-http") => http_bench::run_all(&args[1..]),
        Some("cluster") => cluster::run_cluster(&args[1..]),
        Some("soak") => soak::run_soak(&args[1..]),
        Some("restore") => litestream::restore(&args[1..]),
        Some("bench-replica") => replica_bench::run_bench(&args[1..]),
        Some("-h" | "--help" | "help") | None => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Some(other) => Err(format!("unknown command {other:?}\n\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("xtask: {err}");
            ExitCode::FAILURE
        }
    }
}
