//! Running commands: echo them, fail with a clear message, and keep a started server from
//! outliving us.

use std::{
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

/// The workspace root (the parent of this crate's directory).
///
/// Read at run time first (`cargo xtask` sets it): two checkouts sharing one target
/// directory share one `xtask` binary, and the path compiled into it may be the other's.
pub fn root() -> PathBuf {
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from);
    manifest
        .parent()
        .expect("xtask lives inside the workspace")
        .to_path_buf()
}

/// Where the pinned tools the commands install live: `~/.cache/aion-tools/<name>` (or under
/// `XDG_CACHE_HOME`).
pub fn tools_dir(name: &str) -> PathBuf {
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    cache.join("aion-tools").join(name)
}

/// A Python tool pinned in the virtual environment `venv`: unless `bin --version` (or its
/// `version` subcommand, `version_arg`) already says `version`, makes the environment and
/// installs `pip_args` into it; the binary.
pub fn pip_tool(
    venv: &std::path::Path,
    bin: &str,
    version_arg: &str,
    version: &str,
    pip_args: &[&std::ffi::OsStr],
) -> Result<PathBuf, String> {
    let bin = venv.join("bin").join(bin);
    let says = || output(Command::new(&bin).arg(version_arg));
    if says().is_some_and(|v| v.contains(version)) {
        return Ok(bin);
    }
    run(Command::new("python3").arg("-m").arg("venv").arg(venv))?;
    run(Command::new(venv.join("bin").join("pip"))
        .args(["install", "--quiet", "--disable-pip-version-check"])
        .args(pip_args))?;
    match says() {
        Some(v) if v.contains(version) => Ok(bin),
        other => Err(format!(
            "{version} was installed but {} says {other:?}",
            bin.display()
        )),
    }
}

/// `--name value` pairs of a command's arguments, in order; an option without a value is an
/// error. Each command matches the names it knows.
pub fn option_pairs(args: &[String]) -> Result<Vec<(&str, String)>, String> {
    let mut pairs = Vec::new();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let value = it.next().ok_or_else(|| format!("{arg} needs a value"))?;
        pairs.push((arg.as_str(), value.clone()));
    }
    Ok(pairs)
}

/// Runs `cmd`, printing it first; an error if it cannot start or exits non-zero.
pub fn run(cmd: &mut Command) -> Result<(), String> {
    println!("$ {}", describe(cmd));
    let status = cmd
        .status()
        .map_err(|e| format!("cannot start `{}`: {e}", describe(cmd)))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{}` failed ({status})", describe(cmd)))
    }
}

/// Runs `cmd` quietly and returns its trimmed stdout, or `None` if it cannot run or fails.
pub fn output(cmd: &mut Command) -> Option<String> {
    let out = cmd.stderr(Stdio::null()).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for arg in cmd.get_args() {
        s.push(' ');
        s.push_str(&arg.to_string_lossy());
    }
    s
}

/// Removes the variables cargo sets for `cargo xtask` (such as `CARGO_MANIFEST_DIR`) from
/// `cmd`'s environment: Dioxus reads them at run time as a sign of development mode and then
/// links assets from the source tree instead of the bundle.
pub fn without_cargo_env(cmd: &mut Command) -> &mut Command {
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("CARGO") {
            cmd.env_remove(&key);
        }
    }
    cmd
}

/// A child process that is stopped (SIGTERM, then SIGKILL) when dropped, also on failure.
pub struct Guard {
    child: Child,
    name: &'static str,
}

impl Guard {
    /// Starts `cmd` (without cargo's variables, see [`without_cargo_env`]) and guards it.
    pub fn spawn(name: &'static str, cmd: &mut Command) -> Result<Self, String> {
        without_cargo_env(cmd);
        println!("$ {} &", describe(cmd));
        let child = cmd
            .spawn()
            .map_err(|e| format!("cannot start {name}: {e}"))?;
        Ok(Self { child, name })
    }

    /// The process id.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// An error if the process has already exited.
    pub fn ensure_running(&mut self) -> Result<(), String> {
        match self.child.try_wait() {
            Ok(Some(status)) => Err(format!("{} exited early ({status})", self.name)),
            _ => Ok(()),
        }
    }

    /// Stops the process: SIGTERM, up to 10 s to exit, then SIGKILL.
    pub fn stop(&mut self) {
        if matches!(self.child.try_wait(), Ok(Some(_))) {
            return;
        }
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                println!("{} stopped", self.name);
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        println!("{} killed after 10 s", self.name);
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        self.stop();
    }
}

impl Guard {
    /// Starts a server told to listen on port 0 and returns it with the port it bound, read
    /// from the `listening on http://ADDR` line it prints (within `timeout`). Picking a free
    /// port first and passing it on could race with another process taking it in between.
    /// The rest of the server's output is passed through.
    pub fn spawn_server(
        name: &'static str,
        cmd: &mut Command,
        timeout: Duration,
    ) -> Result<(Self, u16), String> {
        use std::io::{BufRead, BufReader};
        cmd.stdout(Stdio::piped());
        let mut guard = Self::spawn(name, cmd)?;
        let stdout = guard
            .child
            .stdout
            .take()
            .ok_or_else(|| format!("{name}: no stdout"))?;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut sent = false;
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                println!("{line}");
                if !sent && let Some(port) = port_in(&line) {
                    let _ = tx.send(port);
                    sent = true;
                }
            }
        });
        let deadline = Instant::now() + timeout;
        loop {
            match rx.recv_timeout(Duration::from_millis(100)) {
                Ok(port) => return Ok((guard, port)),
                Err(_) if Instant::now() > deadline => {
                    return Err(format!(
                        "{name} did not say where it listens within {timeout:?}"
                    ));
                }
                Err(_) => guard.ensure_running()?,
            }
        }
    }
}

/// The port in a `... listening on http://127.0.0.1:PORT` line.
fn port_in(line: &str) -> Option<u16> {
    let at = line.find("listening on http://")? + "listening on http://".len();
    let addr = line[at..].split_whitespace().next()?;
    addr.rsplit(':').next()?.trim_end_matches('/').parse().ok()
}

/// Polls `GET path` on 127.0.0.1:`port` until it answers 200, for at most `timeout`.
pub fn wait_for_http(
    port: u16,
    path: &str,
    timeout: Duration,
    server: &mut Guard,
) -> Result<(), String> {
    use std::io::{Read, Write};
    let deadline = Instant::now() + timeout;
    loop {
        server.ensure_running()?;
        if let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            let request =
                format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
            let mut reply = String::new();
            if stream.write_all(request.as_bytes()).is_ok()
                && stream.read_to_string(&mut reply).is_ok()
                && reply.starts_with("HTTP/1.1 200")
            {
                return Ok(());
            }
        }
        if Instant::now() > deadline {
            return Err(format!(
                "server did not answer GET {path} on port {port} within {timeout:?}"
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `GET path` on 127.0.0.1:`port`; the response body (HTTP/1.0, so no chunking).
pub fn http_get(port: u16, path: &str) -> Result<String, String> {
    match http_request(port, "GET", path, None)? {
        (200, body) => Ok(body),
        (status, _) => Err(format!("GET {path}: status {status}")),
    }
}

/// `method path` on 127.0.0.1:`port` with an optional JSON body; status and body (HTTP/1.0,
/// so no chunking).
pub fn http_request(
    port: u16,
    method: &str,
    path: &str,
    json: Option<&str>,
) -> Result<(u16, String), String> {
    http_exchange(port, method, path, json, None).map(|(status, _, body)| (status, body))
}

/// Like [`http_request`], with the response head (status line and headers) as well, and
/// one more request header (`Name: value`, such as a `Cookie`) sent if given.
pub fn http_exchange(
    port: u16,
    method: &str,
    path: &str,
    json: Option<&str>,
    header: Option<&str>,
) -> Result<(u16, String, String), String> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port))
        .map_err(|e| format!("cannot connect to port {port}: {e}"))?;
    let body = json.unwrap_or("");
    let kind = if json.is_some() {
        "Content-Type: application/json\r\n"
    } else {
        ""
    };
    let header = header.map(|h| format!("{h}\r\n")).unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n{kind}{header}Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream
        .write_all(request.as_bytes())
        .map_err(|e| e.to_string())?;
    let mut reply = String::new();
    stream
        .read_to_string(&mut reply)
        .map_err(|e| e.to_string())?;
    let (head, body) = reply
        .split_once("\r\n\r\n")
        .ok_or_else(|| format!("{method} {path}: no answer on port {port}"))?;
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("{method} {path}: {}", head.lines().next().unwrap_or("")))?;
    Ok((status, head.to_owned(), body.to_owned()))
}
