//! The fan-out floor: the least a server must do to deliver the workload's
//! frames over the same kind of sockets. Plain `std` TCP, the WebSocket
//! handshake written by hand, each state's frame built once and written to
//! every subscriber of its job by one thread in one pass of non-blocking
//! writes (`writer`). It speaks the part of our protocol the load generator
//! uses (`GET /ws/progress/{id}` upgrades and reads, `POST /ws/test/{id}`
//! with `step_ms`, `steps_per_stage`, `start_in_ms`), so `bench/loadgen`
//! measures it exactly as it measures the servers.
//!
//! Not a server: no limits, no heartbeats, no reading of client frames, no
//! error handling beyond dropping a socket that fails.

mod http;
pub mod script;
mod writer;

use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc::{self, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use socket2::{Domain, Socket, Type};
use upload_progress_core::{ProcessId, Progress};

use writer::{now_ms, Board, Message, Start, Sub};

/// Accept queue, as large as the server's (`listen::ACCEPT_BACKLOG`), so
/// subscribers connecting in batches are not dropped and retried.
const BACKLOG: i32 = 4096;
/// A request head must arrive within this long.
const HEAD_TIMEOUT: Duration = Duration::from_secs(10);

/// Binds `addr`, prints `listening on http://ADDR` and serves until killed.
pub fn serve(addr: SocketAddr) -> Result<()> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    socket.set_reuse_address(true)?;
    socket.bind(&addr.into())?;
    socket.listen(BACKLOG)?;
    let listener: TcpListener = socket.into();
    println!("listening on http://{}", listener.local_addr()?);
    std::io::stdout().flush()?;

    let board = Arc::new(Board::default());
    let (starts, jobs) = mpsc::channel();
    let writer_board = board.clone();
    std::thread::Builder::new()
        .name("floor-writer".into())
        .spawn(move || writer::run(writer_board, jobs))
        .context("starting the writer thread")?;
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        // A misbehaving connection is dropped; the floor keeps accepting.
        let _ = accept(stream, &board, &starts);
    }
    Ok(())
}

/// Upgrades a subscriber here, on the accepting thread; any other request
/// (the generator's keep-alive job starts and reads) gets a thread of its own.
fn accept(mut stream: TcpStream, board: &Arc<Board>, starts: &Sender<Start>) -> Result<()> {
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(HEAD_TIMEOUT))?;
    let Some(head) = http::read_head(&mut stream)? else {
        return Ok(());
    };
    if let (Some(key), Some(id)) = (&head.ws_key, head.target.strip_prefix("/ws/progress/")) {
        let id = id.split('?').next().unwrap_or_default().to_owned();
        let mut out = http::upgrade_response(key).into_bytes();
        let snapshot = current(board, &id);
        let json = serde_json::to_vec(&Message {
            kind: "snapshot",
            progress: &snapshot,
        })?;
        http::frame(http::TEXT, &json, &mut out);
        stream.write_all(&out)?;
        let sub = Sub::new(stream)?;
        board
            .waiting
            .lock()
            .expect("board lock")
            .entry(id)
            .or_default()
            .push(sub);
        return Ok(());
    }
    let board = board.clone();
    let starts = starts.clone();
    std::thread::spawn(move || {
        let mut head = Some(head);
        while let Some(h) = head {
            if answer(&mut stream, &h, &board, &starts).is_err() {
                return;
            }
            head = http::read_head(&mut stream).ok().flatten();
        }
    });
    Ok(())
}

/// The last state sent for `id`, or the pending state of a job not started.
fn current(board: &Board, id: &str) -> Progress {
    if let Some(p) = board.latest.lock().expect("board lock").get(id) {
        return p.clone();
    }
    let id =
        ProcessId::parse(id).unwrap_or_else(|_| ProcessId::parse("invalid").expect("valid id"));
    Progress::unknown(id, now_ms())
}

fn answer(
    stream: &mut TcpStream,
    head: &http::Head,
    board: &Board,
    starts: &Sender<Start>,
) -> std::io::Result<()> {
    let (path, query) = head.target.split_once('?').unwrap_or((&head.target, ""));
    let param = |name: &str| {
        query
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .find(|(k, _)| *k == name)
            .and_then(|(_, v)| v.parse::<u64>().ok())
    };
    match (head.method.as_str(), path) {
        ("POST", p) if p.starts_with("/ws/test/") => {
            let raw = &p["/ws/test/".len()..];
            let Ok(id) = ProcessId::parse(raw) else {
                return http::respond(
                    stream,
                    "400 Bad Request",
                    r#"{"error":"invalid_process_id"}"#,
                );
            };
            let step = Duration::from_millis(param("step_ms").unwrap_or(250));
            let steps = param("steps_per_stage").unwrap_or(5).clamp(1, 1000) as u32;
            let at = Instant::now() + Duration::from_millis(param("start_in_ms").unwrap_or(0));
            let events = script::events(&id, step, steps);
            let _ = starts.send(Start {
                id: raw.to_owned(),
                at,
                events,
            });
            http::respond(
                stream,
                "202 Accepted",
                &format!(r#"{{"process_id":"{raw}"}}"#),
            )
        }
        ("GET", p) if p.starts_with("/ws/progress/") => {
            let id = &p["/ws/progress/".len()..];
            let latest = board.latest.lock().expect("board lock").get(id).cloned();
            match latest {
                Some(progress) => {
                    let body = serde_json::to_string(&Message {
                        kind: "snapshot",
                        progress: &progress,
                    })
                    .unwrap_or_default();
                    http::respond(stream, "200 OK", &body)
                }
                None => http::respond(stream, "404 Not Found", r#"{"error":"unknown_process"}"#),
            }
        }
        _ => http::respond(stream, "404 Not Found", r#"{"error":"not_found"}"#),
    }
}
