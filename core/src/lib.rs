//! The sans-IO core of UploadProgressRobust.
//!
//! This crate holds the wire protocol v1 shared by the browser component and
//! the server, and the client session state machine that makes every
//! reconnect and fallback decision. It performs no I/O and reads no clock:
//! time arrives as an argument (`now`, in milliseconds) and randomness is
//! injected, so every behaviour is reproducible on a fake clock.

mod close_code;
mod message;
mod process_id;
mod progress;
pub mod session;

pub use close_code::{code, CloseClass};
pub use message::{
    ClientMessage, ErrorBody, ErrorResponse, ProgressResponse, ServerMessage, UploadAccepted,
};
pub use process_id::{InvalidProcessId, ProcessId, MAX_PROCESS_ID_LEN};
pub use progress::{JobState, Progress, Stage, StageStatus};
pub use session::Session;
