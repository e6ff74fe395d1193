//! One name table: the wire and attribute names of the enums a UI or a
//! foreign-language mirror spells out (job state, stage status, mode,
//! connection kind, error kind).
//!
//! `as_str` and `FromStr` are written from one list per type, so a shell
//! that reads or writes these names without serde (the browser reader, the
//! JS objects of the embed API, the `data-*` attributes) uses the same
//! spelling serde does; a test checks the two agree.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::session::{Connection, ErrorKind, Mode};
use crate::{JobState, StageStatus};

/// A name that is not one of a type's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnknownName {
    /// The type that was being read, e.g. `JobState`.
    pub of: &'static str,
}

impl fmt::Display for UnknownName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "not a {} name", self.of)
    }
}

impl std::error::Error for UnknownName {}

/// Writes `ALL`, `as_str`, `FromStr` and `Display` for a fieldless enum
/// from one `Variant = "name"` list.
macro_rules! names {
    ($ty:ident { $($variant:ident = $name:literal),+ $(,)? }) => {
        impl $ty {
            /// Every value, in declaration order.
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];

            /// The name on the wire and in `data-*` attributes.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($ty::$variant => $name),+
                }
            }
        }

        impl FromStr for $ty {
            type Err = UnknownName;

            fn from_str(name: &str) -> Result<Self, UnknownName> {
                match name {
                    $($name => Ok($ty::$variant),)+
                    _ => Err(UnknownName { of: stringify!($ty) }),
                }
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

names!(JobState {
    Pending = "pending",
    Running = "running",
    Completed = "completed",
    Failed = "failed",
    Cancelled = "cancelled",
});

names!(StageStatus {
    Pending = "pending",
    Active = "active",
    Done = "done",
    Failed = "failed",
    Skipped = "skipped",
});

names!(Mode {
    WebSocket = "websocket",
    HttpPolling = "http_polling",
    EventStream = "sse",
    None = "none",
});

names!(ErrorKind {
    Auth = "auth",
    Network = "network",
    Server = "server",
    Policy = "policy",
    NotFound = "not_found",
    Job = "job",
});

/// [`Connection`] without its data: the one word a UI puts in
/// `data-connection`. A stop with an error is `Error`, apart from a stop
/// on request (`Stopped`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionKind {
    /// [`Connection::Idle`].
    Idle,
    /// [`Connection::Connecting`].
    Connecting,
    /// [`Connection::Connected`].
    Connected,
    /// [`Connection::Checking`].
    Checking,
    /// [`Connection::Reconnecting`].
    Reconnecting,
    /// [`Connection::Polling`].
    Polling,
    /// [`Connection::Offline`].
    Offline,
    /// [`Connection::Finished`].
    Finished,
    /// [`Connection::Stopped`] on request.
    Stopped,
    /// [`Connection::Stopped`] with an error.
    Error,
}

names!(ConnectionKind {
    Idle = "idle",
    Connecting = "connecting",
    Connected = "connected",
    Checking = "checking",
    Reconnecting = "reconnecting",
    Polling = "polling",
    Offline = "offline",
    Finished = "finished",
    Stopped = "stopped",
    Error = "error",
});

impl Connection {
    /// Which kind of connection state this is.
    pub fn kind(&self) -> ConnectionKind {
        match self {
            Connection::Idle => ConnectionKind::Idle,
            Connection::Connecting { .. } => ConnectionKind::Connecting,
            Connection::Connected => ConnectionKind::Connected,
            Connection::Checking => ConnectionKind::Checking,
            Connection::Reconnecting { .. } => ConnectionKind::Reconnecting,
            Connection::Polling { .. } => ConnectionKind::Polling,
            Connection::Offline => ConnectionKind::Offline,
            Connection::Finished(_) => ConnectionKind::Finished,
            Connection::Stopped { error: None } => ConnectionKind::Stopped,
            Connection::Stopped { error: Some(_) } => ConnectionKind::Error,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every name equals serde's, and reads back to the same value.
    fn agree_with_serde<T>(all: &[T])
    where
        T: Copy + PartialEq + fmt::Debug + fmt::Display + FromStr + Serialize,
        T: for<'de> Deserialize<'de>,
    {
        for value in all {
            let name = value.to_string();
            assert_eq!(
                serde_json::to_string(value).unwrap(),
                format!("\"{name}\""),
                "{value:?}"
            );
            assert_eq!(
                serde_json::from_str::<T>(&format!("\"{name}\"")).unwrap(),
                *value
            );
            assert!(name.parse::<T>().ok() == Some(*value), "{name}");
        }
        assert!("Pending".parse::<T>().is_err(), "names are case-sensitive");
        assert!("".parse::<T>().is_err());
    }

    #[test]
    fn names_are_serde_names() {
        agree_with_serde(JobState::ALL);
        agree_with_serde(StageStatus::ALL);
        agree_with_serde(Mode::ALL);
        agree_with_serde(ErrorKind::ALL);
        agree_with_serde(ConnectionKind::ALL);
    }

    #[test]
    fn a_stop_with_an_error_is_its_own_kind() {
        use crate::session::StatusError;
        let error = StatusError::new(ErrorKind::Auth, "no");
        assert_eq!(
            Connection::Stopped { error: Some(error) }.kind().as_str(),
            "error"
        );
        assert_eq!(
            Connection::Stopped { error: None }.kind().as_str(),
            "stopped"
        );
        assert_eq!(
            Connection::Finished(JobState::Failed).kind().as_str(),
            "finished"
        );
    }
}
