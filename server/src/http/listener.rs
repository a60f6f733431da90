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

use std::{
    future::Future,
    net::SocketAddr,
    sync::atomic::{AtomicU64, Ordering::Relaxed},
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

/// How many HTTP connections this process has open now (all listeners together).
pub fn open_connections() -> u64 {
    OPEN_CONNECTIONS.load(Relaxed)
}

/// Counts a connection as open until dropped.
struct OpenConnection;

impl OpenConnection {
    fn new() -> Self {
        OPEN_CONNECTIONS.fetch_add(1, Relaxed);
        Self
    }
}

impl Drop for OpenConnection {
    fn drop(&mut self) {
        OPEN_CONNECTIONS.fetch_sub(1, Relaxed);
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
}

impl Default for ServeOptions {
    fn default() -> Self {
        Self {
            grace: Duration::from_secs(5),
            header_timeout: Duration::from_secs(10),
        }
    }
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
    on_ready(local);

    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(options.header_timeout)
        // A request head of more than 64 KiB, or more than 100 headers, is a 431.
        .max_buf_size(MAX_HEAD_BYTES)
        .max_headers(100);
    let graceful = GracefulShutdown::new();
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
        let open = OpenConnection::new();
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
            },
        ));
        (
            addr_rx.await.expect("server reports its address"),
            stop_tx,
            handle,
        )
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
        let mut tcp = tokio::net::TcpStream::connect(addr)
            .await
            .expect("connects");
        tcp.write_all(b"GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .expect("writes");
        let mut head = [0u8; 12];
        tcp.read_exact(&mut head).await.expect("headers arrive");
        stop.send(()).expect("server still running");
        let result = tokio::time::timeout(Duration::from_secs(5), handle)
            .await
            .expect("returns after the grace period");
        assert!(matches!(result, Ok(Ok(()))));
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
