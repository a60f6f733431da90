//! `cargo xtask soak [--seconds N] [--seed N]`: the crash soak (`app/tests/api/soak.rs`).
//!
//! A mixed load against the real server on 127.0.0.1 while the server is killed with
//! SIGKILL at random moments and restarted; the client's ledger of acknowledged writes is
//! checked at the end. Bounded (300 s by default) and stops by itself; not part of `test`.

use std::process::Command;

use crate::process::{option_pairs, root, run};

/// Runs the soak and prints its report.
pub fn run_soak(args: &[String]) -> Result<(), String> {
    let mut seconds = "300".to_owned();
    let mut seed = "1".to_owned();
    for (name, value) in option_pairs(args)? {
        match name {
            "--seconds" => seconds = value,
            "--seed" => seed = value,
            other => return Err(format!("unknown option {other}")),
        }
    }
    for (name, v) in [("--seconds", &seconds), ("--seed", &seed)] {
        v.parse::<u64>()
            .map_err(|_| format!("{name} takes a whole number, not {v:?}"))?;
    }
    run(
        Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .current_dir(root())
            .args([
                "test",
                "--package",
                "app",
                "--features",
                "server",
                "--test",
                "api",
                "--",
                "--ignored",
                "--exact",
                "soak::crash_soak",
                "--nocapture",
            ])
            .env("AION_SOAK_SECS", seconds)
            .env("AION_SOAK_SEED", seed),
    )
}
