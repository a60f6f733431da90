//! Serving an axum router on a TCP listener we own.
//!
//! Two decisions shape this file. Every accepted socket gets `TCP_NODELAY`: without it a
//! streamed server-rendered page on a keep-alive connection waits for the peer's delayed ACK
//! (~40 ms per response, measured). And shutdown is graceful but bounded: on SIGINT/SIGTERM
//! the listener stops accepting, in-flight requests get a grace period, and then we return
//! even if a long-lived stream (server-sent events) is still open.

use std::{future::Future, net::SocketAddr, time::Duration};

use axum::{Router, serve::ListenerExt};
use tokio::net::TcpListener;

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

/// Binds `addr`, then serves `router` until `shutdown` resolves.
///
/// `on_ready` is called with the bound address once the socket accepts connections (useful
/// when `addr` asks for port 0). After `shutdown` resolves, requests already in flight get
/// `grace` to finish.
///
/// ```no_run
/// # async fn demo() -> Result<(), server::http::ServeError> {
/// use std::time::Duration;
/// let router = axum::Router::new().route("/", axum::routing::get(|| async { "hi" }));
/// server::http::serve(
///     "127.0.0.1:0".parse().unwrap(),
///     router,
///     |addr| println!("listening on {addr}"),
///     server::http::shutdown_signal(),
///     Duration::from_secs(5),
/// )
/// .await
/// # }
/// ```
pub async fn serve(
    addr: SocketAddr,
    router: Router,
    on_ready: impl FnOnce(SocketAddr),
    shutdown: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
) -> Result<(), ServeError> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Bind { addr, source })?;
    let local = listener.local_addr()?;
    on_ready(local);

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let listener = listener.tap_io(|tcp| {
        // Cannot fail on a connected TCP socket; if it ever does, the connection still works.
        let _ = tcp.set_nodelay(true);
    });
    let server = axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        shutdown.await;
        let _ = stop_tx.send(true);
    });

    let mut stop_rx = stop_rx;
    tokio::select! {
        result = server.into_future() => result.map_err(ServeError::Io),
        () = async move {
            let _ = stop_rx.wait_for(|stopped| *stopped).await;
            tokio::time::sleep(grace).await;
        } => {
            tracing::warn!(grace_ms = grace.as_millis() as u64, "connections still open after the grace period; closing them");
            Ok(())
        }
    }
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
            grace,
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
            Duration::ZERO,
        )
        .await
        .expect_err("port is taken");
        assert!(err.to_string().contains(&addr.to_string()), "{err}");
    }
}
