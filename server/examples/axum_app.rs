//! Progress reporting added to a plain axum app. Its own route `POST /convert`
//! starts some work and answers the job's id and token; the browser follows
//! the job on `/ws/progress/{id}?token=...` (or polls `GET /ws/progress/{id}`).
//!
//! `cargo run -p upload-progress-server --example axum_app`, then
//! `curl -X POST http://127.0.0.1:3000/convert`.

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};
use upload_progress_server::{serve_with, ProgressServer, Reporter};

const STAGES: [(&str, &str); 3] = [
    ("parse", "Parsing"),
    ("render", "Rendering"),
    ("store", "Storing"),
];

/// The app's routes plus the progress endpoints.
pub fn app() -> (Router, ProgressServer) {
    let progress = ProgressServer::builder()
        .allow_origin("http://localhost:3000")
        .require_token(true)
        .build();
    let router = Router::new()
        .route("/convert", post(convert))
        .with_state(progress.reporter())
        .merge(progress.router());
    (router, progress)
}

/// Starts a conversion in the background and tells the client how to follow it.
async fn convert(State(reporter): State<Reporter>) -> Result<Json<Value>, (StatusCode, String)> {
    let busy =
        |e: upload_progress_server::ReportError| (StatusCode::SERVICE_UNAVAILABLE, e.to_string());
    let mut job = reporter.start_new(&STAGES).map_err(busy)?;
    let answer = json!({ "process_id": job.id().as_str(), "token": job.token() });
    tokio::spawn(async move {
        for (index, (_, label)) in STAGES.iter().enumerate() {
            if index > 0 {
                job.next_stage(&format!("{label}..."))?;
            }
            for step in 1..=4 {
                tokio::time::sleep(Duration::from_millis(50)).await; // the real work goes here
                job.stage_progress(f64::from(step) / 4.0, &format!("{label} {step}/4"))?;
            }
        }
        job.complete("Converted")
    });
    Ok(Json(answer))
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let (router, progress) = app();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    println!("listening on http://{}", listener.local_addr()?);
    let handle = progress.handle();
    let shutdown = async move {
        let _ = tokio::signal::ctrl_c().await;
        handle.shutdown(Duration::from_secs(3)).await;
    };
    serve_with(listener, router, progress.serve_options(), shutdown).await
}
