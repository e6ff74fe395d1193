//! Connection accounting (total and per-IP caps) and the per-client message rate limit.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use futures_util::future::AbortHandle;

/// Why a new connection was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The server holds `max_connections` sockets.
    ServerFull,
    /// This IP holds `max_per_ip` sockets.
    PerIpFull,
}

#[derive(Default)]
struct Table {
    next_id: u64,
    /// Bumped by every `abort_all`; a slot admitted before a bump whose task
    /// registers after it is aborted on registration, so no socket slips
    /// through a drop that happened during its handshake.
    drop_epoch: u64,
    per_ip: HashMap<IpAddr, usize>,
    /// Abort handles of live connection tasks, for the drop-sockets fault.
    tasks: HashMap<u64, Option<AbortHandle>>,
}

/// Live WebSocket connections and their caps.
pub struct Connections {
    table: Mutex<Table>,
    total: AtomicU64,
    max_total: usize,
    max_per_ip: usize,
}

impl Connections {
    /// An empty table with the given caps.
    pub fn new(max_total: usize, max_per_ip: usize) -> Self {
        Self {
            table: Mutex::new(Table::default()),
            total: AtomicU64::new(0),
            max_total,
            max_per_ip,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Table> {
        // Each mutation is small and self-contained; a poisoned lock holds consistent data.
        self.table.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Reserves a slot for `ip`; the slot is released when the guard drops.
    pub fn try_acquire(self: &Arc<Self>, ip: IpAddr) -> Result<ConnGuard, Refusal> {
        let mut table = self.lock();
        if table.tasks.len() >= self.max_total {
            return Err(Refusal::ServerFull);
        }
        let count = table.per_ip.entry(ip).or_insert(0);
        if *count >= self.max_per_ip {
            return Err(Refusal::PerIpFull);
        }
        *count += 1;
        table.next_id += 1;
        let id = table.next_id;
        table.tasks.insert(id, None);
        self.total.fetch_add(1, Ordering::Relaxed);
        Ok(ConnGuard {
            owner: Arc::clone(self),
            id,
            ip,
            epoch: table.drop_epoch,
        })
    }

    /// Sockets open now.
    pub fn active(&self) -> usize {
        self.lock().tasks.len()
    }

    /// Sockets opened since start.
    pub fn total(&self) -> u64 {
        self.total.load(Ordering::Relaxed)
    }

    /// Open sockets per IP.
    pub fn per_ip(&self) -> Vec<(IpAddr, usize)> {
        self.lock().per_ip.iter().map(|(ip, n)| (*ip, *n)).collect()
    }

    /// Configured total cap.
    pub fn max_total(&self) -> usize {
        self.max_total
    }

    /// Configured per-IP cap.
    pub fn max_per_ip(&self) -> usize {
        self.max_per_ip
    }

    /// Aborts every connection task: sockets go away without a close frame.
    /// Returns how many sockets are affected (including ones still in their handshake).
    pub fn abort_all(&self) -> usize {
        let mut table = self.lock();
        table.drop_epoch += 1;
        for handle in table.tasks.values().flatten() {
            handle.abort();
        }
        table.tasks.len()
    }

    fn release(&self, id: u64, ip: IpAddr) {
        let mut table = self.lock();
        if table.tasks.remove(&id).is_none() {
            return;
        }
        if let Some(n) = table.per_ip.get_mut(&ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                table.per_ip.remove(&ip);
            }
        }
    }
}

/// One reserved connection slot.
pub struct ConnGuard {
    owner: Arc<Connections>,
    id: u64,
    ip: IpAddr,
    epoch: u64,
}

impl ConnGuard {
    /// A handle that records the task serving this connection, so faults can abort it.
    pub fn registrar(&self) -> TaskRegistrar {
        TaskRegistrar {
            owner: Arc::clone(&self.owner),
            id: self.id,
            epoch: self.epoch,
        }
    }

    /// Connection number, unique for the server's lifetime.
    pub fn id(&self) -> u64 {
        self.id
    }
}

/// Records a connection's task after the guard moved into it.
pub struct TaskRegistrar {
    owner: Arc<Connections>,
    id: u64,
    epoch: u64,
}

impl TaskRegistrar {
    /// Stores `handle` while the slot is still held; a finished task must not reappear.
    pub fn register(self, handle: AbortHandle) {
        let mut table = self.owner.lock();
        if table.drop_epoch != self.epoch {
            handle.abort();
            return;
        }
        if let Some(slot) = table.tasks.get_mut(&self.id) {
            *slot = Some(handle);
        }
    }
}

impl Drop for ConnGuard {
    fn drop(&mut self) {
        self.owner.release(self.id, self.ip);
    }
}

/// Fixed-window message counter of one client.
pub struct RateWindow {
    limit: u32,
    window: Duration,
    started: Instant,
    count: u32,
}

impl RateWindow {
    /// `limit` messages per `window`.
    pub fn new(limit: u32, window: Duration) -> Self {
        Self {
            limit,
            window,
            started: Instant::now(),
            count: 0,
        }
    }

    /// Counts one message; false when it is over the limit.
    pub fn allow(&mut self, now: Instant) -> bool {
        if now.saturating_duration_since(self.started) >= self.window {
            self.started = now;
            self.count = 0;
        }
        self.count = self.count.saturating_add(1);
        self.count <= self.limit
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    #[test]
    fn caps_and_release() {
        let c = Arc::new(Connections::new(3, 2));
        let a = IpAddr::V4(Ipv4Addr::LOCALHOST);
        let b = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
        let g1 = c.try_acquire(a).expect("1");
        let _g2 = c.try_acquire(a).expect("2");
        assert_eq!(c.try_acquire(a).err(), Some(Refusal::PerIpFull));
        let _g3 = c.try_acquire(b).expect("3");
        assert_eq!(c.try_acquire(b).err(), Some(Refusal::ServerFull));
        drop(g1);
        assert_eq!(c.active(), 2);
        assert!(c.try_acquire(a).is_ok());
        assert_eq!(c.total(), 4);
    }

    #[tokio::test]
    async fn a_drop_during_the_handshake_still_reaches_the_socket() {
        let c = Arc::new(Connections::new(3, 3));
        let guard = c
            .try_acquire(IpAddr::V4(Ipv4Addr::LOCALHOST))
            .expect("slot");
        // The drop arrives before the socket's task exists.
        assert_eq!(c.abort_all(), 1);
        let (abort, registration) = AbortHandle::new_pair();
        guard.registrar().register(abort);
        let socket =
            futures_util::future::Abortable::new(std::future::pending::<()>(), registration);
        assert!(socket.await.is_err(), "aborted");
    }

    #[test]
    fn rate_window_resets() {
        let start = Instant::now();
        let mut w = RateWindow::new(2, Duration::from_secs(60));
        assert!(w.allow(start));
        assert!(w.allow(start));
        assert!(!w.allow(start));
        assert!(w.allow(start + Duration::from_secs(61)));
    }
}
