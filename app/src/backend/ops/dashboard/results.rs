//! The benchmark results file, `benchmarks/results.json`, as the `/performance` page shows
//! it: each scenario's latest run with its command, date and what it printed (Markdown
//! tables, headings and lines), compiled into the server so a build shows the results it
//! was built with. The file is written only by the benchmark commands (`xtask::results`);
//! nothing here types a figure in.

use dioxus::prelude::*;
use serde::Deserialize;

/// The file, as the last benchmark runs left it.
const FILE: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../benchmarks/results.json"
));

/// One scenario's latest run.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Run {
    /// Its name (`stack`, `store`, `bundle`, ...).
    pub scenario: String,
    /// The command that ran it.
    pub command: String,
    /// When, in UTC.
    pub date: String,
    /// What it printed.
    pub output: String,
}

#[derive(Deserialize)]
struct File {
    runs: Vec<Run>,
}

/// Every recorded run; none if the file is unreadable (logged).
pub fn runs() -> Vec<Run> {
    parse(FILE)
}

fn parse(text: &str) -> Vec<Run> {
    serde_json::from_str::<File>(text)
        .map(|f| f.runs)
        .unwrap_or_else(|e| {
            tracing::warn!("benchmarks/results.json is not readable: {e}");
            Vec::new()
        })
}

/// The command that records scenario `name`.
pub fn command_for(name: &str) -> String {
    match name {
        "tasks" | "cache-hits" | "store" => format!("cargo xtask bench-server --only {name}"),
        "bundle" => "cargo xtask build && cargo xtask bundle-size".to_owned(),
        _ => format!("cargo xtask bench-http --only {name}"),
    }
}

/// A block of printed output.
#[derive(Debug, PartialEq)]
enum Block<'a> {
    Heading(&'a str),
    Table(Vec<Vec<&'a str>>),
    Line(&'a str),
}

/// Splits printed Markdown into headings, tables (separator rows dropped) and lines.
fn blocks(text: &str) -> Vec<Block<'_>> {
    let mut out = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if let Some(h) = line.strip_prefix('#') {
            out.push(Block::Heading(h.trim_start_matches('#').trim()));
        } else if line.starts_with('|') {
            let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
            if cells
                .iter()
                .all(|c| !c.is_empty() && c.chars().all(|ch| matches!(ch, '-' | ':')))
            {
                continue;
            }
            match out.last_mut() {
                Some(Block::Table(rows)) => rows.push(cells),
                _ => out.push(Block::Table(vec![cells])),
            }
        } else {
            out.push(Block::Line(line));
        }
    }
    out
}

/// Printed Markdown as HTML: headings, tables with their first row as the head, lines as
/// paragraphs; emphasis markers are dropped.
pub fn markdown(text: &str) -> Element {
    let plain = |s: &str| s.replace("**", "").replace('`', "");
    rsx! {
        for (i, block) in blocks(text).into_iter().enumerate() {
            match block {
                Block::Heading(h) => rsx! { h4 { key: "{i}", "{plain(h)}" } },
                Block::Line(l) => rsx! { p { key: "{i}", class: "bench-line", "{plain(l)}" } },
                Block::Table(rows) => rsx! {
                    table { key: "{i}", class: "dash-table",
                        thead { tr {
                            for (j, c) in rows[0].iter().enumerate() { th { key: "{j}", "{plain(c)}" } }
                        } }
                        tbody {
                            for (k, row) in rows[1..].iter().enumerate() {
                                tr { key: "{k}",
                                    for (j, c) in row.iter().enumerate() { td { key: "{j}", "{plain(c)}" } }
                                }
                            }
                        }
                    }
                },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printed_markdown_splits_into_headings_tables_and_lines() {
        let text = "\n### Middleware cost\n\n| scenario | req/s |\n|---|---:|\n| bare | 1,000 |\n| full | 900 |\n\nthroughput: the stack costs 10.0 %";
        assert_eq!(
            blocks(text),
            vec![
                Block::Heading("Middleware cost"),
                Block::Table(vec![
                    vec!["scenario", "req/s"],
                    vec!["bare", "1,000"],
                    vec!["full", "900"]
                ]),
                Block::Line("throughput: the stack costs 10.0 %"),
            ]
        );
    }

    #[test]
    fn the_committed_results_file_is_readable_and_each_run_names_its_command() {
        for run in runs() {
            assert!(run.command.starts_with("cargo xtask "), "{run:?}");
            assert!(!run.date.is_empty() && !run.output.is_empty(), "{run:?}");
        }
        assert_eq!(parse("not json"), Vec::new());
    }
}
