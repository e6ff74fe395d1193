//! What the demo binary serves besides the protocol: the page's static
//! files at `/` (its `index.html` for unknown paths) and a JSON 404 for
//! unknown `/api/...` and `/ws/...` paths, which must not fall through to
//! the page.

use std::path::Path;

use axum::http::StatusCode;
use axum::routing::any;
use axum::Router;
use tower_http::cors::CorsLayer;
use tower_http::services::{ServeDir, ServeFile};
use upload_progress_core::protocol::WireErrorCode;
use upload_progress_server::error::ApiError;

/// `progress` (the library's router) with the page from `dist` and the
/// API's 404s around it. The 404s carry the protocol's CORS headers
/// (`cors`): a page on another origin must read them as answers, not as
/// network errors it would retry.
pub fn around(progress: Router, cors: CorsLayer, dist: &Path) -> Router {
    let not_found = Router::new()
        .route("/ws/{*rest}", any(api_not_found))
        .route("/api/{*rest}", any(api_not_found))
        .layer(cors);
    progress
        .merge(not_found)
        .fallback_service(ServeDir::new(dist).fallback(ServeFile::new(dist.join("index.html"))))
}

async fn api_not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        WireErrorCode::NotFound,
        "no such endpoint",
    )
}
