//! The demo's surfaces (cargo feature `demo`): none of them is part of the
//! protocol, and an application's build leaves them out.
//!
//! - `pipeline`: the demo's four-stage processing, an upload handler
//!   registered through the public [`crate::ProgressServerBuilder::on_upload_hook`];
//! - `test_jobs`: `POST /ws/test/{id}`, scripted jobs;
//! - `faults` and `fault_layer`: fault injection (`POST /ws/admin/faults`),
//!   one layer in front of the protocol's routes;
//! - `admin`: `POST /ws/cleanup` and `GET /ws/stats/detailed`;
//! - `tus_faults`: what the upload faults answer, and the per-upload
//!   counters at `GET /ws/admin/uploads/{process_id}`.

pub mod admin;
pub mod fault_layer;
pub mod faults;
pub mod pipeline;
pub mod test_jobs;
pub mod tus_faults;

use std::sync::Arc;

use axum::middleware;
use axum::routing::{get, post};
use axum::Router;

use crate::state::Shared;

/// `api` with the demo's routes added and fault injection in front of
/// every route.
pub(crate) fn routes(api: Router<Shared>, state: &Shared) -> Router<Shared> {
    let mut api = api
        .route("/ws/stats/detailed", get(admin::stats_detailed))
        .route("/ws/cleanup", post(admin::cleanup))
        .route(
            "/ws/admin/faults",
            post(admin::faults_post).get(admin::faults_get),
        );
    if state.config.tus.is_some() {
        api = api.route("/ws/admin/uploads/{process_id}", get(tus_faults::counters));
    }
    if state.config.test_jobs {
        api = api.route("/ws/test/{id}", post(test_jobs::test_job));
    }
    api.route_layer(middleware::from_fn_with_state(
        Arc::clone(state),
        fault_layer::inject,
    ))
}
