//! Opening a client WebSocket the way a browser on the demo page would.

use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// An open client socket.
pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Connects to `url`, sending `origin` as the browser would (the server checks it).
pub async fn connect(url: String, origin: String) -> Option<Ws> {
    let mut req = url.into_client_request().ok()?;
    req.headers_mut().insert("origin", origin.parse().ok()?);
    // Progress frames are well under 4 KiB; tungstenite's default 128 KiB read
    // buffer per socket would make the load generator, not the server, the
    // memory bottleneck at 10k sockets.
    let config = WebSocketConfig::default()
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0)
        .max_message_size(Some(64 * 1024));
    let (ws, _) = tokio_tungstenite::connect_async_with_config(req, Some(config), true)
        .await
        .ok()?;
    Some(ws)
}
