//! The full-stack example's server: `upload-progress-fullstack --help`.
//! Prints `listening on http://ADDR` once it accepts connections.

#[cfg(not(target_arch = "wasm32"))]
#[tokio::main]
async fn main() -> std::process::ExitCode {
    use upload_progress_fullstack::server::{app, options::USAGE, Options};

    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!("{USAGE}");
        return std::process::ExitCode::SUCCESS;
    }
    let options = match Options::parse(args) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("{message}\n{USAGE}");
            return std::process::ExitCode::from(2);
        }
    };
    let (router, progress) = app(&options);
    let listener = match tokio::net::TcpListener::bind(options.addr).await {
        Ok(listener) => listener,
        Err(err) => {
            eprintln!("cannot listen on {}: {err}", options.addr);
            return std::process::ExitCode::FAILURE;
        }
    };
    match listener.local_addr() {
        Ok(addr) => println!("listening on http://{addr}"),
        Err(err) => eprintln!("no local address: {err}"),
    }
    let served =
        upload_progress_server::serve_with(listener, router, progress.serve_options(), async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await;
    match served {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("server stopped: {err}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// The browser build is the library (`hydrate`); there is no wasm binary.
#[cfg(target_arch = "wasm32")]
fn main() {}
