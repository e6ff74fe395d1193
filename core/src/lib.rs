//! The sans-IO core of UploadProgressRobust.
//!
//! This crate holds the wire protocol v1 shared by the browser component and
//! the server, and the client session state machine that makes every
//! reconnect and fallback decision. It performs no I/O and reads no clock:
//! time arrives as an argument (`now`, in milliseconds) and randomness is
//! injected, so every behaviour is reproducible on a fake clock.
//!
//! # Driving a [`Session`]
//!
//! A shell (the browser code, or a test) owns the sockets, the fetches and
//! the clock. It feeds what happens into [`Session::handle`], drains
//! [`Session::poll_action`] after every call and does what each action says,
//! and calls [`Session::handle_timeout`] once the deadline from
//! [`Session::poll_timeout`] has passed. The loop below is a complete shell
//! with a fake server and a fake clock.
//!
//! ```
//! use upload_progress_core::session::{
//!     Action, Connection, Input, Mode, SessionConfig, SessionOptions,
//! };
//! use upload_progress_core::{JobState, ProcessId, Progress, ServerMessage, Session};
//!
//! let id = ProcessId::parse("auto_proc_ebdfe06c_1751921426")?;
//! let config = SessionConfig {
//!     process_id: id.clone(),
//!     ws_base: "ws://127.0.0.1:8080".into(),
//!     http_base: "http://127.0.0.1:8080".into(),
//!     token: None,
//!     token_expires_at: None,
//!     token_provider: false,
//!     options: SessionOptions::default(),
//! };
//! // The seed drives retry jitter; a browser would use e.g. the page load time.
//! let mut session = Session::new(config, 42);
//! let mut now = 0; // milliseconds on the shell's monotonic clock
//!
//! // 1. Start: the session asks for a socket.
//! session.handle(Input::Start, now);
//! let mut socket = None;
//! while let Some(action) = session.poll_action() {
//!     match action {
//!         Action::OpenSocket { attempt, url } => {
//!             assert_eq!(url, "ws://127.0.0.1:8080/ws/progress/auto_proc_ebdfe06c_1751921426");
//!             socket = Some(attempt); // a browser would call `new WebSocket(url)` here
//!         }
//!         Action::StatusChanged(status) => {
//!             assert_eq!(status.connection, Connection::Connecting { attempt: 1 });
//!         }
//!         Action::Event(event) => println!("{event:?}"), // what it decided, for logs
//!         other => panic!("unexpected {other:?}"),
//!     }
//! }
//! let attempt = socket.expect("a socket was requested");
//!
//! // 2. The socket opens and the server sends its snapshot. Every socket
//! //    event carries the attempt id, so events of old sockets are ignored.
//! now += 40;
//! session.handle(Input::SocketOpened { attempt }, now);
//! let mut progress = Progress::unknown(id.clone(), 0);
//! progress.seq = 1;
//! progress.state = JobState::Running;
//! progress.percent = 25.0;
//! let frame = serde_json::to_string(&ServerMessage::Snapshot { progress: progress.clone() })?;
//! session.handle(Input::SocketMessage { attempt, text: frame }, now);
//!
//! let mut shown = Vec::new();
//! while let Some(action) = session.poll_action() {
//!     match action {
//!         Action::ProgressChanged(p) => shown.push(p.percent), // re-render the bar
//!         Action::StatusChanged(_) => {}                       // re-render the badge
//!         Action::Event(_) => {}
//!         other => panic!("unexpected {other:?}"),
//!     }
//! }
//! assert_eq!(shown, [25.0]);
//! assert_eq!(session.status().mode, Mode::WebSocket);
//! assert_eq!(session.status().connection, Connection::Connected);
//!
//! // 3. Timers: the shell sleeps until `poll_timeout()`, then calls
//! //    `handle_timeout(now)`, which runs everything due by `now`. A sleepy
//! //    (throttled) tab that wakes late still gets each due step once: here
//! //    the 5 s stability mark and the 30 s heartbeat ping.
//! assert_eq!(session.poll_timeout(), Some(40 + 5_000));
//! now = 40 + 30_000;
//! session.handle_timeout(now);
//! let mut sent = Vec::new();
//! while let Some(action) = session.poll_action() {
//!     if let Action::Send { text, .. } = action {
//!         sent.push(text); // `socket.send(text)`
//!     }
//! }
//! assert_eq!(sent, [r#"{"type":"ping","id":1}"#]);
//! now += 15;
//! let pong = r#"{"type":"pong","id":1,"server_ts_ms":1751921430123}"#.to_owned();
//! session.handle(Input::SocketMessage { attempt, text: pong }, now);
//! assert_eq!(session.status().latency_ms, Some(15));
//!
//! // 4. The job completes: the session closes the socket itself and is done.
//! progress.seq = 2;
//! progress.state = JobState::Completed;
//! progress.percent = 100.0;
//! let frame = serde_json::to_string(&ServerMessage::Progress { progress })?;
//! session.handle(Input::SocketMessage { attempt, text: frame }, now);
//! let actions: Vec<Action> = std::iter::from_fn(|| session.poll_action()).collect();
//! assert!(actions.contains(&Action::CloseSocket {
//!     attempt,
//!     code: 1000,
//!     reason: "job finished".into(),
//! }));
//! assert_eq!(session.status().connection, Connection::Finished(JobState::Completed));
//! assert_eq!(session.progress().map(|p| p.percent), Some(100.0));
//! assert_eq!(session.poll_timeout(), None); // nothing will ever happen again
//!
//! // A late close of that socket, or a Reconnect, changes nothing.
//! session.handle(Input::Reconnect, now);
//! assert_eq!(session.poll_action(), None);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod close_code;
pub mod display;
mod message;
pub mod names;
pub mod page;
mod process_id;
mod progress;
pub mod protocol;
pub mod session;
pub mod upload;
pub mod widget;

pub use close_code::{code, CloseClass};
pub use message::{
    ClientMessage, ErrorBody, ErrorResponse, ProgressResponse, ServerMessage, UploadAccepted,
};
pub use process_id::{InvalidProcessId, ProcessId, MAX_PROCESS_ID_LEN};
pub use progress::{JobState, Progress, Stage, StageStatus};
pub use session::Session;
