//! The page connection's private state: which rung it is on and what it
//! holds open. As in the one-job session, each phase carries its own
//! transport slots, so a connection outside the phase that opened it
//! cannot be written down.

use super::io::{ConnId, Rung};
use crate::session::state::{Link, Polls, Rhythm, Silence};
use crate::session::time::At;

/// What the connection is doing.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Phase {
    /// Not started, or no job followed: nothing open.
    Idle,
    /// A page socket or SSE stream is opening or open. `bridge` polls the
    /// set while a lost stream is replaced, until the new one delivers;
    /// `probe` tries the rung above (never from the top rung).
    Streaming {
        stream: Stream,
        bridge: Option<Polls>,
        probe: Probe,
    },
    /// Waiting before the next attempt on `rung` (WebSocket or SSE).
    Backoff {
        rung: Rung,
        retry_at: At,
        bridge: Option<Polls>,
    },
    /// Polling the set over HTTP, probing SSE now and then.
    Polling { polls: Polls, probe: Probe },
    /// `pagehide`: everything closed until the page comes back.
    Paused,
    /// The transport was lost with `auto_retry` off: everything closed,
    /// the jobs kept, until Reconnect.
    Halted,
    /// Torn down. Final.
    Stopped,
}

/// A probe of the rung above the one delivering.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Probe {
    /// None out; the next at this time (`None`: no probing, as on the top rung).
    Next(Option<At>),
    /// A probe is opening or open; it takes over once it delivers a frame.
    Out(Stream),
}

/// One streaming connection: a page socket or an SSE stream.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Stream {
    pub(crate) conn: ConnId,
    pub(crate) rung: Rung,
    pub(crate) started_at: At,
    pub(crate) link: Link,
    /// When the next heartbeat is due: a ping on a socket; on an SSE
    /// stream, the point from which a keep-alive is expected.
    pub(crate) next_ping_at: Option<At>,
    pub(crate) silence: Option<Silence>,
    /// The rhythm of progress frames across the jobs, for stall checks.
    pub(crate) rhythm: Option<Rhythm>,
}

impl Stream {
    pub(crate) fn new(conn: ConnId, rung: Rung, now: At) -> Self {
        Self {
            conn,
            rung,
            started_at: now,
            link: Link::Opening,
            next_ping_at: None,
            silence: None,
            rhythm: None,
        }
    }

    /// Open (the open event, or a frame that came before it).
    pub(crate) fn is_open(&self) -> bool {
        self.link.opened_at().is_some()
    }
}

impl Phase {
    /// The delivering stream, if any.
    pub(crate) fn stream(&self) -> Option<&Stream> {
        match self {
            Self::Streaming { stream, .. } => Some(stream),
            _ => None,
        }
    }

    /// The probe out, if any.
    pub(crate) fn probe(&self) -> Option<&Stream> {
        match self {
            Self::Streaming {
                probe: Probe::Out(s),
                ..
            }
            | Self::Polling {
                probe: Probe::Out(s),
                ..
            } => Some(s),
            _ => None,
        }
    }

    /// The stream with this id, active or probe, and whether it is the probe.
    pub(crate) fn stream_mut(&mut self, conn: ConnId) -> Option<(&mut Stream, bool)> {
        match self {
            Self::Streaming { stream, probe, .. } => {
                if stream.conn == conn {
                    return Some((stream, false));
                }
                match probe {
                    Probe::Out(s) if s.conn == conn => Some((s, true)),
                    _ => None,
                }
            }
            Self::Polling {
                probe: Probe::Out(s),
                ..
            } if s.conn == conn => Some((s, true)),
            _ => None,
        }
    }

    /// The HTTP polls running: polling mode's, or the bridge.
    pub(crate) fn polls(&self) -> Option<&Polls> {
        match self {
            Self::Polling { polls, .. } => Some(polls),
            Self::Streaming { bridge, .. } | Self::Backoff { bridge, .. } => bridge.as_ref(),
            _ => None,
        }
    }

    pub(crate) fn polls_mut(&mut self) -> Option<&mut Polls> {
        match self {
            Self::Polling { polls, .. } => Some(polls),
            Self::Streaming { bridge, .. } | Self::Backoff { bridge, .. } => bridge.as_mut(),
            _ => None,
        }
    }

    pub(crate) fn probe_slot_mut(&mut self) -> Option<&mut Probe> {
        match self {
            Self::Streaming { probe, .. } | Self::Polling { probe, .. } => Some(probe),
            _ => None,
        }
    }

    /// The rung delivering (or being opened) in this phase.
    pub(crate) fn rung(&self) -> Option<Rung> {
        match self {
            Self::Streaming { stream, .. } => Some(stream.rung),
            Self::Backoff { rung, .. } => Some(*rung),
            Self::Polling { .. } => Some(Rung::Polling),
            _ => None,
        }
    }
}
