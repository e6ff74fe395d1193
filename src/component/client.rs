//! The page-wide progress client as a Leptos context: the server and the
//! connection's knobs, set once for every widget below, so that they all
//! join the same page connection without repeating them.

use leptos::prelude::*;
use upload_progress_core::session::SessionOptions;

use crate::component::hook::UseUploadProgressOptions;

/// What every progress widget under [`provide_progress_client`] shares.
/// A widget's own `ws_base`, `http_base` and `session_options` win over it.
///
/// Widgets with the same server and knobs share one connection whether or
/// not a client is provided; the client only says once what they are.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ProgressClient {
    /// Base of the socket URL, e.g. `wss://api.example.com`.
    /// Default: the page's own host.
    pub ws_base: Option<String>,
    /// Base of the HTTP URLs (polls, event stream, uploads).
    /// Default: the page's own origin.
    pub http_base: Option<String>,
    /// Reconnect, fallback and heartbeat knobs of the connection.
    /// Default: [`SessionOptions::default()`].
    pub session: SessionOptions,
}

/// Makes `client` the settings of every progress widget (the component,
/// `use_upload_progress`) below the calling component.
pub fn provide_progress_client(client: ProgressClient) {
    provide_context(client);
}

/// The client provided above the calling component, if any.
pub fn use_progress_client() -> Option<ProgressClient> {
    use_context::<ProgressClient>()
}

/// `options` with the provided client's bases where it has none of its own.
pub(crate) fn with_client_bases(
    mut options: UseUploadProgressOptions,
    client: Option<&ProgressClient>,
) -> UseUploadProgressOptions {
    let Some(client) = client else {
        return options;
    };
    options.ws_base = or_else(options.ws_base, client.ws_base.clone());
    options.http_base = or_else(options.http_base, client.http_base.clone());
    options
}

/// The prop's value, or `fallback` while the prop has none.
fn or_else(prop: MaybeProp<String>, fallback: Option<String>) -> MaybeProp<String> {
    match fallback {
        None => prop,
        Some(fallback) => MaybeProp::from(Signal::derive(move || {
            prop.get().or_else(|| Some(fallback.clone()))
        })),
    }
}
