//! The floor's write loop: one thread, every job's schedule, and for each
//! due state one frame built once and written to each subscriber's
//! non-blocking socket in one pass. Nothing else happens per frame: no task
//! per socket, no channel, no wake-up per subscriber. A socket that cannot
//! take a frame keeps the rest in its own buffer, retried every millisecond.

use std::collections::HashMap;
use std::io::{ErrorKind, Write};
use std::net::TcpStream;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use upload_progress_core::Progress;

use super::http::{close_frame, frame, TEXT};
use super::script::Event;

/// How long a finished job's sockets stay open after its close frame, as
/// a server waits for the close reply before it drops the connection.
const LINGER: Duration = Duration::from_secs(2);
/// Retry period for sockets with unsent bytes.
const RETRY: Duration = Duration::from_millis(1);
/// Wait when nothing is due.
const IDLE: Duration = Duration::from_secs(1);

/// A subscriber's socket, non-blocking, and what it could not take yet.
pub struct Sub {
    stream: TcpStream,
    pending: Vec<u8>,
    dead: bool,
}

impl Sub {
    /// A subscriber on an upgraded socket, switched to non-blocking writes.
    pub fn new(stream: TcpStream) -> std::io::Result<Self> {
        stream.set_nonblocking(true)?;
        Ok(Self {
            stream,
            pending: Vec::new(),
            dead: false,
        })
    }

    fn send(&mut self, bytes: &[u8], counts: &mut Counts) {
        if self.dead {
            return;
        }
        if !self.pending.is_empty() {
            self.pending.extend_from_slice(bytes);
            self.flush();
            return;
        }
        counts.writes += 1;
        match self.stream.write(bytes) {
            Ok(n) if n == bytes.len() => {}
            Ok(n) => {
                counts.blocked += 1;
                self.pending.extend_from_slice(&bytes[n..]);
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                counts.blocked += 1;
                self.pending.extend_from_slice(bytes);
            }
            Err(_) => self.dead = true,
        }
    }

    fn flush(&mut self) {
        while !self.pending.is_empty() {
            match self.stream.write(&self.pending) {
                Ok(n) => {
                    self.pending.drain(..n);
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(_) => {
                    self.dead = true;
                    self.pending.clear();
                }
            }
        }
    }

    fn waiting(&self) -> bool {
        !self.dead && !self.pending.is_empty()
    }
}

/// A job to run: its id, when it starts and its states.
pub struct Start {
    /// The job id as in the subscribers' paths.
    pub id: String,
    /// When its first state is due.
    pub at: Instant,
    /// Its states with their offsets from `at`.
    pub events: Vec<Event>,
}

/// What the accepting side and the writer share.
#[derive(Default)]
pub struct Board {
    /// Upgraded sockets not yet taken by their job's writer, by job id.
    pub waiting: Mutex<HashMap<String, Vec<Sub>>>,
    /// The last state sent of every started job.
    pub latest: Mutex<HashMap<String, Progress>>,
}

/// Writes counted over the process's life, printed as each job ends.
#[derive(Default)]
struct Counts {
    writes: u64,
    blocked: u64,
}

struct Running {
    id: String,
    at: Instant,
    events: Vec<Event>,
    next: usize,
    subs: Vec<Sub>,
}

impl Running {
    fn due(&self) -> Option<Instant> {
        self.events.get(self.next).map(|e| self.at + e.at)
    }
}

/// The same JSON as the server's `ServerMessage`, serialized from a borrow.
#[derive(Serialize)]
pub struct Message<'a> {
    /// `snapshot` or `progress`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The job's state.
    pub progress: &'a Progress,
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Runs until every sender of `starts` is gone.
pub fn run(board: Arc<Board>, starts: Receiver<Start>) {
    let mut jobs: Vec<Running> = Vec::new();
    let mut lingering: Vec<(Instant, Vec<Sub>)> = Vec::new();
    let mut counts = Counts::default();
    let mut bytes = Vec::with_capacity(1024);
    loop {
        let blocked = jobs.iter().any(|j| j.subs.iter().any(Sub::waiting));
        let next = jobs.iter().filter_map(Running::due).min();
        let now = Instant::now();
        let wait = match next {
            Some(due) => due.saturating_duration_since(now),
            None => IDLE,
        };
        let wait = if blocked { wait.min(RETRY) } else { wait };
        match starts.recv_timeout(wait) {
            Ok(s) => {
                jobs.push(Running {
                    id: s.id,
                    at: s.at,
                    events: s.events,
                    next: 0,
                    subs: Vec::new(),
                });
                continue;
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return,
        }
        let now = Instant::now();
        for job in &mut jobs {
            for sub in &mut job.subs {
                sub.flush();
            }
            while job.due().is_some_and(|due| due <= now) {
                fire(&board, job, &mut bytes, &mut counts);
            }
        }
        jobs.retain_mut(|job| {
            if job.due().is_some() {
                return true;
            }
            println!(
                "job {} done: {} writes so far, {} of them blocked",
                job.id, counts.writes, counts.blocked
            );
            lingering.push((now + LINGER, std::mem::take(&mut job.subs)));
            false
        });
        lingering.retain(|(until, _)| *until > now);
    }
}

/// Sends the job's next state to every subscriber in one pass.
fn fire(board: &Board, job: &mut Running, bytes: &mut Vec<u8>, counts: &mut Counts) {
    let event = &mut job.events[job.next];
    job.next += 1;
    event.progress.updated_at_ms = now_ms();
    let progress = &event.progress;
    let json = serde_json::to_vec(&Message {
        kind: "progress",
        progress,
    })
    .expect("a Progress always serializes");
    bytes.clear();
    frame(TEXT, &json, bytes);
    let last = progress.state.is_terminal();
    if last {
        // The close goes out in the same write, as the server queues it.
        close_frame(1000, "job finished", bytes);
    }
    if let Some(new) = board.waiting.lock().expect("board lock").remove(&job.id) {
        job.subs.extend(new);
    }
    for sub in &mut job.subs {
        sub.send(bytes, counts);
    }
    board
        .latest
        .lock()
        .expect("board lock")
        .insert(job.id.clone(), progress.clone());
}
