//! `cargo xtask bench-http --only accounts`: what accounts cost, on a release server with
//! the demo library, each figure beside its baseline in the same run:
//!
//! - cached public reads (the reader page and the JSON story) for a visitor and for a
//!   signed-in writer, alternating (target: signed-in ≥ 0.9× the visitor's throughput);
//! - `GET /api/me` for a signed-in writer (its session read through the cache);
//! - sign-up (one argon2id hash and one insert) and sign-in for a wrong password against
//!   an unknown handle, interleaved: the two medians should not differ by more than noise.

use std::time::{Duration, Instant};

use crate::{
    bench_server::{HEADER, load, row, start, story_paths},
    build,
    process::http_exchange,
    results::out,
};

const PASSWORD: &str = "correct horse battery staple";

/// Writers signed up, and failed sign-ins of each kind.
const WRITERS: usize = 40;

/// `POST path` with a JSON body; status, the `Set-Cookie` name=value pairs, and the time to
/// the answer (HTTP/1.0 on a fresh connection, as a browser's first request would be).
pub fn post(port: u16, path: &str, body: &str) -> Result<(u16, Vec<String>, Duration), String> {
    let started = Instant::now();
    let (status, head, _) = http_exchange(port, "POST", path, Some(body), None)?;
    let took = started.elapsed();
    let cookies = head
        .lines()
        .filter(|l| l.to_ascii_lowercase().starts_with("set-cookie:"))
        .filter_map(|l| l.split_once(':')?.1.trim().split(';').next())
        .map(str::to_owned)
        .collect();
    Ok((status, cookies, took))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

/// Runs the scenario.
pub fn accounts_scenario(bundle: &build::Bundle, seconds: f64) -> Result<(), String> {
    let server = start(bundle, &[])?;
    let port = server.port;
    let creds = |h: &str, p: &str| format!(r#"{{"handle":"{h}","password":"{p}"}}"#);

    // Sign-ups: one argon2id hash each. One writer per failed sign-in below, so that each
    // stays within its handle's attempt limit.
    let mut signups = Vec::new();
    let mut cookie = String::new();
    for i in 0..WRITERS {
        let (status, cookies, took) = post(
            port,
            "/api/account/signup",
            &creds(&format!("bench-w{i}"), PASSWORD),
        )?;
        if status != 201 {
            return Err(format!("sign-up answered {status}"));
        }
        signups.push(took.as_secs_f64() * 1e3);
        if i == 0 {
            cookie = cookies.join("; ");
        }
    }
    // Sign-ins that fail: a wrong password of a real writer, and a handle nobody has,
    // interleaved so that both see the same machine.
    let (mut wrong, mut unknown) = (Vec::new(), Vec::new());
    for i in 0..30 {
        let (s1, _, t1) = post(
            port,
            "/api/account/signin",
            &creds(&format!("bench-w{i}"), "not the password"),
        )?;
        let (s2, _, t2) = post(
            port,
            "/api/account/signin",
            &creds(&format!("nobody-{i}"), PASSWORD),
        )?;
        if (s1, s2) != (401, 401) {
            return Err(format!("failed sign-ins answered {s1} and {s2}"));
        }
        wrong.push(t1.as_secs_f64() * 1e3);
        unknown.push(t2.as_secs_f64() * 1e3);
    }
    let (w, u) = (median(wrong), median(unknown));
    out!("\n### Sign-up and sign-in (argon2id, m = 19 MiB, t = 8, p = 1), 40 each, sequential\n");
    out!("| what | median ms |\n|---|---:|");
    out!("| sign-up (hash + insert) | {:.1} |", median(signups));
    out!("| sign-in, wrong password | {w:.1} |");
    out!("| sign-in, unknown handle (dummy hash) | {u:.1} |");
    out!(
        "\nunknown / wrong = {:.3} (the same work: a difference here would tell handles apart)",
        u / w.max(1e-9)
    );

    // Cached public reads, visitor against signed-in writer, alternating.
    let stories = story_paths(port, "")?;
    let pages: Vec<String> = stories
        .iter()
        .map(|p| p.trim_start_matches("/api").to_owned())
        .collect();
    let browser = ["--header", "accept-encoding:br, gzip"];
    let signed = format!("cookie:{cookie}");
    let as_writer = [
        "--header",
        "accept-encoding:br, gzip",
        "--header",
        signed.as_str(),
    ];
    out!(
        "\n### Cached public reads: a visitor and a signed-in writer, 50 connections, alternating\n"
    );
    out!("{HEADER}");
    let mut ratios = Vec::new();
    for (name, paths) in [
        ("GET /stories/{id} (reader page)", &pages),
        ("GET /api/stories/{id} (JSON)", &stories),
    ] {
        load(port, paths, 8, 1.0, &browser)?; // fills the caches (a visitor's reads do)
        let (mut anon, mut writer) = (Vec::new(), Vec::new());
        for _ in 0..2 {
            let a = load(port, paths, 50, seconds, &browser)?;
            let s = load(port, paths, 50, seconds, &as_writer)?;
            out!("{}", row(&format!("{name}, visitor"), &a));
            out!("{}", row(&format!("{name}, signed in"), &s));
            anon.push(a["rps"].as_f64().unwrap_or(0.0));
            writer.push(s["rps"].as_f64().unwrap_or(0.0));
        }
        let r = writer.iter().sum::<f64>() / anon.iter().sum::<f64>().max(1e-9);
        ratios.push((name, r));
    }
    let me = load(port, &["/api/me".to_owned()], 50, seconds, &as_writer)?;
    out!(
        "{}",
        row("GET /api/me, signed in (session from the cache)", &me)
    );
    for (name, r) in ratios {
        out!("\n{name}: signed in / visitor = {r:.2} (target: at least 0.9)");
    }
    Ok(())
}
