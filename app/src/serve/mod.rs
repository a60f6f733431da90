//! The server entry: runtime, logging, and the router that joins Dioxus's server-side
//! rendering and server functions with the backend and the engine room (`server` crate).
//!
//! `main` owns the runtime and the listener (instead of `dioxus::serve`) so that it can set
//! TCP_NODELAY, add axum routes and tower layers, and shut down gracefully.

mod admin_cmd;
mod assets;
mod boot;
mod media;
pub(crate) mod router;
mod seed;

use std::time::Duration;

use app::backend::{AppConfig, AppState, StartError};

/// Entry point of the server binary: serves; with `seed ...` writes demo data, with `admin
/// create HANDLE` makes an admin, and exits.
pub fn main() {
    init_tracing();
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("seed") => std::process::exit(seed::main(&args[1..])),
        Some("admin") => std::process::exit(admin_cmd::main(&args[1..])),
        _ => {}
    }
    let config = match AppConfig::from_env() {
        Ok(config) => config,
        Err(err) => {
            eprintln!("aion: {err}");
            std::process::exit(2);
        }
    };
    config.log();
    // Server functions run on Dioxus's own task pool, out of reach of the edge's task-local
    // deadline: their statements find their request's deadline in its extensions.
    server::store::set_deadline_source(|| {
        dioxus::fullstack::FullstackContext::current()?
            .extension::<server::store::RequestDeadline>()
            .map(|d| d.0)
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("the operating system can start a tokio runtime");
    if let Err(err) = runtime.block_on(run(config)) {
        tracing::error!("{err}");
        std::process::exit(1);
    }
}

/// Starts the state, serves until SIGINT/SIGTERM, then shuts the state down.
async fn run(config: AppConfig) -> Result<(), RunError> {
    let state = AppState::start(config.clone()).await?;
    let router = router::build(state.clone());
    server::http::serve(
        config.addr,
        router,
        |addr| tracing::info!("AION listening on http://{addr}"),
        server::http::shutdown_signal(),
        server::http::ServeOptions {
            grace: config.shutdown_grace,
            header_timeout: Duration::from_secs(config.header_timeout_secs.max(1)),
            max_connections: config.max_connections.max(1),
        },
    )
    .await?;
    state.shutdown().await;
    tracing::info!("stopped");
    Ok(())
}

/// Why the server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
enum RunError {
    /// The application state could not start.
    #[error(transparent)]
    Start(#[from] StartError),
    /// Serving failed (e.g. the port is taken).
    #[error(transparent)]
    Serve(#[from] server::http::ServeError),
}

fn init_tracing() {
    use tracing_subscriber::{EnvFilter, fmt};
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // Ignore the error of a second init (tests may have set a subscriber already).
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stdout());
    let _ = fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(ansi)
        .try_init();
}
