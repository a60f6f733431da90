//! Serving an axum router on a TCP listener we own.
//!
//! Three decisions shape this file. Every accepted socket gets `TCP_NODELAY`: without it a
//! streamed server-rendered page on a keep-alive connection waits for the peer's delayed ACK
//! (~40 ms per response, measured). Connections are served by hyper's HTTP/1.1 server
//! directly, with a timer, so that a client that sends its request head slowly (a byte a
//! second) or not at all is closed after [`ServeOptions::header_timeout`]: axum's own
//! `serve` sets no timer, and such a connection then stayed open for ever. (HTTP/1.1 only:
//! browsers speak HTTP/2 only over TLS, which a reverse proxy in front terminates, and
//! hyper's protocol detection for cleartext HTTP/2 waits for a first byte without any
//! timeout.) And shutdown is graceful but bounded: on
//! SIGINT/SIGTERM the listener stops accepting, open connections finish what they are doing
//! within a grace period, and then we return even if a long-lived stream (server-sent
//! events) is still open.
//!
//! Open connections are capped ([`ServeOptions::max_connections`]): past the cap a new
//! connection is answered at once with a short 503 (`Retry-After: 1`) written straight to
//! the socket and closed, and counted. Without a cap one client holding streams open used
//! up the process's file descriptors, after which `accept()` failed in a loop and the
//! store and exports could not open files either.

use std::{
    future::Future,
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering::Relaxed},
    },
    time::Duration,
};

use axum::{Router, body::Body, extract::ConnectInfo};
use hyper::body::Incoming;
use hyper_util::{
    rt::{TokioIo, TokioTimer},
    server::graceful::GracefulShutdown,
    service::TowerToHyperService,
};
use tokio::net::TcpListener;
use tower::ServiceExt;

/// Why serving stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The address could not be bound (in use, or not a local address).
    #[error(
        "cannot listen on {addr}: {source} (is another server using that port? set PORT to another one)"
    )]
    Bind {
        /// The address we tried to bind.
        addr: SocketAddr,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// The accept loop failed.
    #[error("server stopped: {0}")]
    Io(#[from] std::io::Error),
}

/// Connections open in this process, over every listener.
static OPEN_CONNECTIONS: AtomicU64 = AtomicU64::new(0);

/// Connections refused because [`ServeOptions::max_connections`] were open.
static REFUSED_CONNECTIONS: AtomicU64 = AtomicU64::new(0);

/// How many HTTP connections this process has open now (all listeners together).
pub fn open_connections() -> u64 {
    OPEN_CONNECTIONS.load(Relaxed)
}

/// The connection cap of the listener started last (0 before one starts).
static MAX_CONNECTIONS: AtomicU64 = AtomicU64::new(0);

/// The connection cap in force (of the listener started last; 0 before one starts).
pub fn max_connections() -> u64 {
    MAX_CONNECTIONS.load(Relaxed)
}

/// How many connections were refused for being past the cap, since start.
pub fn refused_connections() -> u64 {
    REFUSED_CONNECTIONS.load(Relaxed)
}

/// What a connection past the cap reads before it is closed.
const REFUSAL: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\n\
content-type: application/json\r\n\
retry-after: 1\r\n\
connection: close\r\n\
content-length: 94\r\n\
\r\n\
{\"error\":{\"code\":\"too_many_connections\",\"message\":\"the server has too many open connections\"}}";

/// Counts a connection as open, in the process and on its listener, until dropped.
struct OpenConnection(Arc<AtomicU64>);

impl OpenConnection {
    fn new(listener: &Arc<AtomicU64>) -> Self {
        OPEN_CONNECTIONS.fetch_add(1, Relaxed);
        listener.fetch_add(1, Relaxed);
        Self(listener.clone())
    }
}

impl Drop for OpenConnection {
    fn drop(&mut self) {
        OPEN_CONNECTIONS.fetch_sub(1, Relaxed);
        self.0.fetch_sub(1, Relaxed);
    }
}

/// The largest request head (and read buffer) a connection gets.
pub const MAX_HEAD_BYTES: usize = 64 * 1024;

/// How connections are served.
#[derive(Debug, Clone, Copy)]
pub struct ServeOptions {
    /// After a shutdown signal, how long open connections may finish.
    pub grace: Duration,
    /// Longest time to receive a request head, from the connection's start or from the end of
    /// the previous response on a kept-alive connection; the connection is closed after it.
    pub header_timeout: Duration,
    /// Most connections open at once; past it new ones get a 503 and are closed. Never more
    /// than the process's file descriptor limit less [`FDS_KEPT`] (see [`connection_cap`]).
    pub max_connections: u64,
}

impl Default for ServeOptions {
    fn default() -> Self {
        Self {
            grace: Duration::from_secs(5),
            header_timeout: Duration::from_secs(10),
            max_connections: 4_096,
        }
    }
}

/// File descriptors kept for everything but connections: the store, its WAL, exports,
/// backups, Redis and the task files.
pub const FDS_KEPT: u64 = 256;

/// The cap that applies: `wanted`, lowered so that connections alone cannot use up the
/// file descriptors the process may open (`limit`, its soft limit; `None`: unlimited).
pub fn connection_cap(wanted: u64, limit: Option<u64>) -> u64 {
    limit.map_or(wanted, |l| wanted.min(l.saturating_sub(FDS_KEPT).max(1)))
}

/// Binds `addr`, then serves `router` until `shutdown` resolves.
///
/// `on_ready` is called with the bound address once the socket accepts connections (useful
/// when `addr` asks for port 0). After `shutdown` resolves, requests already in flight get
/// `options.grace` to finish. Handlers see the peer as `ConnectInfo<SocketAddr>`.
///
/// ```no_run
/// # async fn demo() -> Result<(), server::http::ServeError> {
/// let router = axum::Router::new().route("/", axum::routing::get(|| async { "hi" }));
/// server::http::serve(
///     "127.0.0.1:0".parse().unwrap(),
///     router,
///     |addr| println!("listening on {addr}"),
///     server::http::shutdown_signal(),
///     server::http::ServeOptions::default(),
/// )
/// .await
/// # }
/// ```
pub async fn serve(
    addr: SocketAddr,
    router: Router,
    on_ready: impl FnOnce(SocketAddr),
    shutdown: impl Future<Output = ()> + Send + 'static,
    options: ServeOptions,
) -> Result<(), ServeError> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Bind { addr, source })?;
    let local = listener.local_addr()?;
    let max_connections =
        connection_cap(options.max_connections, crate::metrics::open_files_limit());
    if max_connections < options.max_connections {
        tracing::warn!(
            wanted = options.max_connections,
            max_connections,
            "the open-file limit lowers the connection cap (raise `ulimit -n` for more)"
        );
    }
    MAX_CONNECTIONS.store(max_connections, Relaxed);
    on_ready(local);

    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(options.header_timeout)
        // A request head that has not ended when the 64 KiB buffer is full, or has more
        // than 100 headers, is a 431. (hyper checks after each read, and a read may add up
        // to the buffer's size again: heads of 64-128 KiB can pass, larger ones never.)
        .max_buf_size(MAX_HEAD_BYTES)
        .max_headers(100);
    let graceful = GracefulShutdown::new();
    let open_here = Arc::new(AtomicU64::new(0));
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                // Out of file descriptors or a connection reset before accept: the listener
                // itself is fine; wait a moment rather than spin.
                Err(e) => {
                    tracing::warn!("accepting a connection failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        if open_here.load(Relaxed) >= max_connections {
            refuse(tcp);
            continue;
        }
        // Cannot fail on a connected TCP socket; if it ever does, the connection still works.
        let _ = tcp.set_nodelay(true);
        let service = router
            .clone()
            .map_request(move |req: axum::http::Request<Incoming>| {
                let mut req = req.map(Body::new);
                req.extensions_mut().insert(ConnectInfo(peer));
                req
            });
        let service = TowerToHyperService::new(service);
        let conn = graceful.watch(builder.serve_connection(TokioIo::new(tcp), service));
        let open = OpenConnection::new(&open_here);
        tokio::spawn(async move {
            // A client that goes away mid-request, or sends garbage, ends its connection.
            let _ = conn.await;
            drop(open);
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(options.grace) => {
            tracing::warn!(
                grace_ms = options.grace.as_millis() as u64,
                "connections still open after the grace period; closing them"
            );
        }
    }
    Ok(())
}

/// Refusals being written at once at most; past it a refused connection is closed unanswered.
const MAX_REFUSING: u64 = 64;

/// Refusals being written now.
static REFUSING: AtomicU64 = AtomicU64::new(0);

/// Answers a connection past the cap with a 503 and closes it. The request is read (and
/// dropped) after the answer, for at most a second: a socket closed with unread bytes is
/// reset, and a reset can discard the answer before the client reads it. At most
/// [`MAX_REFUSING`] are answered at once, so refusing cannot itself use up what the cap
/// protects.
fn refuse(mut tcp: tokio::net::TcpStream) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let n = REFUSED_CONNECTIONS.fetch_add(1, Relaxed);
    if n.is_power_of_two() || n == 0 {
        tracing::warn!(
            refused = n + 1,
            "too many open connections; refusing new ones"
        );
    }
    if REFUSING.fetch_add(1, Relaxed) >= MAX_REFUSING {
        REFUSING.fetch_sub(1, Relaxed);
        return;
    }
    tokio::spawn(async move {
        let _ = tokio::time::timeout(Duration::from_secs(1), async {
            tcp.write_all(REFUSAL).await?;
            tcp.shutdown().await?;
            let mut sink = [0u8; 4096];
            let mut read = 0;
            while read < MAX_HEAD_BYTES {
                match tcp.read(&mut sink).await? {
                    0 => break,
                    n => read += n,
                }
            }
            Ok::<_, std::io::Error>(())
        })
        .await;
        REFUSING.fetch_sub(1, Relaxed);
    });
}

/// Resolves on the first SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut sig) => {
                sig.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!("SIGINT received, shutting down"),
        () = terminate => tracing::info!("SIGTERM received, shutting down"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::{body::Body, routing::get};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    async fn start(
        router: Router,
        grace: Duration,
    ) -> (
        SocketAddr,
        tokio::sync::oneshot::Sender<()>,
        tokio::task::JoinHandle<Result<(), ServeError>>,
    ) {
        let (addr_tx, addr_rx) = tokio::sync::oneshot::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let handle = tokio::spawn(serve(
            "127.0.0.1:0".parse().expect("literal"),
            router,
            move |addr| {
                let _ = addr_tx.send(addr);
            },
            async move {
                let _ = stop_rx.await;
            },
            ServeOptions {
                grace,
                header_timeout: Duration::from_millis(300),
                max_connections: 4,
            },
        ));
        (
            addr_rx.await.expect("server reports its address"),
            stop_tx,
            handle,
        )
    }

    /// A kept-alive GET of `path` on a new connection: the connection and the first 12
    /// bytes of the answer (zeros if the server closed at once).
    async fn get_kept_alive(addr: SocketAddr, path: &str) -> (tokio::net::TcpStream, [u8; 12]) {
        let mut tcp = tokio::net::TcpStream::connect(addr)
            .await
            .expect("connects");
        tcp.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
            .await
            .expect("writes");
        let mut head = [0u8; 12];
        let _ = tcp.read_exact(&mut head).await;
        (tcp, head)
    }

    #[tokio::test]
    async fn serves_until_shutdown_then_returns() {
        let router = Router::new().route("/", get(|| async { "hello" }));
        let (addr, stop, handle) = start(router, Duration::from_secs(5)).await;
        let mut tcp = tokio::net::TcpStream::connect(addr)
            .await
            .expect("connects");
        tcp.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await
            .expect("writes");
        let mut reply = String::new();
        tcp.read_to_string(&mut reply).await.expect("reads");
        assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
        assert!(reply.ends_with("hello"), "{reply}");
        stop.send(()).expect("server still running");
        let result = tokio::time::timeout(Duration::from_secs(5), handle)
            .await
            .expect("returns promptly after shutdown");
        assert!(matches!(result, Ok(Ok(()))));
    }

    #[tokio::test]
    async fn an_endless_stream_does_not_hold_shutdown_past_the_grace_period() {
        let router = Router::new().route(
            "/stream",
            get(|| async {
                let endless =
                    futures_util::stream::pending::<Result<axum::body::Bytes, std::io::Error>>();
                Body::from_stream(endless)
            }),
        );
        let (addr, stop, handle) = start(router, Duration::from_millis(200)).await;
        let (_tcp, head) = get_kept_alive(addr, "/stream").await;
        assert_eq!(&head, b"HTTP/1.1 200", "headers arrive");
        let stopped = std::time::Instant::now();
        stop.send(()).expect("server still running");
        let result = tokio::time::timeout(Duration::from_secs(5), handle)
            .await
            .expect("returns after the grace period");
        assert!(matches!(result, Ok(Ok(()))));
        // It waited the grace for the stream, and not much longer: within 4 times the
        // 200 ms grace, a margin for a shared machine's scheduler.
        let took = stopped.elapsed();
        assert!(
            took >= Duration::from_millis(190),
            "returned before the grace: {took:?}"
        );
        assert!(
            took < Duration::from_millis(800),
            "held past the grace: {took:?}"
        );
    }

    #[test]
    fn the_cap_leaves_file_descriptors_for_the_rest() {
        assert_eq!(connection_cap(4_096, None), 4_096);
        assert_eq!(connection_cap(4_096, Some(20_000)), 4_096);
        assert_eq!(connection_cap(4_096, Some(1_024)), 1_024 - FDS_KEPT);
        assert_eq!(connection_cap(4_096, Some(10)), 1);
    }

    #[tokio::test]
    async fn past_the_cap_a_connection_gets_a_503_and_a_freed_place_is_taken_again() {
        let router = Router::new().route("/", get(|| async { "hello" }));
        let (addr, _stop, _handle) = start(router, Duration::from_secs(5)).await;
        let before = refused_connections();
        // Four kept-alive connections, each answered once, fill the cap of four.
        let mut held = Vec::new();
        for _ in 0..4 {
            let (tcp, head) = get_kept_alive(addr, "/").await;
            assert_eq!(&head, b"HTTP/1.1 200");
            held.push(tcp);
        }
        let mut fifth = tokio::net::TcpStream::connect(addr)
            .await
            .expect("connects");
        let mut reply = Vec::new();
        fifth.read_to_end(&mut reply).await.expect("reads");
        let reply = String::from_utf8(reply).expect("text");
        assert!(reply.starts_with("HTTP/1.1 503"), "{reply}");
        assert!(reply.contains("retry-after: 1"), "{reply}");
        let (head, body) = reply.split_once("\r\n\r\n").expect("head and body");
        assert!(
            head.contains(&format!("content-length: {}", body.len())),
            "{reply}"
        );
        let body: serde_json::Value = serde_json::from_str(body).expect("JSON body");
        assert_eq!(body["error"]["code"], "too_many_connections");
        assert!(refused_connections() > before);
        // A client that leaves frees its place.
        drop(held.pop());
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        loop {
            let mut tcp = tokio::net::TcpStream::connect(addr)
                .await
                .expect("connects");
            tcp.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                .await
                .expect("writes");
            let mut reply = String::new();
            let _ = tcp.read_to_string(&mut reply).await;
            if reply.starts_with("HTTP/1.1 200") {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the place was never freed: {reply}"
            );
            tokio::task::yield_now().await;
        }
    }

    #[tokio::test]
    async fn a_taken_port_is_a_bind_error_naming_the_address() {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("binds");
        let addr = taken.local_addr().expect("has address");
        let err = serve(
            addr,
            Router::new(),
            |_| {},
            std::future::pending(),
            ServeOptions::default(),
        )
        .await
        .expect_err("port is taken");
        assert!(err.to_string().contains(&addr.to_string()), "{err}");
    }

    #[tokio::test]
    async fn a_client_that_sends_its_head_slowly_or_not_at_all_is_closed() {
        let router = Router::new().route("/", get(|| async { "hello" }));
        let (addr, _stop, _handle) = start(router, Duration::from_secs(1)).await;
        let mut silent = tokio::net::TcpStream::connect(addr)
            .await
            .expect("connects");
        let mut slow = tokio::net::TcpStream::connect(addr)
            .await
            .expect("connects");
        let dribble = async {
            for b in b"GET / HTTP/1.1\r\nHost: x\r\n" {
                if slow.write_all(&[*b]).await.is_err() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            let mut rest = Vec::new();
            let _ = slow.read_to_end(&mut rest).await;
        };
        let mut buf = Vec::new();
        // The server closes both (EOF); neither read waits for ever.
        let both = async {
            let _ = silent.read_to_end(&mut buf).await;
            dribble.await;
        };
        tokio::time::timeout(Duration::from_secs(10), both)
            .await
            .expect("closed after the 300 ms header timeout");
        // Normal requests are still served.
        let mut tcp = tokio::net::TcpStream::connect(addr)
            .await
            .expect("connects");
        tcp.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await
            .expect("writes");
        let mut reply = String::new();
        tcp.read_to_string(&mut reply).await.expect("reads");
        assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    }
}
