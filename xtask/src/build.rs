//! Building the release app with dx and running it.

use std::{path::PathBuf, process::Command};

use crate::process::{root, run, without_cargo_env};
use crate::setup;

/// Where dx put a release build: `public/` (client) and `server` (binary).
pub struct Bundle {
    /// The directory holding both.
    pub dir: PathBuf,
}

impl Bundle {
    /// The server binary.
    pub fn server(&self) -> PathBuf {
        self.dir.join("server")
    }

    /// The client files.
    pub fn public(&self) -> PathBuf {
        self.dir.join("public")
    }
}

/// Cargo's target directory (honours `CARGO_TARGET_DIR`).
pub fn target_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        let dir = PathBuf::from(dir);
        return if dir.is_absolute() {
            dir
        } else {
            root().join(dir)
        };
    }
    root().join("target")
}

/// The release bundle's location, built or not.
pub fn bundle() -> Bundle {
    Bundle {
        dir: target_dir().join("dx/app/release/web"),
    }
}

/// Builds client and server in release mode.
pub fn release() -> Result<Bundle, String> {
    let bundle = bundle();
    // A server from this build still running keeps its binary busy, and dx would fail deep
    // inside with "Text file busy" and a backtrace: say what to do instead.
    not_running(&bundle.server())?;
    // dx never deletes old hashed assets: start from an empty public/ so sizes and the
    // served files are exactly this build's.
    let _ = std::fs::remove_dir_all(bundle.public());
    run(Command::new("dx")
        .args([
            "build",
            "--package",
            "app",
            "--web",
            "--fullstack",
            "--release",
            "--debug-symbols",
            "false",
        ])
        .current_dir(root())
        .env("NO_DOWNLOADS", "1"))?;
    if !bundle.server().is_file() || !bundle.public().is_dir() {
        return Err(format!(
            "dx finished but {} has no server binary and public/ directory",
            bundle.dir.display()
        ));
    }
    Ok(bundle)
}

/// Fails, saying so, when `binary` is a program that is running now (Linux refuses to
/// replace it: `ETXTBSY`).
pub fn not_running(binary: &std::path::Path) -> Result<(), String> {
    const ETXTBSY: i32 = 26;
    match std::fs::OpenOptions::new().write(true).open(binary) {
        Err(e) if e.raw_os_error() == Some(ETXTBSY) => Err(format!(
            "{} is running (a server from this build: `cargo xtask run` in another terminal, or a test \
             server left behind); stop it first (`pkill -f {}`), then build again",
            binary.display(),
            binary.display()
        )),
        _ => Ok(()),
    }
}

/// `cargo xtask run`: install what is missing, build, serve on IP:PORT (default 127.0.0.1:8080).
pub fn run_app() -> Result<(), String> {
    setup::ensure(setup::Needs::default())?;
    let bundle = release()?;
    let data = root().join("data");
    std::fs::create_dir_all(&data).map_err(|e| format!("cannot create {}: {e}", data.display()))?;
    println!(
        "serving on http://{}:{} (Ctrl-C stops it)",
        env_or("IP", "127.0.0.1"),
        env_or("PORT", "8080")
    );
    // The server runs from the workspace root so that the default AION_DB_PATH (data/aion.db)
    // lands in ./data.
    match std::env::var("AION_REPLICA_URL") {
        Ok(url) if !url.is_empty() => run_replicated(&bundle, &data, &url),
        _ => run(without_cargo_env(&mut Command::new(bundle.server())).current_dir(root())),
    }
}

/// The server under Litestream (`litestream replicate -exec server`): Litestream starts the
/// server, forwards Ctrl-C / SIGTERM to it, and syncs a last time after it exits.
fn run_replicated(bundle: &Bundle, data: &std::path::Path, url: &str) -> Result<(), String> {
    let litestream = crate::litestream::ensure()?;
    let db = root().join(env_or("AION_DB_PATH", "data/aion.db"));
    let socket = data.join("litestream.sock");
    let _ = std::fs::remove_file(&socket);
    let config = data.join("litestream.yml");
    let yaml = crate::litestream::Replication {
        db: &db,
        replica_url: url,
        sync_interval: &env_or("AION_REPLICA_SYNC_INTERVAL", "1s"),
        socket: &socket,
    }
    .config();
    std::fs::write(&config, yaml).map_err(|e| format!("cannot write {}: {e}", config.display()))?;
    println!("replicating {} to {url} (Litestream)", db.display());
    let exec = format!("\"{}\"", bundle.server().display());
    run(without_cargo_env(&mut Command::new(&litestream))
        .arg("replicate")
        .arg("-config")
        .arg(&config)
        .args(["-exec", &exec])
        .env("AION_DB_PATH", &db)
        .env("AION_LITESTREAM_BIN", &litestream)
        .env("AION_LITESTREAM_SOCKET", &socket)
        .current_dir(root()))
}

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

/// `cargo xtask seed ...`: the release server binary's `seed` command.
pub fn seed(args: &[String]) -> Result<(), String> {
    setup::ensure(setup::Needs::default())?;
    let bundle = release()?;
    run(without_cargo_env(&mut Command::new(bundle.server()))
        .arg("seed")
        .args(args)
        .current_dir(root()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_running_build_is_named_instead_of_failing_inside_dx() {
        let dir = std::env::temp_dir().join(format!("xtask-busy-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let copy = dir.join("sleeper");
        std::fs::copy("/bin/sleep", &copy).expect("copy of sleep");
        assert!(not_running(&copy).is_ok(), "not running yet");
        let mut child = Command::new(&copy).arg("30").spawn().expect("spawned");
        let busy = not_running(&copy);
        let _ = child.kill();
        let _ = child.wait();
        let _ = std::fs::remove_dir_all(&dir);
        let message = busy.expect_err("running");
        assert!(
            message.contains("is running") && message.contains("stop it first"),
            "{message}"
        );
    }
}
