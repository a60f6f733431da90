//! Server configuration: one struct read from the environment once, with defaults.
//!
//! Names follow dx's conventions (`IP`, `PORT`) and `AION_` for the rest. A value that does
//! not parse stops the server at start with the variable named, rather than running with a
//! surprise default.

use std::{net::IpAddr, net::SocketAddr, path::PathBuf, time::Duration};

/// Everything the server reads from its environment.
#[derive(Debug, Clone)]
pub struct AppConfig {
    /// Where to listen (`IP`, `PORT`; default 127.0.0.1:8080).
    pub addr: SocketAddr,
    /// The libsql database file (`AION_DB_PATH`, default `data/aion.db`); with
    /// `AION_DB_URL`, the local copy of the server's database.
    pub db_path: PathBuf,
    /// A libsql server that owns the database, for instances on several hosts
    /// (`AION_DB_URL`, `http(s)://` or `libsql://`; `AION_DB_AUTH_TOKEN`; `AION_DB_SYNC_MS`,
    /// default 1,000, how often the local copy pulls other hosts' writes, 0 = only after
    /// this instance's own). Unset: the file is the database. See SCALING.md.
    pub db_primary: Option<server::store::Primary>,
    /// Token for `/api/admin/*` (`AION_ADMIN_TOKEN`); admin endpoints are closed without one.
    pub admin_token: Option<String>,
    /// Background task workers (`AION_WORKERS`, default 4).
    pub workers: usize,
    /// Read requests per minute per client (`AION_RATE_LIMIT_PER_MINUTE`, 0 = off).
    pub read_rate_per_minute: u32,
    /// Read burst (`AION_RATE_LIMIT_BURST`).
    pub read_rate_burst: u32,
    /// Write requests per minute per client (`AION_WRITE_RATE_LIMIT_PER_MINUTE`, 0 = off).
    pub write_rate_per_minute: u32,
    /// Write burst (`AION_WRITE_RATE_LIMIT_BURST`).
    pub write_rate_burst: u32,
    /// Seed demo stories into an empty database (`AION_SEED_DEMO`, default on).
    pub seed_demo: bool,
    /// How many demo stories get a generated cover (`AION_DEMO_COVERS`, default 24; the
    /// benchmarks set 0 so that no encoding runs beside their load).
    pub demo_covers: usize,
    /// How long in-flight requests may run after a shutdown signal (`AION_SHUTDOWN_GRACE_MS`).
    pub shutdown_grace: Duration,
    /// Serve reads through the tiered cache (`AION_CACHE`, default on; off for comparisons).
    pub cache_enabled: bool,
    /// Keep server-rendered pages in the response cache (`AION_PAGE_CACHE`, default on; off
    /// for comparisons: pages are then rendered for every request).
    pub page_cache: bool,
    /// Redis shared by several instances (`AION_REDIS_URL`, e.g. `redis://127.0.0.1:6379/`;
    /// unset: one instance, nothing shared). See SCALING.md.
    pub redis_url: Option<String>,
    /// With Redis, keep a cache tier there that every instance reads and fills
    /// (`AION_SHARED_CACHE`, default on; off for comparisons: then only invalidations, rate
    /// limits and live events are shared).
    pub shared_cache: bool,
    /// Most-read stories loaded into the cache at start (`AION_CACHE_WARM_STORIES`, default 50).
    pub cache_warm_stories: usize,
    /// Header a trusted reverse proxy sets with the client address, e.g. `x-forwarded-for`
    /// (`AION_TRUSTED_PROXY_HEADER`; unset: the TCP peer is the client).
    pub trusted_proxy_header: Option<String>,
    /// The proxies whose header is believed (`AION_TRUSTED_PROXIES`, CIDRs or addresses,
    /// comma-separated; default loopback, where `cargo xtask cluster` runs HAProxy).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Longest time to a response head, in seconds (`AION_REQUEST_TIMEOUT_SECS`, default 30).
    pub request_timeout_secs: u64,
    /// Longest time to receive a request head; slower (or silent, or idle kept-alive)
    /// connections are closed (`AION_HEADER_TIMEOUT_SECS`, default 10).
    pub header_timeout_secs: u64,
    /// Most HTTP connections open at once; more get a 503 and are closed
    /// (`AION_MAX_CONNECTIONS`, default 4,096, lowered to the open-file limit less 256).
    pub max_connections: u64,
    /// Live-event streams one session (a writer: every session of the account) may hold open
    /// (`AION_EVENT_STREAMS_PER_SESSION`, 16).
    pub event_streams_per_session: usize,
    /// Live-event streams one client address may hold open
    /// (`AION_EVENT_STREAMS_PER_ADDRESS`, 64).
    pub event_streams_per_address: usize,
    /// Seconds a live-event stream stays open before the server ends it and the browser
    /// opens another (`AION_EVENT_STREAM_MAX_SECS`, 300).
    pub event_stream_max_secs: u64,
    /// Requests slower than this many milliseconds are logged (`AION_SLOW_REQUEST_MS`, 1000).
    pub slow_request_ms: u64,
    /// How long a task claim holds without a heartbeat (`AION_TASK_LEASE_SECS`, default 30).
    pub task_lease_secs: u64,
    /// Pending tasks beyond which new ones are refused with 503 (`AION_TASK_MAX_PENDING`, 1000).
    pub task_max_pending: u64,
    /// Of those, the places only an operator's tasks may take
    /// (`AION_TASK_RESERVED_PENDING`, 50, at most half of `AION_TASK_MAX_PENDING`).
    pub task_reserved_pending: u64,
    /// Pending tasks one client session (a writer: its account) may have at once; more are
    /// refused with 429 (`AION_TASK_MAX_PENDING_PER_CALLER`, 20, 0 = no bound).
    pub task_max_pending_per_caller: u64,
    /// Finished tasks and their files are kept this long (`AION_TASK_RETENTION_SECS`, 3600).
    pub task_retention_secs: u64,
    /// Where exports and reports are written (`AION_FILES_DIR`, default `files/` next to the
    /// database).
    pub files_dir: PathBuf,
    /// Where backups are written (`AION_BACKUP_DIR`, default `backups/` next to the database).
    pub backup_dir: PathBuf,
    /// Backups kept; older ones are deleted (`AION_BACKUP_KEEP`, default 5).
    pub backup_keep: usize,
    /// Seconds between scheduled backups, one per interval however many instances keep the
    /// schedule (`AION_BACKUP_EVERY_SECS`; default 3,600 with `AION_DB_URL`, where they are
    /// the way back after a disaster, else 0: off, Litestream's job).
    pub backup_every_secs: u64,
    /// A TrueType font (or collection) covering Chinese and Latin for PDF exports
    /// (`AION_PDF_FONT`, default: WenQuanYi Micro Hei from fonts-wqy-microhei).
    pub pdf_font: PathBuf,
    /// Litestream replicates the database (`AION_LITESTREAM_BIN`, the binary, and
    /// `AION_LITESTREAM_SOCKET`, its control socket; both or neither). Set by the project's
    /// commands when `AION_REPLICA_URL` is; the store then leaves checkpoints to Litestream
    /// and the replica is watched.
    pub litestream: Option<Litestream>,
    /// Milliseconds between the dashboard's history points (`AION_HISTORY_SAMPLE_MS`, 5,000).
    pub history_sample_ms: u64,
    /// Milliseconds per persisted history point, kept 7 days (`AION_HISTORY_ROLLUP_MS`,
    /// 60,000).
    pub history_rollup_ms: u64,
    /// The sign-in cookie is `Secure` and named with the `__Host-` prefix
    /// (`AION_COOKIE_SECURE`, default on). Browsers keep such cookies from `https://` and
    /// from `http://localhost` or `127.0.0.1` only: a deployment reached over plain HTTP on
    /// another name must terminate TLS in front, or turn this off (and accept that the
    /// cookie travels in the clear).
    pub cookie_secure: bool,
    /// Origins besides the server's own whose browser pages may write
    /// (`AION_ALLOWED_ORIGINS`, comma-separated, e.g. `https://aion.example`).
    pub allowed_origins: Vec<String>,
    /// Nodes one story may hold (`AION_STORY_MAX_NODES`, 50,000).
    pub story_max_nodes: u64,
    /// Bytes of node text one story may hold (`AION_STORY_MAX_BYTES`, 64 MiB).
    pub story_max_bytes: u64,
    /// Nodes `GET /api/stories/{id}/tree` without parameters answers in one piece at most
    /// (`AION_TREE_WHOLE_MAX_NODES`, 5,000; and 2 MiB of text): a larger story comes in
    /// pages.
    pub tree_whole_max_nodes: u32,
    /// Memory that decoding and encoding images may hold at once, in MiB
    /// (`AION_IMAGE_MEMORY_MB`, 512): see `media::budget`.
    pub image_memory_mb: u32,
    /// The site's address as browsers see it, the relying party of passkeys
    /// (`AION_PASSKEY_ORIGIN`, default `http://localhost`, which serves every port). It
    /// must be a domain name: browsers refuse passkeys on IP addresses.
    pub passkey_origin: String,
}

/// Where the Litestream replicating this database is.
#[derive(Debug, Clone)]
pub struct Litestream {
    /// The `litestream` binary.
    pub bin: PathBuf,
    /// Its control socket.
    pub socket: PathBuf,
    /// Time between replica checks (`AION_REPLICA_CHECK_MS`, default 5,000).
    pub check_every: Duration,
}

/// A variable that is set but cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("environment variable {name}={value:?} is invalid: {why}")]
pub struct ConfigError {
    name: &'static str,
    value: String,
    why: String,
}

impl AppConfig {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads configuration through `lookup` (the environment, or a map in tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Env(&lookup);
        let ip: IpAddr = env.parse("IP", "127.0.0.1".parse().expect("literal address"))?;
        let port: u16 = env.parse("PORT", 8080)?;
        let db_path = env
            .get("AION_DB_PATH")
            .map_or_else(|| PathBuf::from("data/aion.db"), PathBuf::from);
        Ok(Self {
            addr: SocketAddr::new(ip, port),
            admin_token: env.get("AION_ADMIN_TOKEN").filter(|t| !t.is_empty()),
            workers: env.parse("AION_WORKERS", 4)?,
            read_rate_per_minute: env.parse("AION_RATE_LIMIT_PER_MINUTE", 600)?,
            read_rate_burst: env.parse("AION_RATE_LIMIT_BURST", 100)?,
            write_rate_per_minute: env.parse("AION_WRITE_RATE_LIMIT_PER_MINUTE", 60)?,
            write_rate_burst: env.parse("AION_WRITE_RATE_LIMIT_BURST", 10)?,
            seed_demo: env.flag("AION_SEED_DEMO", true)?,
            demo_covers: env.parse("AION_DEMO_COVERS", 24)?,
            shutdown_grace: Duration::from_millis(env.parse("AION_SHUTDOWN_GRACE_MS", 5_000)?),
            cache_enabled: env.flag("AION_CACHE", true)?,
            page_cache: env.flag("AION_PAGE_CACHE", true)?,
            redis_url: env.get("AION_REDIS_URL").filter(|u| !u.is_empty()),
            shared_cache: env.flag("AION_SHARED_CACHE", true)?,
            cache_warm_stories: env.parse("AION_CACHE_WARM_STORIES", 50)?,
            trusted_proxy_header: env
                .get("AION_TRUSTED_PROXY_HEADER")
                .filter(|h| !h.is_empty()),
            trusted_proxies: trusted_proxies(&env)?,
            request_timeout_secs: env.parse("AION_REQUEST_TIMEOUT_SECS", 30)?,
            header_timeout_secs: env.parse("AION_HEADER_TIMEOUT_SECS", 10)?,
            max_connections: env.parse("AION_MAX_CONNECTIONS", 4_096)?,
            event_streams_per_session: env.parse("AION_EVENT_STREAMS_PER_SESSION", 16)?,
            event_streams_per_address: env.parse("AION_EVENT_STREAMS_PER_ADDRESS", 64)?,
            event_stream_max_secs: env.parse("AION_EVENT_STREAM_MAX_SECS", 300)?,
            slow_request_ms: env.parse("AION_SLOW_REQUEST_MS", 1_000)?,
            task_lease_secs: env.parse("AION_TASK_LEASE_SECS", 30)?,
            task_max_pending: env.parse("AION_TASK_MAX_PENDING", 1_000)?,
            task_reserved_pending: env.parse("AION_TASK_RESERVED_PENDING", 50)?,
            task_max_pending_per_caller: env.parse("AION_TASK_MAX_PENDING_PER_CALLER", 20)?,
            task_retention_secs: env.parse("AION_TASK_RETENTION_SECS", 3_600)?,
            files_dir: env
                .get("AION_FILES_DIR")
                .map_or_else(|| beside(&db_path, "files"), PathBuf::from),
            backup_dir: env
                .get("AION_BACKUP_DIR")
                .map_or_else(|| beside(&db_path, "backups"), PathBuf::from),
            backup_keep: env.parse("AION_BACKUP_KEEP", 5)?,
            backup_every_secs: env.parse(
                "AION_BACKUP_EVERY_SECS",
                if env.get("AION_DB_URL").is_some_and(|u| !u.is_empty()) {
                    3_600
                } else {
                    0
                },
            )?,
            pdf_font: env.get("AION_PDF_FONT").map_or_else(
                || PathBuf::from("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
                PathBuf::from,
            ),
            litestream: litestream(&env)?,
            history_sample_ms: env.parse("AION_HISTORY_SAMPLE_MS", 5_000)?,
            history_rollup_ms: env.parse("AION_HISTORY_ROLLUP_MS", 60_000)?,
            db_primary: db_primary(&env)?,
            db_path,
            cookie_secure: env.flag("AION_COOKIE_SECURE", true)?,
            allowed_origins: env
                .get("AION_ALLOWED_ORIGINS")
                .map(|list| {
                    list.split(',')
                        .map(|o| o.trim().trim_end_matches('/').to_ascii_lowercase())
                        .filter(|o| !o.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
            image_memory_mb: env.parse("AION_IMAGE_MEMORY_MB", 512)?,
            story_max_nodes: env.parse("AION_STORY_MAX_NODES", 50_000)?,
            story_max_bytes: env.parse("AION_STORY_MAX_BYTES", 64 * 1024 * 1024)?,
            tree_whole_max_nodes: env.parse("AION_TREE_WHOLE_MAX_NODES", 5_000)?,
            passkey_origin: env
                .get("AION_PASSKEY_ORIGIN")
                .unwrap_or_else(|| "http://localhost".into()),
        })
    }

    /// Logs the configuration once, without secrets.
    pub fn log(&self) {
        tracing::info!(
            addr = %self.addr,
            db_path = %self.db_path.display(),
            db_primary = self.db_primary.as_ref().map_or("none (the file is the database)", |p| p.url()),
            admin_token = if self.admin_token.is_some() { "set" } else { "unset (admin endpoints closed)" },
            workers = self.workers,
            read_rate = format!("{}/min burst {}", self.read_rate_per_minute, self.read_rate_burst),
            write_rate = format!("{}/min burst {}", self.write_rate_per_minute, self.write_rate_burst),
            seed_demo = self.seed_demo,
            demo_covers = self.demo_covers,
            cache = self.cache_enabled,
            page_cache = self.page_cache,
            redis = if self.redis_url.is_some() { "set" } else { "unset (one instance)" },
            shared_cache = self.redis_url.is_some() && self.shared_cache,
            cache_warm_stories = self.cache_warm_stories,
            task_lease_secs = self.task_lease_secs,
            task_max_pending = self.task_max_pending,
            files_dir = %self.files_dir.display(),
            backup_dir = %self.backup_dir.display(),
            backup_every_secs = self.backup_every_secs,
            replication = if self.litestream.is_some() { "litestream" } else { "off" },
            "configuration"
        );
    }
}

/// A directory next to the database file.
fn beside(db_path: &std::path::Path, name: &str) -> PathBuf {
    db_path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from(name), |p| p.join(name))
}

/// `AION_TRUSTED_PROXIES`: networks (`10.0.0.0/8`) or single addresses (`10.0.0.7`).
fn trusted_proxies(env: &Env<'_>) -> Result<Vec<ipnet::IpNet>, ConfigError> {
    let value = env
        .get("AION_TRUSTED_PROXIES")
        .unwrap_or_else(|| "127.0.0.0/8,::1/128".to_owned());
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<ipnet::IpNet>()
                .or_else(|_| s.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| ConfigError {
                    name: "AION_TRUSTED_PROXIES",
                    value: value.clone(),
                    why: format!("{s:?} is neither an address nor a network like 10.0.0.0/8"),
                })
        })
        .collect()
}

/// `AION_LITESTREAM_BIN` and `AION_LITESTREAM_SOCKET`: both or neither.
fn litestream(env: &Env<'_>) -> Result<Option<Litestream>, ConfigError> {
    Ok(
        match (
            env.get("AION_LITESTREAM_BIN"),
            env.get("AION_LITESTREAM_SOCKET"),
        ) {
            (Some(bin), Some(socket)) => Some(Litestream {
                bin: bin.into(),
                socket: socket.into(),
                check_every: Duration::from_millis(
                    env.parse("AION_REPLICA_CHECK_MS", 5_000u64)?.max(100),
                ),
            }),
            (None, None) => None,
            (Some(bin), None) => {
                return Err(ConfigError {
                    name: "AION_LITESTREAM_BIN",
                    value: bin,
                    why: "AION_LITESTREAM_SOCKET must be set with it".into(),
                });
            }
            (None, Some(socket)) => {
                return Err(ConfigError {
                    name: "AION_LITESTREAM_SOCKET",
                    value: socket,
                    why: "AION_LITESTREAM_BIN must be set with it".into(),
                });
            }
        },
    )
}

/// `AION_DB_URL` (with its token and sync interval): the store as an embedded replica.
fn db_primary(env: &Env<'_>) -> Result<Option<server::store::Primary>, ConfigError> {
    Ok(match env.get("AION_DB_URL").filter(|u| !u.is_empty()) {
        None => None,
        Some(url) => {
            let mut primary =
                server::store::Primary::parse(&url, env.get("AION_DB_AUTH_TOKEN").as_deref())
                    .map_err(|why| ConfigError {
                        name: "AION_DB_URL",
                        value: url.clone(),
                        why,
                    })?;
            let sync_ms: u64 = env.parse("AION_DB_SYNC_MS", 1_000)?;
            primary.sync_interval = (sync_ms > 0).then(|| Duration::from_millis(sync_ms));
            if env.get("AION_LITESTREAM_BIN").is_some() {
                return Err(ConfigError {
                    name: "AION_DB_URL",
                    value: url,
                    why: "a replica of a libsql server is backed up by that server, not by Litestream (unset AION_LITESTREAM_BIN)".into(),
                });
            }
            Some(primary)
        }
    })
}

struct Env<'a>(&'a dyn Fn(&str) -> Option<String>);

impl Env<'_> {
    fn get(&self, name: &str) -> Option<String> {
        (self.0)(name).map(|v| v.trim().to_owned())
    }

    fn parse<T: std::str::FromStr>(&self, name: &'static str, default: T) -> Result<T, ConfigError>
    where
        T::Err: std::fmt::Display,
    {
        match self.get(name) {
            None => Ok(default),
            Some(value) if value.is_empty() => Ok(default),
            Some(value) => value.parse().map_err(|e: T::Err| ConfigError {
                name,
                why: e.to_string(),
                value,
            }),
        }
    }

    fn flag(&self, name: &'static str, default: bool) -> Result<bool, ConfigError> {
        match self.get(name).as_deref() {
            None | Some("") => Ok(default),
            Some("1" | "true" | "yes" | "on") => Ok(true),
            Some("0" | "false" | "no" | "off") => Ok(false),
            Some(other) => Err(ConfigError {
                name,
                value: other.to_owned(),
                why: "expected one of 1/0, true/false, yes/no, on/off".into(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<AppConfig, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        AppConfig::from_lookup(move |k| map.get(k).cloned())
    }

    #[test]
    fn defaults_match_the_readme() {
        let defaults = format!("{:?}", config(&[]).expect("defaults are valid"));
        let readme = include_str!("../../../README.md");
        let mut checked = 0;
        for row in readme.lines().filter(|l| l.starts_with("| `")) {
            let cells: Vec<&str> = row.split(" | ").collect();
            let (Some(names), Some(values)) = (cells.first(), cells.get(1)) else {
                continue;
            };
            let names: Vec<&str> = names
                .split(" / ")
                .map(|n| n.trim_matches(['|', ' ', '`']))
                .collect();
            if !names
                .iter()
                .all(|n| *n == "IP" || *n == "PORT" || n.starts_with("AION_"))
            {
                continue;
            }
            for (name, value) in names.iter().zip(values.split(" / ")) {
                // Only literal defaults (`4096`); "unset" and prose are not values.
                let Some(value) = value
                    .trim()
                    .strip_prefix('`')
                    .and_then(|v| v.strip_suffix('`'))
                else {
                    continue;
                };
                let with = config(&[(name, value)])
                    .unwrap_or_else(|e| panic!("README's default of {name} is not valid: {e}"));
                assert_eq!(
                    format!("{with:?}"),
                    defaults,
                    "README says {name} defaults to {value:?}, but setting it changes the configuration"
                );
                checked += 1;
            }
        }
        assert!(
            checked >= 35,
            "only {checked} defaults found in the README's table"
        );
        // Every variable the configuration reads is in the table.
        let source = include_str!("config.rs");
        for name in source
            .split('"')
            .filter(|s| s.starts_with("AION_") && !s.ends_with('_'))
            .filter(|s| s.chars().all(|c| c.is_ascii_uppercase() || c == '_'))
        {
            assert!(
                readme.contains(&format!("`{name}`")),
                "{name} is read but not in the README"
            );
        }
    }

    #[test]
    fn trusted_proxies_are_networks_or_addresses_and_default_to_loopback() {
        let c = config(&[]).expect("defaults are valid");
        let loopback: std::net::IpAddr = "127.0.0.1".parse().expect("ip");
        assert!(c.trusted_proxies.iter().any(|n| n.contains(&loopback)));
        let c = config(&[("AION_TRUSTED_PROXIES", "10.0.0.0/8, 192.0.2.7")]).expect("valid");
        let proxy: std::net::IpAddr = "192.0.2.7".parse().expect("ip");
        assert!(c.trusted_proxies.iter().any(|n| n.contains(&proxy)));
        assert!(!c.trusted_proxies.iter().any(|n| n.contains(&loopback)));
        let err = config(&[("AION_TRUSTED_PROXIES", "10.0.0.0/33")]).expect_err("bad network");
        assert!(err.to_string().contains("AION_TRUSTED_PROXIES"), "{err}");
    }

    #[test]
    fn a_bad_value_names_the_variable() {
        let err = config(&[("PORT", "eighty")]).expect_err("not a port");
        assert!(err.to_string().contains("PORT"), "{err}");
        let err = config(&[("AION_SEED_DEMO", "maybe")]).expect_err("not a flag");
        assert!(err.to_string().contains("AION_SEED_DEMO"), "{err}");
    }

    #[test]
    fn values_are_read() {
        let c = config(&[
            ("IP", "0.0.0.0"),
            ("PORT", "9000"),
            ("AION_DB_PATH", "/tmp/x.db"),
            ("AION_SEED_DEMO", "0"),
            ("AION_ADMIN_TOKEN", "s3cret"),
        ])
        .expect("valid");
        assert_eq!(c.addr.to_string(), "0.0.0.0:9000");
        assert_eq!(c.db_path, PathBuf::from("/tmp/x.db"));
        assert!(!c.seed_demo);
        assert_eq!(c.admin_token.as_deref(), Some("s3cret"));
        assert!(c.db_primary.is_none());
    }

    #[test]
    fn a_libsql_server_is_named_by_url_with_its_token_kept_out_of_logs() {
        let c = config(&[
            ("AION_DB_URL", "libsql://aion.example.org"),
            ("AION_DB_AUTH_TOKEN", "tok-123"),
            ("AION_DB_SYNC_MS", "250"),
        ])
        .expect("valid");
        let primary = c.db_primary.as_ref().expect("set");
        assert_eq!(primary.url(), "libsql://aion.example.org");
        assert_eq!(primary.sync_interval, Some(Duration::from_millis(250)));
        assert!(!format!("{c:?}").contains("tok-123"));
        let err = config(&[("AION_DB_URL", "mysql://db")]).expect_err("unsupported");
        assert!(err.to_string().contains("AION_DB_URL"), "{err}");
        let err = config(&[
            ("AION_DB_URL", "http://127.0.0.1:8081"),
            ("AION_LITESTREAM_BIN", "litestream"),
            ("AION_LITESTREAM_SOCKET", "ls.sock"),
        ])
        .expect_err("two owners of backups");
        assert!(err.to_string().contains("Litestream"), "{err}");
    }
}
