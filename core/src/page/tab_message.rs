//! The messages the tabs of one origin exchange over their broadcast
//! channel, written and read by hand (a browser build carries no JSON
//! serializer), and the channel's (and lock's) name.
//!
//! A message is one line of text: `upr1 <kind> <from> [<rest>]`. The
//! version prefix lets a tab of a newer build ignore an older tab's
//! messages (and the other way round) instead of misreading them. Job ids
//! are `[A-Za-z0-9_-]` and tab ids are decimal, so spaces separate
//! fields; a token or a frame is always the last field and is taken whole.

use super::fnv::Fnv1a;
use super::io::{PageStatus, Rung, Subscription};
use crate::session::SessionOptions;
use crate::ProcessId;

/// The prefix of every message of this version.
const VERSION: &str = "upr1";

/// A tab, named by a random number it picked when its page connection started.
pub type TabId = u64;

/// One message between the tabs sharing a page connection.
#[derive(Debug, Clone, PartialEq)]
pub enum TabMessage {
    /// The leader is alive; `status` is its connection's, with a
    /// `Reconnecting` time given as a delay from now (tabs do not share
    /// a clock).
    Heartbeat {
        /// The leader.
        from: TabId,
        /// Its connection's status.
        status: PageStatus,
    },
    /// The leader let the lock go (tab closing, frozen, last widget gone).
    Resign {
        /// The leader.
        from: TabId,
    },
    /// A follower follows this job with this token.
    Subscribe {
        /// The follower.
        from: TabId,
        /// The job and its token.
        subscription: Subscription,
    },
    /// A follower no longer follows this job.
    Unsubscribe {
        /// The follower.
        from: TabId,
        /// The job.
        job: ProcessId,
    },
    /// A follower follows nothing any more (last widget gone, tab closing).
    Bye {
        /// The follower.
        from: TabId,
    },
    /// A page frame about one job, as the leader's transport delivered it.
    Frame {
        /// The leader.
        from: TabId,
        /// The frame's text (the page socket's, or an SSE event's data).
        text: String,
    },
}

impl TabMessage {
    /// The tab that sent the message.
    pub fn from(&self) -> TabId {
        match self {
            Self::Heartbeat { from, .. }
            | Self::Resign { from }
            | Self::Subscribe { from, .. }
            | Self::Unsubscribe { from, .. }
            | Self::Bye { from }
            | Self::Frame { from, .. } => *from,
        }
    }

    /// The message as one line of text.
    pub fn encode(&self) -> String {
        let (kind, rest): (&str, String) = match self {
            Self::Heartbeat { status, .. } => ("H", status_text(*status)),
            Self::Resign { .. } => ("R", String::new()),
            Self::Subscribe { subscription, .. } => {
                let mut rest = subscription.job.as_str().to_owned();
                if let Some(token) = &subscription.token {
                    rest.push(' ');
                    rest.push_str(token);
                }
                ("S", rest)
            }
            Self::Unsubscribe { job, .. } => ("U", job.as_str().to_owned()),
            Self::Bye { .. } => ("B", String::new()),
            Self::Frame { text, .. } => ("F", text.clone()),
        };
        let mut out = String::with_capacity(rest.len() + 32);
        out.push_str(VERSION);
        out.push(' ');
        out.push_str(kind);
        out.push(' ');
        out.push_str(&self.from().to_string());
        if !rest.is_empty() {
            out.push(' ');
            out.push_str(&rest);
        }
        out
    }

    /// Reads a message; `None` for anything else (another version, another
    /// kind, a malformed field): such a message is ignored.
    pub fn decode(text: &str) -> Option<Self> {
        let mut head = text.splitn(4, ' ');
        if head.next()? != VERSION {
            return None;
        }
        let kind = head.next()?;
        let from: TabId = head.next()?.parse().ok()?;
        let rest = head.next().unwrap_or("");
        Some(match kind {
            "H" => Self::Heartbeat {
                from,
                status: parse_status(rest)?,
            },
            "R" => Self::Resign { from },
            "S" => {
                let (job, token) = match rest.split_once(' ') {
                    Some((job, token)) => (job, Some(token.to_owned())),
                    None => (rest, None),
                };
                Self::Subscribe {
                    from,
                    subscription: Subscription {
                        job: ProcessId::parse(job).ok()?,
                        token,
                    },
                }
            }
            "U" => Self::Unsubscribe {
                from,
                job: ProcessId::parse(rest).ok()?,
            },
            "B" => Self::Bye { from },
            "F" if !rest.is_empty() => Self::Frame {
                from,
                text: rest.to_owned(),
            },
            _ => return None,
        })
    }
}

/// The name of the broadcast channel and of the Web Lock shared by the
/// tabs whose widgets would share one page connection: same server, same
/// knobs. Both are scoped to the origin by the browser.
pub fn channel_name(ws_base: &str, http_base: &str, options: &SessionOptions) -> String {
    let mut fnv = Fnv1a::new();
    let mut eat = |bytes: &[u8]| fnv.eat(bytes);
    eat(ws_base.as_bytes());
    eat(&[0]);
    eat(http_base.as_bytes());
    eat(&[0]);
    let o = options;
    for n in [
        u64::from(o.auto_retry),
        o.initial_retry_ms,
        o.max_retry_ms,
        o.backoff_factor.to_bits(),
        u64::from(o.jitter),
        u64::from(o.max_retries),
        o.poll_interval_ms,
        o.probe_interval_ms,
        o.connect_timeout_ms,
        o.heartbeat_interval_ms,
        o.pong_timeout_ms,
        o.stable_after_ms,
        o.server_full_retry_ms,
        o.poll_timeout_ms,
        o.stall_check_min_ms,
        u64::from(o.stall_factor),
        o.stall_pong_timeout_ms,
    ] {
        eat(&n.to_le_bytes());
    }
    let hash = fnv.finish();
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut name = String::from("upload-progress/v1/");
    for shift in (0..16).rev() {
        name.push(HEX[((hash >> (shift * 4)) & 0xf) as usize] as char);
    }
    name
}

fn rung_char(rung: Rung) -> char {
    match rung {
        Rung::WebSocket => 'w',
        Rung::Sse => 's',
        Rung::Polling => 'p',
    }
}

fn status_text(status: PageStatus) -> String {
    let (kind, rung, delay) = match status {
        PageStatus::Idle => ('I', None, None),
        PageStatus::Connecting { rung } => ('C', Some(rung), None),
        PageStatus::Live { rung } => ('L', Some(rung), None),
        PageStatus::Checking { rung } => ('K', Some(rung), None),
        PageStatus::Reconnecting { rung, retry_at } => ('R', Some(rung), Some(retry_at)),
        PageStatus::Offline => ('O', None, None),
        PageStatus::Paused => ('P', None, None),
        PageStatus::Halted => ('H', None, None),
        PageStatus::Stopped => ('X', None, None),
    };
    let mut out = String::from(kind);
    if let Some(rung) = rung {
        out.push(rung_char(rung));
    }
    if let Some(delay) = delay {
        out.push_str(&delay.to_string());
    }
    out
}

fn parse_status(text: &str) -> Option<PageStatus> {
    let mut chars = text.chars();
    let kind = chars.next()?;
    let rung = match chars.next() {
        Some('w') => Some(Rung::WebSocket),
        Some('s') => Some(Rung::Sse),
        Some('p') => Some(Rung::Polling),
        Some(_) => return None,
        None => None,
    };
    let tail = chars.as_str();
    let status = match (kind, rung) {
        ('I', None) => PageStatus::Idle,
        ('C', Some(rung)) => PageStatus::Connecting { rung },
        ('L', Some(rung)) => PageStatus::Live { rung },
        ('K', Some(rung)) => PageStatus::Checking { rung },
        ('R', Some(rung)) => {
            return Some(PageStatus::Reconnecting {
                rung,
                retry_at: tail.parse().ok()?,
            })
        }
        ('O', None) => PageStatus::Offline,
        ('P', None) => PageStatus::Paused,
        ('H', None) => PageStatus::Halted,
        ('X', None) => PageStatus::Stopped,
        _ => return None,
    };
    tail.is_empty().then_some(status)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(id: &str) -> ProcessId {
        ProcessId::parse(id).unwrap()
    }

    #[test]
    fn every_message_reads_back_as_written() {
        let messages = [
            TabMessage::Heartbeat {
                from: 7,
                status: PageStatus::Live {
                    rung: Rung::WebSocket,
                },
            },
            TabMessage::Heartbeat {
                from: 7,
                status: PageStatus::Reconnecting {
                    rung: Rung::Sse,
                    retry_at: 1500,
                },
            },
            TabMessage::Heartbeat {
                from: 7,
                status: PageStatus::Idle,
            },
            TabMessage::Resign { from: u64::MAX },
            TabMessage::Subscribe {
                from: 1,
                subscription: Subscription {
                    job: job("a-1"),
                    token: Some("tok en with spaces".into()),
                },
            },
            TabMessage::Subscribe {
                from: 1,
                subscription: Subscription {
                    job: job("a-1"),
                    token: None,
                },
            },
            TabMessage::Unsubscribe {
                from: 2,
                job: job("b_2"),
            },
            TabMessage::Bye { from: 3 },
            TabMessage::Frame {
                from: 4,
                text: r#"{"type":"progress","progress":{"process_id":"x y"}}"#.into(),
            },
        ];
        for message in messages {
            let text = message.encode();
            assert_eq!(TabMessage::decode(&text), Some(message), "{text}");
        }
    }

    #[test]
    fn the_wire_form_is_versioned_text() {
        let text = TabMessage::Unsubscribe {
            from: 12,
            job: job("j"),
        }
        .encode();
        assert_eq!(text, "upr1 U 12 j");
        let hb = TabMessage::Heartbeat {
            from: 5,
            status: PageStatus::Reconnecting {
                rung: Rung::Polling,
                retry_at: 40,
            },
        };
        assert_eq!(hb.encode(), "upr1 H 5 Rp40");
    }

    #[test]
    fn foreign_or_broken_messages_are_ignored() {
        for text in [
            "",
            "upr2 B 1",
            "upr1 Z 1",
            "upr1 B x",
            "upr1 B -1",
            "upr1 S 1 bad/id",
            "upr1 U 1",
            "upr1 F 1",
            "upr1 H 1 Lq",
            "upr1 H 1 Lw9",
            "upr1 H 1 Rw",
            "upr1 H 1 I w",
            "{\"type\":\"progress\"}",
        ] {
            assert_eq!(TabMessage::decode(text), None, "{text:?}");
        }
    }

    #[test]
    fn the_channel_name_follows_the_server_and_the_knobs() {
        let options = SessionOptions::default();
        let name = channel_name("ws://h", "http://h", &options);
        assert!(name.starts_with("upload-progress/v1/"));
        assert_eq!(name.len(), "upload-progress/v1/".len() + 16);
        assert_eq!(name, channel_name("ws://h", "http://h", &options.clone()));
        assert_ne!(name, channel_name("ws://g", "http://h", &options));
        assert_ne!(name, channel_name("ws://h", "http://g", &options));
        let faster = SessionOptions {
            heartbeat_interval_ms: options.heartbeat_interval_ms + 1,
            ..options.clone()
        };
        assert_ne!(name, channel_name("ws://h", "http://h", &faster));
    }
}
