//! `cargo xtask bench-server`: the in-process benchmarks of the store, the cache and the
//! task queue (`cargo bench`, criterion or a custom harness, each with its baseline in the
//! same run), with what each printed recorded in `benchmarks/results.json` for the
//! `/performance` page, as `bench-http` does for the HTTP scenarios.

use std::process::Command;

use crate::{
    process::root,
    results::{record, run_printing},
};

/// Name, package, bench target and the features it needs.
const BENCHES: [(&str, &str, &str, &[&str]); 4] = [
    ("tasks", "server", "tasks", &[]),
    ("cache-hits", "server", "cache", &[]),
    ("store", "app", "store", &["--features", "server"]),
    ("covers", "app", "covers", &["--features", "server"]),
];

/// Runs every benchmark, or the one named by `--only`.
pub fn run_all(args: &[String]) -> Result<(), String> {
    let only = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1))
        .cloned();
    if let Some(o) = &only
        && !BENCHES.iter().any(|(name, ..)| name == o)
    {
        return Err(format!(
            "--only takes tasks, cache-hits, store or covers, not {o:?}"
        ));
    }
    for (name, package, bench, features) in BENCHES {
        if only.as_deref().is_some_and(|o| o != name) {
            continue;
        }
        let command = format!("cargo xtask bench-server --only {name}");
        record(name, &command, || {
            run_printing(
                Command::new("cargo")
                    .args(["bench", "--package", package, "--bench", bench])
                    .args(features)
                    .current_dir(root()),
            )
        })?;
    }
    Ok(())
}
