//! One page connection for every tab of an origin: which tab holds it.
//!
//! The tabs whose widgets would share a page connection (same server,
//! same knobs: [`channel_name`](super::tab_message::channel_name)) elect
//! one `Leader` with a Web Lock of that name. The leader runs the real
//! [`PageConnection`](super::PageConnection) for the jobs of every tab; the
//! others are `Follower`s: their own connection's transport is the
//! broadcast channel, over which the leader relays each job's frames and
//! its connection's status, and over which they send it their
//! subscriptions. A tab without Web Locks or a broadcast channel is `Solo`:
//! its own connection, as if it were the only tab.
//!
//! # Rules
//!
//! - Every tab but a solo one asks for the lock when it starts; the browser
//!   grants it to one tab at a time, in order, and to the next as soon as
//!   the holder lets go or its tab is gone.
//! - The leader says so at once (its connection "connecting") and every
//!   [`HEARTBEAT_MS`] after, with its connection's status, and again
//!   whenever that status changes, except to paused (its page is hiding;
//!   it resigns next). A frame it relays is heard as a heartbeat too.
//! - A follower hearing a leader it did not know sends it all its
//!   subscriptions (job + token); the leader follows the union of every
//!   tab's jobs, and replays the newest frame it has of a job a follower
//!   joins, so the follower need not wait for the next change.
//! - Frames are the page socket's (an SSE event carries the same text); a
//!   set poll's answer is relayed whole, as its body, and read by each
//!   follower as one snapshot per job.
//! - A follower shows the leader's status. One that hears nothing for
//!   [`SILENT_AFTER_MS`] shows "reconnecting" (never a stale "live"); after
//!   [`STEAL_AFTER_MS`] (plus up to [`STEAL_JITTER_MS`], so followers do
//!   not steal from each other in lockstep) it steals the lock: a leader
//!   that is alive but silent is a hard-frozen tab. The new leader reaches
//!   the server in well under 5 s after the old one went silent.
//! - A leader whose page freezes or enters the back/forward cache resigns:
//!   it releases the lock, closes its connection and says so, so a follower
//!   takes over at once. On resume it rejoins as a follower. A leader
//!   whose lock was stolen becomes a follower.
//! - A follower's unsubscription (one job, or all of its jobs with `Bye`)
//!   reaches the leader, which lets a job go when no tab follows it any
//!   more (its own widgets are counted by the shell).
//! - A job's end, refusal or token refresh is decided by each tab's own
//!   connection from the relayed frames, so it touches that job only.

use std::collections::VecDeque;

use super::io::{PageStatus, Rung, Subscription};
use super::tab_message::{TabId, TabMessage};
use crate::session::Millis;
use crate::ProcessId;

/// How often the leader says it is alive.
pub const HEARTBEAT_MS: u64 = 1_000;
/// A follower that heard nothing from a leader for this long shows
/// "reconnecting".
pub const SILENT_AFTER_MS: u64 = 2_500;
/// A follower that heard nothing from a leader for this long (plus its
/// jitter) steals the lock.
pub const STEAL_AFTER_MS: u64 = 3_000;
/// The largest extra wait before a steal, picked per tab from its id.
pub const STEAL_JITTER_MS: u64 = 500;

/// What a tab is in the election.
#[derive(Debug, Clone, PartialEq)]
pub enum Role {
    /// No Web Locks or no broadcast channel: a connection of its own.
    Solo,
    /// Holds the lock and the real connection.
    Leader {
        /// Next heartbeat.
        next_heartbeat: Millis,
        /// Which follower follows which job.
        followed: Vec<(TabId, ProcessId)>,
        /// The newest relayed frame of each job, replayed to a joining follower.
        latest: Vec<(ProcessId, String)>,
    },
    /// Waits for the lock; gets frames from the leader.
    Follower {
        /// The leader last heard, and its status.
        leader: Option<(TabId, PageStatus)>,
        /// When the leader was last heard (or the wait began).
        heard_at: Millis,
        /// A steal was asked for since then.
        stealing: bool,
    },
    /// Frozen or in the back/forward cache: no lock, no connection.
    Parked,
}

/// What the page did, as far as the election cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lifecycle {
    /// `freeze`: the page stops running soon.
    Frozen,
    /// `pagehide`; `persisted`: into the back/forward cache, else the tab
    /// goes away.
    Hidden {
        /// The page may come back.
        persisted: bool,
    },
    /// `resume`, or `pageshow` from the back/forward cache.
    Resumed,
}

/// What the shell does for the election.
#[derive(Debug, Clone, PartialEq)]
pub enum TabAction {
    /// Ask for the lock, waiting in line.
    RequestLock,
    /// Let the lock go, or stop waiting for it.
    ReleaseLock,
    /// Take the lock from its holder.
    StealLock,
    /// Send this to the other tabs.
    Post(TabMessage),
    /// The tab's role changed: the connection starts over on its new
    /// transport (the server for a leader, the channel for a follower), or
    /// closes everything (parked).
    Became(RoleKind),
    /// Leader: follow this job (a follower's) on the real connection.
    Subscribe(Subscription),
    /// Leader: no other tab follows this job; let it go unless a widget
    /// of this tab follows it.
    Unsubscribe(ProcessId),
    /// Follower: the leader relayed this frame.
    Deliver(String),
    /// Follower: the leader is alive.
    LeaderHeard,
    /// What [`Tabs::shown`] gives may have changed: show it again.
    StatusChanged,
}

/// Who answers a token refresh the connection asks for a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenSource {
    /// A widget of this tab has a token provider for the job: ask it.
    Provider,
    /// This tab leads and another tab follows the job: that tab's widget
    /// refreshes it and subscribes again through the leader. Wait for it.
    OtherTab,
    /// Nobody can: feed [`PageInput::NoTokenSource`](super::PageInput::NoTokenSource).
    Nobody,
}

/// A role without its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoleKind {
    /// See [`Role::Solo`].
    Solo,
    /// See [`Role::Leader`].
    Leader,
    /// See [`Role::Follower`].
    Follower,
    /// See [`Role::Parked`].
    Parked,
}

/// One tab's part in the election. Sans-IO, like the connection.
#[derive(Debug, Clone)]
pub struct Tabs {
    me: TabId,
    role: Role,
    /// Leader: its connection's status, sent with each heartbeat.
    status: PageStatus,
    /// Follower: what it told the leader it follows.
    relayed: Vec<Subscription>,
    /// Follower: showing "reconnecting" for a silent leader.
    silent: bool,
    actions: VecDeque<TabAction>,
}

impl Tabs {
    /// Starts the tab `me`; `shared`: the browser has Web Locks and a
    /// broadcast channel.
    pub fn new(me: TabId, shared: bool, now: Millis) -> Self {
        let mut tabs = Self {
            me,
            role: Role::Solo,
            status: PageStatus::Idle,
            relayed: Vec::new(),
            silent: false,
            actions: VecDeque::new(),
        };
        if shared {
            tabs.follow(now);
        }
        tabs
    }

    /// The tab's role.
    pub fn role(&self) -> &Role {
        &self.role
    }

    /// The role without its data.
    pub fn kind(&self) -> RoleKind {
        match self.role {
            Role::Solo => RoleKind::Solo,
            Role::Leader { .. } => RoleKind::Leader,
            Role::Follower { .. } => RoleKind::Follower,
            Role::Parked => RoleKind::Parked,
        }
    }

    /// The next action for the shell.
    pub fn poll_action(&mut self) -> Option<TabAction> {
        self.actions.pop_front()
    }

    /// The next deadline, if any.
    pub fn poll_timeout(&self) -> Option<Millis> {
        match &self.role {
            Role::Leader { next_heartbeat, .. } => Some(*next_heartbeat),
            Role::Follower {
                heard_at, stealing, ..
            } => {
                let silent = (!self.silent).then(|| heard_at.saturating_add(SILENT_AFTER_MS));
                let steal = (!stealing).then(|| heard_at.saturating_add(self.steal_after()));
                silent.into_iter().chain(steal).min()
            }
            Role::Solo | Role::Parked => None,
        }
    }

    /// What a widget of this tab shows, given its own connection's status:
    /// a follower shows the leader's (or "reconnecting" while the leader
    /// is silent, "connecting" before one is heard).
    pub fn shown(&self, own: PageStatus) -> PageStatus {
        match &self.role {
            Role::Follower { .. } if own == PageStatus::Idle => own,
            Role::Follower {
                leader, heard_at, ..
            } => match leader {
                _ if self.silent => PageStatus::Reconnecting {
                    rung: Rung::WebSocket,
                    retry_at: heard_at.saturating_add(self.steal_after()),
                },
                Some((_, status)) => *status,
                None => PageStatus::Connecting {
                    rung: Rung::WebSocket,
                },
            },
            _ => own,
        }
    }

    /// The lock is ours: lead.
    pub fn handle_lock_granted(&mut self, now: Millis) {
        if !matches!(self.role, Role::Follower { .. }) {
            // Granted after we stopped waiting: give it back.
            self.push(TabAction::ReleaseLock);
            return;
        }
        self.relayed.clear();
        self.silent = false;
        // What its connection was as a follower says nothing about the
        // real one, which starts now.
        self.status = PageStatus::Connecting {
            rung: Rung::WebSocket,
        };
        self.role = Role::Leader {
            next_heartbeat: now.saturating_add(HEARTBEAT_MS),
            followed: Vec::new(),
            latest: Vec::new(),
        };
        self.push(TabAction::Became(RoleKind::Leader));
        self.push(TabAction::StatusChanged);
        self.heartbeat(now);
    }

    /// The lock was taken from us (or the request failed): follow.
    pub fn handle_lock_lost(&mut self, now: Millis) {
        if matches!(self.role, Role::Leader { .. }) {
            self.follow(now);
        }
    }

    /// A message from another tab.
    pub fn handle_message(&mut self, message: TabMessage, now: Millis) {
        let from = message.from();
        if from == self.me {
            return;
        }
        match (&mut self.role, message) {
            (Role::Leader { followed, .. }, TabMessage::Subscribe { subscription, .. }) => {
                let job = subscription.job.clone();
                if !followed.iter().any(|(t, j)| *t == from && *j == job) {
                    followed.push((from, job.clone()));
                }
                self.push(TabAction::Subscribe(subscription));
                if let Some(text) = self.latest(&job) {
                    let from = self.me;
                    self.push(TabAction::Post(TabMessage::Frame { from, text }));
                }
            }
            (Role::Leader { followed, .. }, TabMessage::Unsubscribe { job, .. }) => {
                followed.retain(|(t, j)| !(*t == from && *j == job));
                self.release_if_unfollowed(job);
            }
            (Role::Leader { followed, .. }, TabMessage::Bye { .. }) => {
                let mut gone = Vec::new();
                followed.retain(|(t, j)| {
                    let theirs = *t == from;
                    if theirs {
                        gone.push(j.clone());
                    }
                    !theirs
                });
                for job in gone {
                    self.release_if_unfollowed(job);
                }
            }
            (
                Role::Follower {
                    leader,
                    heard_at,
                    stealing,
                },
                message @ (TabMessage::Heartbeat { .. } | TabMessage::Frame { .. }),
            ) => {
                let known = leader.is_some_and(|(tab, _)| tab == from);
                let status = match (&message, *leader) {
                    (TabMessage::Heartbeat { status, .. }, _) => local_status(*status, now),
                    (_, Some((_, status))) if known => status,
                    // A frame from a leader not heard yet: it delivers.
                    _ => PageStatus::Live {
                        rung: Rung::WebSocket,
                    },
                };
                let changed = !known || leader.is_some_and(|(_, s)| s != status) || self.silent;
                *leader = Some((from, status));
                *heard_at = now;
                *stealing = false;
                self.silent = false;
                if !known {
                    for subscription in self.relayed.clone() {
                        let from = self.me;
                        self.push(TabAction::Post(TabMessage::Subscribe {
                            from,
                            subscription,
                        }));
                    }
                }
                if let TabMessage::Frame { text, .. } = message {
                    self.push(TabAction::Deliver(text));
                }
                self.push(TabAction::LeaderHeard);
                if changed {
                    self.push(TabAction::StatusChanged);
                }
            }
            (Role::Follower { leader, .. }, TabMessage::Resign { .. })
                if leader.is_some_and(|(tab, _)| tab == from) =>
            {
                // The lock goes to the next in line now; until it leads,
                // nothing delivers.
                *leader = None;
                self.silent = true;
                self.push(TabAction::StatusChanged);
            }
            _ => {}
        }
    }

    /// The page froze, hid or came back.
    pub fn handle_lifecycle(&mut self, event: Lifecycle, now: Millis) {
        match (event, &self.role) {
            (_, Role::Solo) => {}
            (Lifecycle::Resumed, Role::Parked) => self.follow(now),
            (Lifecycle::Resumed, _) => {}
            (Lifecycle::Frozen | Lifecycle::Hidden { .. }, Role::Parked) => {}
            (Lifecycle::Frozen | Lifecycle::Hidden { .. }, _) => self.leave(),
        }
    }

    /// Leaves the election for good (the shell is dropping its connection).
    pub fn stop(&mut self) {
        if !matches!(self.role, Role::Solo | Role::Parked) {
            self.leave();
        }
    }

    /// Runs every deadline that passed by `now`.
    pub fn handle_timeout(&mut self, now: Millis) {
        let steal_after = self.steal_after();
        match &mut self.role {
            Role::Leader { next_heartbeat, .. } if now >= *next_heartbeat => {
                *next_heartbeat = now.saturating_add(HEARTBEAT_MS);
                self.heartbeat(now);
            }
            Role::Follower {
                heard_at, stealing, ..
            } => {
                let heard_at = *heard_at;
                if !*stealing && now >= heard_at.saturating_add(steal_after) {
                    *stealing = true;
                    self.push(TabAction::StealLock);
                }
                if !self.silent && now >= heard_at.saturating_add(SILENT_AFTER_MS) {
                    self.silent = true;
                    self.push(TabAction::StatusChanged);
                }
            }
            _ => {}
        }
    }

    /// Leader: its connection's status changed; the followers hear it now.
    pub fn set_status(&mut self, status: PageStatus, now: Millis) {
        if self.status == status {
            return;
        }
        self.status = status;
        // A hidden page pauses its connection and resigns right after:
        // its followers wait for the next leader, not for this page.
        if matches!(self.role, Role::Leader { .. }) && status != PageStatus::Paused {
            self.heartbeat(now);
        }
    }

    /// Leader: a frame about `job` from the real connection, for the
    /// followers (and kept for one that joins later).
    pub fn relay_frame(&mut self, job: &ProcessId, text: String, keep: bool) {
        let Role::Leader { latest, .. } = &mut self.role else {
            return;
        };
        if keep {
            match latest.iter_mut().find(|(j, _)| j == job) {
                Some(entry) => entry.1.clone_from(&text),
                None => latest.push((job.clone(), text.clone())),
            }
        }
        let from = self.me;
        self.push(TabAction::Post(TabMessage::Frame { from, text }));
    }

    /// Leader: a set-poll body from the real connection, for the
    /// followers (its entries are each job's state, as snapshots are).
    pub fn relay_poll(&mut self, body: String) {
        if matches!(self.role, Role::Leader { .. }) {
            let from = self.me;
            self.push(TabAction::Post(TabMessage::Frame { from, text: body }));
        }
    }

    /// Who answers a token refresh for `job`, given whether a widget of
    /// this tab has a provider for it.
    pub fn token_source(&self, job: &ProcessId, provider_here: bool) -> TokenSource {
        if provider_here {
            TokenSource::Provider
        } else if self.followed_elsewhere(job) {
            TokenSource::OtherTab
        } else {
            TokenSource::Nobody
        }
    }

    /// Leader: true while another tab follows `job`.
    pub fn followed_elsewhere(&self, job: &ProcessId) -> bool {
        match &self.role {
            Role::Leader { followed, .. } => followed.iter().any(|(_, j)| j == job),
            _ => false,
        }
    }

    /// Leader: this tab's own widgets let `job` go (no other tab follows it).
    pub fn forget(&mut self, job: &ProcessId) {
        if let Role::Leader { latest, .. } = &mut self.role {
            latest.retain(|(j, _)| j != job);
        }
    }

    /// Follower: its connection follows `subscription` (through the leader).
    pub fn relay_subscribe(&mut self, subscription: Subscription) {
        if !matches!(self.role, Role::Follower { .. }) {
            return;
        }
        self.relayed.retain(|s| s.job != subscription.job);
        self.relayed.push(subscription.clone());
        let from = self.me;
        self.push(TabAction::Post(TabMessage::Subscribe {
            from,
            subscription,
        }));
    }

    /// Follower: its connection lets `job` go.
    pub fn relay_unsubscribe(&mut self, job: ProcessId) {
        if !matches!(self.role, Role::Follower { .. }) {
            return;
        }
        self.relayed.retain(|s| s.job != job);
        let from = self.me;
        self.push(TabAction::Post(TabMessage::Unsubscribe { from, job }));
    }

    /// Follower: its connection closed its transport (no job left, or it
    /// starts over): the leader drops all of this tab's jobs.
    pub fn relay_closed(&mut self) {
        if !matches!(self.role, Role::Follower { .. }) || self.relayed.is_empty() {
            return;
        }
        self.relayed.clear();
        let from = self.me;
        self.push(TabAction::Post(TabMessage::Bye { from }));
    }

    fn follow(&mut self, now: Millis) {
        self.relayed.clear();
        self.silent = false;
        self.role = Role::Follower {
            leader: None,
            heard_at: now,
            stealing: false,
        };
        self.push(TabAction::RequestLock);
        self.push(TabAction::Became(RoleKind::Follower));
        self.push(TabAction::StatusChanged);
    }

    /// Resigns or says goodbye, lets the lock go, and parks.
    fn leave(&mut self) {
        let from = self.me;
        match self.role {
            Role::Leader { .. } => self.push(TabAction::Post(TabMessage::Resign { from })),
            _ if !self.relayed.is_empty() => self.push(TabAction::Post(TabMessage::Bye { from })),
            _ => {}
        }
        self.relayed.clear();
        self.silent = false;
        self.role = Role::Parked;
        self.push(TabAction::ReleaseLock);
        self.push(TabAction::Became(RoleKind::Parked));
        self.push(TabAction::StatusChanged);
    }

    fn heartbeat(&mut self, now: Millis) {
        let from = self.me;
        let status = relayed_status(self.status, now);
        self.push(TabAction::Post(TabMessage::Heartbeat { from, status }));
    }

    fn latest(&self, job: &ProcessId) -> Option<String> {
        match &self.role {
            Role::Leader { latest, .. } => latest
                .iter()
                .find(|(j, _)| j == job)
                .map(|(_, t)| t.clone()),
            _ => None,
        }
    }

    fn release_if_unfollowed(&mut self, job: ProcessId) {
        if !self.followed_elsewhere(&job) {
            self.push(TabAction::Unsubscribe(job));
        }
    }

    fn steal_after(&self) -> u64 {
        STEAL_AFTER_MS + self.me % (STEAL_JITTER_MS + 1)
    }

    fn push(&mut self, action: TabAction) {
        self.actions.push_back(action);
    }
}

/// A leader's status on this tab's clock: its `Reconnecting` time came as
/// a delay.
fn local_status(status: PageStatus, now: Millis) -> PageStatus {
    match status {
        PageStatus::Reconnecting { rung, retry_at } => PageStatus::Reconnecting {
            rung,
            retry_at: now.saturating_add(retry_at),
        },
        other => other,
    }
}

/// A leader's status for a heartbeat: a `Reconnecting` time as a delay.
fn relayed_status(status: PageStatus, now: Millis) -> PageStatus {
    match status {
        PageStatus::Reconnecting { rung, retry_at } => PageStatus::Reconnecting {
            rung,
            retry_at: retry_at.saturating_sub(now),
        },
        other => other,
    }
}
