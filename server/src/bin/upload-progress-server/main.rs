//! `upload-progress-server`, the demo server: parses flags into a
//! [`upload_progress_server::ProgressServer`] builder (the demo pipeline as
//! its upload handler), adds the page's static files and JSON 404s for
//! unknown API paths, and serves it. Only the library's public API is used.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use cli::{Cli, Command};
use upload_progress_server::{own_origins, serve_with};

mod cli;
mod fault_client;
mod site;

/// How long shutdown waits for sockets to take their close frame.
const SHUTDOWN_WAIT: Duration = Duration::from_secs(3);

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(Command::Fault(args)) = &cli.command {
        return fault_client::run(args).await;
    }
    // Logs go to stderr so stdout's first line is the address announcement.
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,tower_http=warn".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let listener = match upload_progress_server::listen::bind(cli.server.addr) {
        Ok(l) => l,
        Err(err) => {
            eprintln!("cannot listen on {}: {err}", cli.server.addr);
            return ExitCode::FAILURE;
        }
    };
    let addr = match listener.local_addr() {
        Ok(a) => a,
        Err(err) => {
            eprintln!("cannot read the bound address: {err}");
            return ExitCode::FAILURE;
        }
    };
    let mut stdout = std::io::stdout();
    let _ = writeln!(stdout, "listening on http://{addr}");
    let _ = stdout.flush();
    #[cfg(feature = "redis")]
    if cli.server.redis_url.is_some()
        && cli.server.require_token
        && cli.server.token_secret.is_none()
    {
        tracing::warn!(
            "--require-token with --redis-url but no --token-secret: tokens issued by \
             another instance will not verify here"
        );
    }
    // The page this server serves (`--dist`) calls it from its own origin;
    // allow exactly that, nothing by comparison with `Host`.
    let mut builder = cli.server.builder();
    for origin in own_origins(addr) {
        if !cli.server.allow_origin.contains(&origin) {
            builder = builder.allow_origin(origin);
        }
    }
    let progress = builder.build();
    let (router, handle, options) = (
        site::around(progress.router(), progress.cors_layer(), &cli.server.dist),
        progress.handle(),
        progress.serve_options(),
    );
    let shutdown = async move {
        wait_for_signal().await;
        tracing::info!("shutting down");
        handle.shutdown(SHUTDOWN_WAIT).await;
    };
    match serve_with(listener, router, options, shutdown).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("server error: {err}");
            ExitCode::FAILURE
        }
    }
}

async fn wait_for_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}
