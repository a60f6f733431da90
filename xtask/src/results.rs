//! The benchmark results file, `benchmarks/results.json`: what `cargo xtask bench-http`
//! printed for each scenario, with the date and the exact command, so that the
//! `/performance` page shows measured numbers without anyone typing them in. Scenarios print
//! through [`out!`], which also keeps the line; a finished scenario replaces its previous
//! entry in the file (the others stay, so runs of single scenarios accumulate).

use std::{
    io::{BufRead, BufReader},
    process::{Command, Stdio},
    sync::Mutex,
};

use serde_json::{Value, json};

use crate::process::{output, root};

/// Lines printed by the scenario being run.
static LINES: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Prints a line and keeps it for the results file.
macro_rules! out {
    ($($arg:tt)*) => {{
        let line = format!($($arg)*);
        println!("{line}");
        $crate::results::keep(line);
    }};
}
pub(crate) use out;

/// Keeps a printed line.
pub fn keep(line: String) {
    LINES.lock().unwrap_or_else(|p| p.into_inner()).push(line);
}

/// Runs `cmd` (a benchmark binary that prints its own tables), printing and keeping each
/// line of its standard output; criterion's progress lines are printed only.
pub fn run_printing(cmd: &mut Command) -> Result<(), String> {
    let mut child = cmd
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {:?}: {e}", cmd.get_program()))?;
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines() {
            let line = line.map_err(|e| e.to_string())?;
            let progress = ["Benchmarking ", "Gnuplot ", "Found ", "  "]
                .iter()
                .any(|p| line.starts_with(p));
            if progress {
                println!("{line}");
            } else {
                out!("{line}");
            }
        }
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{:?} failed ({status})", cmd.get_program()))
    }
}

/// Runs scenario `name` (its `command` as a user would type it), then records what it
/// printed.
pub fn record(
    name: &str,
    command: &str,
    scenario: impl FnOnce() -> Result<(), String>,
) -> Result<(), String> {
    LINES.lock().unwrap_or_else(|p| p.into_inner()).clear();
    scenario()?;
    let lines = std::mem::take(&mut *LINES.lock().unwrap_or_else(|p| p.into_inner()));
    let path = root().join("benchmarks/results.json");
    let mut file: Value = std::fs::read_to_string(&path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_else(|| json!({ "runs": [] }));
    let date = output(Command::new("date").args(["-u", "+%Y-%m-%d %H:%M UTC"]))
        .map(|d| d.trim().to_owned())
        .unwrap_or_default();
    let entry = json!({
        "scenario": name,
        "command": command,
        "date": date,
        "output": lines.join("\n").trim(),
    });
    let runs = file["runs"]
        .as_array_mut()
        .ok_or("results.json has no runs")?;
    runs.retain(|r| r["scenario"] != name);
    runs.push(entry);
    runs.sort_by(|a, b| a["scenario"].as_str().cmp(&b["scenario"].as_str()));
    let text = serde_json::to_string_pretty(&file).map_err(|e| e.to_string())?;
    std::fs::write(&path, text + "\n").map_err(|e| format!("{}: {e}", path.display()))?;
    println!("\n(recorded in {})", path.display());
    Ok(())
}
