//! The session's private state: what it is doing and what it holds open.

use super::time::At;
use super::{AttemptId, RequestId, StatusError};
use crate::JobState;

/// What the session is doing, with what it holds open while doing it: a
/// socket exists only in `Live` and (as a probe) in `Polling`, a fetch only
/// inside a [`Polls`] loop, and each deadline only in the phase it belongs to.
/// Leaving a phase hands back everything it held (`Session::replace_phase`),
/// so nothing outlives the phase that opened it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Phase {
    /// Not started.
    Idle,
    /// WebSocket mode with a socket opening or open; `bridge` polls while a
    /// lost socket is being replaced, until the new one delivers.
    Live {
        socket: SocketSlot,
        bridge: Option<Polls>,
    },
    /// WebSocket mode, waiting before the next socket attempt.
    Backoff { retry_at: At, bridge: Option<Polls> },
    /// HTTP polling mode, probing the socket now and then.
    Polling { polls: Polls, probe: Probe },
    /// A `RefreshToken` action is out; nothing else runs until it is answered.
    AwaitingToken { resume: Resume, deadline: At },
    /// The page was hidden (`pagehide`); everything is closed until it comes back.
    Paused { resume: Resume },
    /// The job reached a terminal state. Final.
    Finished(JobState),
    /// Stopped by request (final) or by an error (Reconnect may revive it).
    Stopped {
        error: Option<StatusError>,
        requested: bool,
    },
}

impl Phase {
    /// A live socket was just lost: its bridge stays, and the session waits
    /// to retry at once until the policy decides what follows (which it
    /// does within the same step).
    pub(crate) fn lost(now: At, bridge: Option<Polls>) -> Self {
        Self::Backoff {
            retry_at: now,
            bridge,
        }
    }

    /// The socket held, opening or open: the live one or the probe.
    pub(crate) fn socket(&self) -> Option<&SocketSlot> {
        match self {
            Self::Live { socket, .. }
            | Self::Polling {
                probe: Probe::Out(socket),
                ..
            } => Some(socket),
            _ => None,
        }
    }

    pub(crate) fn socket_mut(&mut self) -> Option<&mut SocketSlot> {
        match self {
            Self::Live { socket, .. }
            | Self::Polling {
                probe: Probe::Out(socket),
                ..
            } => Some(socket),
            _ => None,
        }
    }

    /// The bridge slot of WebSocket mode (`None` in any other phase).
    pub(crate) fn bridge_mut(&mut self) -> Option<&mut Option<Polls>> {
        match self {
            Self::Live { bridge, .. } | Self::Backoff { bridge, .. } => Some(bridge),
            _ => None,
        }
    }

    pub(crate) fn has_bridge(&self) -> bool {
        matches!(
            self,
            Self::Live {
                bridge: Some(_),
                ..
            } | Self::Backoff {
                bridge: Some(_),
                ..
            }
        )
    }

    /// The HTTP polls running: polling mode's, or the bridge.
    pub(crate) fn polls(&self) -> Option<&Polls> {
        match self {
            Self::Polling { polls, .. } => Some(polls),
            Self::Live { bridge, .. } | Self::Backoff { bridge, .. } => bridge.as_ref(),
            _ => None,
        }
    }

    pub(crate) fn polls_mut(&mut self) -> Option<&mut Polls> {
        match self {
            Self::Polling { polls, .. } => Some(polls),
            Self::Live { bridge, .. } | Self::Backoff { bridge, .. } => bridge.as_mut(),
            _ => None,
        }
    }

    /// The HTTP poll in flight, if any.
    pub(crate) fn fetch(&self) -> Option<Fetch> {
        match self.polls() {
            Some(Polls::InFlight(fetch)) => Some(*fetch),
            _ => None,
        }
    }

    /// When polling mode probes the socket next (`None` while a probe is out).
    pub(crate) fn next_probe_at(&self) -> Option<At> {
        match self {
            Self::Polling {
                probe: Probe::Next(at),
                ..
            } => *at,
            _ => None,
        }
    }
}

/// A loop of HTTP polls: one poll in flight, or the next one due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Polls {
    /// The next poll is due at this time.
    Due(At),
    /// A poll is in flight; the next is scheduled when it is answered.
    InFlight(Fetch),
}

/// The socket side of polling mode.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Probe {
    /// No probe out; the next at this time (`None`: no more probes, as
    /// with automatic retry off).
    Next(Option<At>),
    /// A probe socket is opening or open; it ends polling once it delivers.
    Out(SocketSlot),
}

/// Where to pick up after a pause or a token refresh.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Resume {
    /// Open a socket in WebSocket mode.
    Socket,
    /// Go back to polling: poll at once, and probe at once when `probe_now`.
    Polling {
        probe_now: bool,
        next_probe_at: Option<At>,
    },
}

/// How far a socket has come. Only a socket that delivered its snapshot
/// counts as a success: one that opens and stays silent (a proxy in front of
/// a hung backend) is a failed attempt once the connect timeout passes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Link {
    /// Asked for; not open yet.
    Opening,
    /// Open, no snapshot yet.
    Open { opened_at: At },
    /// Open and its snapshot arrived.
    Proven { opened_at: At },
    /// Proven and up `stable_after_ms` since it opened, which reset the
    /// failure count (once per socket).
    Stable { opened_at: At },
}

impl Link {
    pub(crate) fn opened_at(self) -> Option<At> {
        match self {
            Self::Opening => None,
            Self::Open { opened_at } | Self::Proven { opened_at } | Self::Stable { opened_at } => {
                Some(opened_at)
            }
        }
    }

    pub(crate) fn is_proven(self) -> bool {
        matches!(self, Self::Proven { .. } | Self::Stable { .. })
    }
}

/// The one socket the session may have opening or open.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SocketSlot {
    pub(crate) attempt: AttemptId,
    pub(crate) started_at: At,
    pub(crate) link: Link,
    pub(crate) next_ping_at: Option<At>,
    /// The newest ping not yet answered by its pong, for the latency.
    pub(crate) ping: Option<PendingPing>,
    /// Nothing at all arrived since a ping went out.
    pub(crate) silence: Option<Silence>,
    /// When the last progress frame arrived, and the smoothed gap between
    /// progress frames while the job runs: the rhythm a stall is judged by.
    pub(crate) rhythm: Option<Rhythm>,
    /// `retry_after_ms` from a `server_shutdown` frame, for the close that follows.
    pub(crate) restart_hint: Option<u64>,
}

/// The rhythm of progress frames on one socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rhythm {
    pub(crate) last_at: At,
    /// Smoothed gap between frames; `None` after the first frame.
    pub(crate) gap_ms: Option<u64>,
}

impl Rhythm {
    /// The rhythm after a progress frame at `now`. Gaps are measured only
    /// between frames of a running job (`was_running`), smoothed so one
    /// slow frame does not move the stall threshold much.
    pub(crate) fn after_frame(previous: Option<Self>, was_running: bool, now: At) -> Self {
        match previous {
            Some(r) if was_running => {
                let gap = now.since(r.last_at);
                Self {
                    last_at: now,
                    gap_ms: Some(r.gap_ms.map_or(gap, |g| (3 * g + gap) / 4)),
                }
            }
            _ => Self {
                last_at: now,
                gap_ms: None,
            },
        }
    }

    /// The rhythm after a frame that waited in the browser's queue while the
    /// page slept: the clock moves, the usual gap stays what it was.
    pub(crate) fn after_queued_frame(previous: Option<Self>, now: At) -> Self {
        Self {
            last_at: now,
            gap_ms: previous.and_then(|r| r.gap_ms),
        }
    }

    /// When silence after this rhythm becomes a suspected stall:
    /// `stall_factor` usual gaps, at least `stall_check_min_ms`, counted
    /// from the later of the last frame and `heard` (anything else heard).
    /// `None` while no gap is known or stall checks are off.
    pub(crate) fn stall_at(self, options: &super::SessionOptions, heard: Option<At>) -> Option<At> {
        if options.stall_check_min_ms == 0 {
            return None;
        }
        let wait = self
            .gap_ms?
            .saturating_mul(u64::from(options.stall_factor.max(1)))
            .max(options.stall_check_min_ms);
        let quiet_since = heard.map_or(self.last_at, |h| self.last_at.max(h));
        Some(quiet_since.after(wait))
    }
}

impl SocketSlot {
    pub(crate) fn new(attempt: AttemptId, now: At) -> Self {
        Self {
            attempt,
            started_at: now,
            link: Link::Opening,
            next_ping_at: None,
            ping: None,
            silence: None,
            rhythm: None,
            restart_hint: None,
        }
    }
}

/// A socket that has been silent since a ping went out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Silence {
    /// The socket is dead at this time unless a frame arrives first.
    pub(crate) dead_at: At,
    /// An early ping is out, sent because updates stopped flowing or the
    /// browser went offline: the UI shows "checking connection".
    pub(crate) checking: bool,
    /// A wake check: only the pong of this ping (or of a later one) ends
    /// the silence. After the page slept, frames that arrive may have
    /// waited in the browser's queue since before, and say nothing about
    /// the socket now (see `wake.rs`).
    pub(crate) proof_ping: Option<u64>,
}

/// A heartbeat ping waiting for its pong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PendingPing {
    pub(crate) id: u64,
    pub(crate) sent_at: At,
}

/// The one HTTP poll the session may have in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fetch {
    pub(crate) request: RequestId,
    pub(crate) sent_at: At,
}

/// Why a socket stopped being useful, for deciding what comes next.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Failure {
    /// Back off (counts toward `max_retries`).
    Transient(StatusError),
    /// The server restarts: come back after its hint, without counting.
    Restart(Option<u64>),
    /// The server is full: long wait, poll meanwhile.
    Full,
}

/// The token presented to the server.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Credentials {
    pub(crate) token: Option<String>,
    /// When `token` expires, when known.
    pub(crate) expires_at: Option<At>,
}

impl Credentials {
    /// Takes `token` in place of the current one; its expiry is unknown.
    pub(crate) fn replace(&mut self, token: String) {
        self.token = Some(token);
        self.expires_at = None;
    }
}

/// Hands out the ids that tell one socket, poll or ping from the next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Ids {
    next_attempt: u64,
    next_request: u64,
    next_ping: u64,
}

impl Default for Ids {
    fn default() -> Self {
        Self {
            next_attempt: 1,
            next_request: 1,
            next_ping: 1,
        }
    }
}

impl Ids {
    pub(crate) fn attempt(&mut self) -> AttemptId {
        AttemptId(take_next(&mut self.next_attempt))
    }

    pub(crate) fn request(&mut self) -> RequestId {
        RequestId(take_next(&mut self.next_request))
    }

    pub(crate) fn ping(&mut self) -> u64 {
        take_next(&mut self.next_ping)
    }
}

fn take_next(counter: &mut u64) -> u64 {
    let id = *counter;
    *counter += 1;
    id
}

/// When things last began, for the unknown-job grace and for keeping a
/// burst of lifecycle events to one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Marks {
    /// When following began (Start or Reconnect).
    pub(crate) following_since: Option<At>,
    pub(crate) last_socket_start: Option<At>,
    pub(crate) last_poll_sent: Option<At>,
}
