//! A TCP proxy between the browser and a server that can drop every
//! connection passing through it, the way a flaky network or a load
//! balancer restart does, without the server knowing or helping.
//!
//! Each connection is classified by its first request: a WebSocket
//! upgrade or plain HTTP, so a test can tell that the socket it cut was
//! followed by a new one.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{AbortHandle, JoinHandle};

use crate::Result;

/// One connection through the proxy.
struct Link {
    websocket: bool,
    /// Its piping task; aborting it drops both sockets.
    task: AbortHandle,
}

/// The connections made so far, open or closed, in order.
#[derive(Default)]
struct Links(Vec<Link>);

/// A proxy on a free loopback port in front of `upstream`; stops when dropped.
pub struct CuttingProxy {
    /// `http://127.0.0.1:<port>`: the address to give the browser.
    pub url: String,
    links: Arc<Mutex<Links>>,
    accept: JoinHandle<()>,
}

impl CuttingProxy {
    /// Starts forwarding to `upstream` (`host:port`).
    pub async fn start(upstream: &str) -> Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let links = Arc::new(Mutex::new(Links::default()));
        let upstream = upstream.to_owned();
        let registry = Arc::clone(&links);
        let accept = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let upstream = upstream.clone();
                let registry = Arc::clone(&registry);
                // The task registers itself once it knows what the
                // connection is; it must exist first to be abortable.
                let (tx, rx) = tokio::sync::oneshot::channel::<AbortHandle>();
                let task = tokio::spawn(async move {
                    let Ok(me) = rx.await else { return };
                    let _ = pipe(client, &upstream, &registry, me).await;
                });
                let _ = tx.send(task.abort_handle());
            }
        });
        Ok(Self { url, links, accept })
    }

    /// Drops every open connection at once (both directions, both ends).
    /// Returns how many were open and how many of those were WebSockets.
    pub fn cut_all(&self) -> (usize, usize) {
        let links = self.links.lock().expect("proxy registry");
        let open: Vec<&Link> = links.0.iter().filter(|l| !l.task.is_finished()).collect();
        for link in &open {
            link.task.abort();
        }
        (open.len(), open.iter().filter(|l| l.websocket).count())
    }

    /// WebSocket connections made so far.
    pub fn websockets(&self) -> usize {
        let links = self.links.lock().expect("proxy registry");
        links.0.iter().filter(|l| l.websocket).count()
    }
}

impl Drop for CuttingProxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.cut_all();
    }
}

/// Reads the first bytes from the client, registers the link, then copies
/// both ways until either side closes.
async fn pipe(
    mut client: TcpStream,
    upstream: &str,
    registry: &Mutex<Links>,
    me: AbortHandle,
) -> Result<()> {
    let mut server = TcpStream::connect(upstream).await?;
    let mut first = vec![0; 8192];
    let n = client.read(&mut first).await?;
    let head = String::from_utf8_lossy(&first[..n]).to_ascii_lowercase();
    let websocket = head.contains("\r\nupgrade: websocket");
    registry.lock().expect("proxy registry").0.push(Link {
        websocket,
        task: me,
    });
    server.write_all(&first[..n]).await?;
    tokio::io::copy_bidirectional(&mut client, &mut server).await?;
    Ok(())
}
