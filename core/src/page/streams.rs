//! Streams: opening a rung, what their events do, where a lost one leads,
//! probing the rung above and climbing back.

use super::connection::SSE_KEEPALIVE_MS;
use super::io::{ConnId, PageAction, Rung};
use super::ladder::Step;
use super::state::{Phase, Probe, Stream};
use super::PageConnection;
use crate::session::backoff::restart_delay;
use crate::session::state::{Link, Polls, Rhythm, Silence};
use crate::session::time::At;
use crate::session::{AttemptId, SessionEvent};
use crate::{CloseClass, ProcessId, Progress};

/// Why a stream stopped being useful.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Loss {
    /// Counts toward the rung's retries.
    Failure,
    /// The server restarts: come back after its hint, without counting.
    Restart(Option<u64>),
    /// The server is full: poll, and probe after `server_full_retry_ms`.
    Full,
}

impl PageConnection {
    /// Opens the ladder's rung for the set (nothing when no job is followed).
    pub(super) fn connect(&mut self, now: At) {
        if !self.started || self.jobs.is_empty() {
            return;
        }
        match self.ladder.rung {
            Rung::Polling => self.enter_polling(now, self.options.probe_interval_ms),
            rung => self.open_stream(rung, None, now),
        }
    }

    /// A new stream on `rung` becomes the transport; `bridge` goes on
    /// until it delivers.
    fn open_stream(&mut self, rung: Rung, bridge: Option<Polls>, now: At) {
        let stream = self.new_stream(rung, now, false);
        self.jobs.expect_snapshots();
        let probe = Probe::Next(
            rung.above()
                .map(|_| now.after(self.options.probe_interval_ms)),
        );
        self.phase = Phase::Streaming {
            stream,
            bridge,
            probe,
        };
    }

    fn new_stream(&mut self, rung: Rung, now: At, probe: bool) -> Stream {
        let conn = ConnId(self.next_id());
        // An SSE stream names its set in its URL; a socket subscribes once open.
        let jobs = match rung {
            Rung::Sse => self.jobs.subscriptions(),
            _ => Vec::new(),
        };
        self.push(PageAction::Open { conn, rung, jobs });
        if rung == Rung::WebSocket {
            let number = if probe { 1 } else { self.ladder.failures + 1 };
            self.push(PageAction::Event(SessionEvent::AttemptOpened {
                attempt: AttemptId(conn.0),
                number,
                probe,
            }));
        }
        self.last_stream_start = Some(now);
        Stream::new(conn, rung, now)
    }

    /// Polling mode: poll now, probe SSE after `probe_in`.
    pub(super) fn enter_polling(&mut self, now: At, probe_in: u64) {
        let probe = Probe::Next(Some(now.after(probe_in)));
        // A bridge poll in flight simply becomes the first poll.
        let polls = match std::mem::replace(&mut self.phase, Phase::Idle) {
            Phase::Backoff {
                bridge: Some(polls @ Polls::InFlight(_)),
                ..
            } => polls,
            old => {
                self.release(old, "falling back to polling");
                Polls::Due(now)
            }
        };
        self.phase = Phase::Polling { polls, probe };
        if let Phase::Polling {
            polls: Polls::Due(_),
            ..
        } = self.phase
        {
            if !self.offline() {
                self.start_poll(now);
            }
        }
    }

    /// Opens a probe of the rung above the one delivering.
    pub(super) fn start_probe(&mut self, now: At) {
        let Some(above) = self.phase.rung().and_then(Rung::above) else {
            return;
        };
        let stream = self.new_stream(above, now, true);
        let old = self
            .phase
            .probe_slot_mut()
            .map(|slot| std::mem::replace(slot, Probe::Out(stream)));
        if let Some(Probe::Out(old)) = old {
            self.push(PageAction::Close {
                conn: old.conn,
                reason: "replaced",
            });
        }
    }

    pub(super) fn on_opened(&mut self, conn: ConnId, now: At) {
        let heartbeat = self.options.heartbeat_interval_ms.max(1);
        let Some((stream, _)) = self.phase.stream_mut(conn) else {
            return;
        };
        if stream.link != Link::Opening {
            return;
        }
        stream.link = Link::Open { opened_at: now };
        stream.next_ping_at = Some(now.after(heartbeat));
        self.last_heard = Some(now);
        if stream.rung == Rung::WebSocket {
            for subscription in self.jobs.subscriptions() {
                self.push(PageAction::Subscribe { conn, subscription });
            }
        }
    }

    /// Anything from `conn` proves it alive.
    pub(super) fn heard(&mut self, conn: ConnId, now: At) {
        let heartbeat = self.options.heartbeat_interval_ms.max(1);
        let Some((stream, _)) = self.phase.stream_mut(conn) else {
            return;
        };
        let was_checking = stream.silence.is_some_and(|s| s.checking);
        stream.silence = None;
        if stream.rung == Rung::Sse {
            // The server's keep-alives are the stream's heartbeat: the
            // silence check is due a whole interval after the last event,
            // so a quiet stream that keeps its promise is never dropped.
            stream.next_ping_at = Some(now.after(heartbeat));
            if was_checking {
                // A keep-alive answered a suspected stall: the stream is
                // fine and the job is quiet. No new suspicion until its
                // frames have a rhythm again.
                stream.rhythm = None;
            }
        }
        if stream.link == Link::Opening {
            // A frame before the open event: it is open anyway.
            stream.link = Link::Open { opened_at: now };
            stream.next_ping_at = Some(now.after(heartbeat));
        }
        self.last_heard = Some(now);
    }

    pub(super) fn on_frame(&mut self, conn: ConnId, job: &ProcessId, progress: Progress, now: At) {
        let is_probe = match self.phase.stream_mut(conn) {
            Some((_, is_probe)) => is_probe,
            None => return,
        };
        self.heard(conn, now);
        if is_probe {
            self.climb(now);
        }
        let running = self.jobs.any_running();
        let mut proven = false;
        if let Phase::Streaming { stream, .. } = &mut self.phase {
            if let Link::Open { opened_at } = stream.link {
                stream.link = Link::Proven { opened_at };
                proven = true;
            }
            stream.rhythm = Some(Rhythm::after_frame(stream.rhythm, running, now));
        }
        if proven {
            self.not_before = None;
            self.end_bridge();
            if self.phase.rung() == Some(Rung::WebSocket) {
                self.push(PageAction::Event(SessionEvent::SocketLive {
                    attempt: AttemptId(conn.0),
                }));
            }
        }
        self.apply(job, progress, now);
    }

    /// The probe delivered: it becomes the transport, the old one closes.
    fn climb(&mut self, now: At) {
        let (probe, rest) = match std::mem::replace(&mut self.phase, Phase::Idle) {
            Phase::Streaming {
                stream,
                bridge,
                probe: Probe::Out(probe),
            } => (
                probe,
                Phase::Streaming {
                    stream,
                    bridge,
                    probe: Probe::Next(None),
                },
            ),
            Phase::Polling {
                polls,
                probe: Probe::Out(probe),
            } => (
                probe,
                Phase::Polling {
                    polls,
                    probe: Probe::Next(None),
                },
            ),
            other => {
                self.phase = other;
                return;
            }
        };
        self.release(rest, "climbing back");
        self.ladder.climbed(probe.rung);
        if probe.rung == Rung::WebSocket {
            self.push(PageAction::Event(SessionEvent::BackOnSocket));
        }
        let next_probe = probe
            .rung
            .above()
            .map(|_| now.after(self.options.probe_interval_ms));
        self.phase = Phase::Streaming {
            stream: probe,
            bridge: None,
            probe: Probe::Next(next_probe),
        };
    }

    /// The new stream delivers: the bridge polls end.
    fn end_bridge(&mut self) {
        if let Phase::Streaming { bridge, .. } = &mut self.phase {
            if let Some(Polls::InFlight(f)) = bridge.take() {
                self.push(PageAction::CancelPoll { request: f.request });
            }
        }
    }

    pub(super) fn on_closed(
        &mut self,
        conn: ConnId,
        code: u16,
        retry_after_ms: Option<u64>,
        now: At,
    ) {
        let loss = match CloseClass::of(code) {
            CloseClass::ServerRestart => Loss::Restart(retry_after_ms),
            CloseClass::ServerFull => Loss::Full,
            // A page socket refused as a whole (policy, auth, a normal
            // close) must not stop the page: the rungs below answer per job.
            _ => Loss::Failure,
        };
        let Some((rung, is_probe)) = self.phase.stream_mut(conn).map(|(s, p)| (s.rung, p)) else {
            return;
        };
        if rung == Rung::WebSocket {
            self.push(PageAction::Event(SessionEvent::SocketClosed {
                attempt: AttemptId(conn.0),
                code,
                reason: String::new(),
            }));
        }
        if is_probe {
            self.probe_lost(loss, now);
        } else {
            self.stream_lost(loss, now);
        }
    }

    /// Closes the probe (already gone or given up) and schedules the next.
    pub(super) fn probe_lost(&mut self, loss: Loss, now: At) {
        let wait = match loss {
            Loss::Failure => self.options.probe_interval_ms,
            Loss::Restart(hint) => restart_delay(&self.options, hint, &mut self.rng),
            Loss::Full => self.options.server_full_retry_ms,
        };
        if let Some(slot) = self.phase.probe_slot_mut() {
            *slot = Probe::Next(Some(now.after(wait)));
        }
    }

    /// Decides what follows the transport's stream (already gone or given up).
    pub(super) fn stream_lost(&mut self, loss: Loss, now: At) {
        let Phase::Streaming {
            stream,
            bridge,
            probe,
        } = std::mem::replace(&mut self.phase, Phase::Idle)
        else {
            return;
        };
        if let Probe::Out(p) = probe {
            self.push(PageAction::Close {
                conn: p.conn,
                reason: "transport lost",
            });
        }
        let rung = stream.rung;
        if !self.options.auto_retry {
            // As a one-job session without automatic retry stops: every
            // loss, offline or not; only Reconnect starts again.
            self.release(
                Phase::Backoff {
                    rung,
                    retry_at: now,
                    bridge,
                },
                "automatic reconnection is off",
            );
            self.phase = Phase::Halted;
            return;
        }
        // Keep the jobs fresh over HTTP while the stream is replaced.
        let bridge = bridge.or_else(|| {
            self.jobs
                .iter()
                .any(|(_, j)| j.shown.is_some())
                .then_some(Polls::Due(now))
        });
        self.phase = Phase::Backoff {
            rung,
            retry_at: now,
            bridge,
        };
        let retry_at = match loss {
            Loss::Restart(hint) => {
                if let Some(hint) = hint {
                    self.not_before = Some(now.after(hint));
                }
                now.after(restart_delay(&self.options, hint, &mut self.rng))
            }
            Loss::Full => {
                self.ladder.climbed(Rung::Polling);
                self.push(PageAction::Event(SessionEvent::FellBackToPolling));
                self.enter_polling(now, self.options.server_full_retry_ms);
                return;
            }
            // Failures while offline say nothing about the server: wait
            // (uncounted) until the browser is back online.
            Loss::Failure if self.offline() => now,
            Loss::Failure => match self.ladder.failed(&self.options, &mut self.rng) {
                Step::Retry { delay_ms } => {
                    if rung == Rung::WebSocket {
                        self.push(PageAction::Event(SessionEvent::BackoffChosen {
                            delay_ms,
                            // The retry's number, as the session counts it.
                            attempt: self.ladder.failures,
                            max_attempts: self.options.max_retries,
                        }));
                    }
                    now.after(delay_ms)
                }
                Step::Down(Rung::Polling) => {
                    self.push(PageAction::Event(SessionEvent::FellBackToPolling));
                    self.enter_polling(now, self.options.probe_interval_ms);
                    return;
                }
                Step::Down(lower) => {
                    let bridge = match std::mem::replace(&mut self.phase, Phase::Idle) {
                        Phase::Backoff { bridge, .. } => bridge,
                        _ => None,
                    };
                    self.open_stream(lower, bridge, now);
                    return;
                }
            },
        };
        if let Phase::Backoff {
            retry_at: at,
            bridge,
            ..
        } = &mut self.phase
        {
            *at = retry_at;
            let start = matches!(bridge, Some(Polls::Due(_)));
            if start && !self.offline() {
                self.start_poll(now);
            }
        }
    }

    /// The backoff is over: open the ladder's rung again; a bridge goes on.
    pub(super) fn retry(&mut self, now: At) {
        let Phase::Backoff { bridge, .. } = std::mem::replace(&mut self.phase, Phase::Idle) else {
            return;
        };
        if self.jobs.is_empty() {
            self.release(
                Phase::Backoff {
                    rung: self.ladder.rung,
                    retry_at: now,
                    bridge,
                },
                "no jobs left",
            );
            return;
        }
        match self.ladder.rung {
            Rung::Polling => {
                self.phase = Phase::Backoff {
                    rung: Rung::Polling,
                    retry_at: now,
                    bridge,
                };
                self.enter_polling(now, self.options.probe_interval_ms);
            }
            rung => self.open_stream(rung, bridge, now),
        }
    }

    /// Sends a heartbeat: a ping on a socket; on SSE, the keep-alive is
    /// now expected. `early` is a suspected stall.
    pub(super) fn heartbeat(&mut self, conn: ConnId, now: At, early: bool) {
        let o = &self.options;
        let interval = o.heartbeat_interval_ms.max(1);
        let (pong_timeout, stall_timeout) = (o.pong_timeout_ms, o.stall_pong_timeout_ms);
        let Some((stream, _)) = self.phase.stream_mut(conn) else {
            return;
        };
        let timeout = match (stream.rung, early) {
            // Nothing can be asked of an event stream: a suspected stall is
            // proven by the next keep-alive, which may be a whole period away.
            (Rung::Sse, true) => SSE_KEEPALIVE_MS + stall_timeout,
            (_, true) => stall_timeout,
            (_, false) => pong_timeout,
        };
        if !early {
            stream.next_ping_at = Some(now.after(interval));
        }
        let dead_at = now.after(timeout);
        stream.silence = Some(match stream.silence {
            Some(s) => Silence {
                dead_at: s.dead_at.min(dead_at),
                checking: s.checking || early,
                proof_ping: s.proof_ping,
            },
            None => Silence {
                dead_at,
                checking: early,
                proof_ping: None,
            },
        });
        if stream.rung == Rung::WebSocket {
            let id = self.next_id();
            self.push(PageAction::Ping { conn, id });
        }
    }

    /// The set changed under an SSE stream: reopen it (or the SSE probe)
    /// with the new set, without counting anything as a failure.
    pub(super) fn resync(&mut self, now: At) {
        self.resync_at = None;
        let subs_changed = |s: &Stream| s.rung == Rung::Sse;
        if self.phase.stream().is_some_and(subs_changed) {
            let Phase::Streaming {
                stream,
                bridge,
                probe,
            } = std::mem::replace(&mut self.phase, Phase::Idle)
            else {
                return;
            };
            self.push(PageAction::Close {
                conn: stream.conn,
                reason: "set changed",
            });
            let fresh = self.new_stream(Rung::Sse, now, false);
            self.jobs.expect_snapshots();
            self.phase = Phase::Streaming {
                stream: fresh,
                bridge,
                probe,
            };
        }
        if self.phase.probe().is_some_and(subs_changed) {
            let fresh = self.new_stream(Rung::Sse, now, true);
            if let Some(slot) = self.phase.probe_slot_mut() {
                if let Probe::Out(old) = std::mem::replace(slot, Probe::Out(fresh)) {
                    self.push(PageAction::Close {
                        conn: old.conn,
                        reason: "set changed",
                    });
                }
            }
        }
    }
}
