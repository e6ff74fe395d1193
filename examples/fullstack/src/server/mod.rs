//! The server side: one axum app serving the page (rendered with Leptos),
//! the browser build of the page, and the progress and tus endpoints of
//! `upload-progress-server`, whose upload hook runs [`stages::process`].

pub mod options;
pub mod page;
pub mod stages;

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use axum::Router;
use tower_http::services::ServeDir;
use upload_progress_server::tus::TusConfig;
use upload_progress_server::ProgressServer;

use crate::app::STAGES;
use crate::job_param::job_from_query;
pub use options::Options;

/// The component's stylesheet, served as `/upload-progress.css`.
const WIDGET_CSS: &str = include_str!("../../../../style/upload-progress.css");

/// The whole app for `options`, and the progress server behind it (for
/// its serve options and shutdown).
pub fn app(options: &Options) -> (Router, ProgressServer) {
    let pace = options.pace;
    let mut builder = ProgressServer::builder()
        // The page is served from this server; a loopback origin is any
        // port on this machine (the app listens on loopback by default).
        .allow_loopback_origins(true)
        .tus(TusConfig::new(&options.upload_dir))
        .on_upload(&STAGES, move |upload, job| {
            stages::process(upload, job, pace)
        });
    for origin in &options.origins {
        builder = builder.allow_origin(origin.clone());
    }
    let progress = builder.build();
    let page_state = Arc::new(PageState {
        pkg_missing: !options.pkg_dir.join(page::MODULE).is_file(),
    });
    let router = Router::new()
        .route("/", get(render_page))
        .route("/upload-progress.css", get(stylesheet))
        .with_state(page_state)
        .nest_service("/pkg", ServeDir::new(&options.pkg_dir))
        .merge(progress.router());
    (router, progress)
}

/// What the page handler needs to know.
struct PageState {
    /// The browser build is absent: the page says so instead of failing
    /// silently in the browser console.
    pkg_missing: bool,
}

async fn render_page(
    State(state): State<Arc<PageState>>,
    RawQuery(query): RawQuery,
) -> impl IntoResponse {
    let job = job_from_query(query.as_deref().unwrap_or_default());
    let html = page::render(job, state.pkg_missing);
    ([(header::CACHE_CONTROL, "no-store")], Html(html))
}

async fn stylesheet() -> impl IntoResponse {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        WIDGET_CSS,
    )
}
