//! The page's upload queue: which uploads may send at the same time.
//!
//! Dropping fifty files on a page must not open fifty connections: browsers
//! cap connections per host (six over HTTP/1.1), servers cap them per
//! client, and fifty uploads sharing a link each go fifty times slower, so
//! none finishes early. The queue lets `limit` uploads run (default
//! [`DEFAULT_UPLOAD_LIMIT`], like Uppy's `limit`) and keeps the rest
//! waiting, first come first served.
//!
//! Sans-IO like [`super::Upload`]: the shell takes a [`Ticket`] per upload,
//! reports each [`UploadState`] change with [`UploadQueue::follow`], and
//! starts (`Input::Start`) every ticket [`UploadQueue::poll_start`] gives.
//! An upload joins the line by entering [`UploadState::Queued`]
//! (`Input::Queue`: a new upload, or Resume of a paused one).
//!
//! # Policy
//!
//! - **Slots.** An upload holds a slot from its start until it is paused,
//!   gives up, is cancelled or finishes. A wait between retries and an
//!   offline spell keep the slot: the upload is still in the middle of its
//!   work and continues by itself, and letting another start would only
//!   add a connection to a network that is already failing.
//! - **Pause frees the slot**, as in Uppy: a person pausing one file wants
//!   the others to go on, and a paused upload may stay paused for hours.
//!   Resume joins the back of the line (it starts at once when a slot is
//!   free, which is the only case where nobody is waiting).
//! - **Giving up frees the slot** (`Failed`); Resume after a transient
//!   give-up joins the line like a paused upload.
//! - **Cancel** of a waiting upload removes it before it ever started.
//! - **The limit** may change at any time: raising it starts waiting
//!   uploads at once; lowering it stops none (aborting a chunk wastes its
//!   bytes), the running ones just are not replaced until below the limit.
//!   A limit of 0 counts as 1, so nothing waits forever.
//! - **Order.** First in, first out: by the time an upload joined the line.

use std::collections::VecDeque;

use super::UploadState;

/// Uploads running at once unless the page sets another limit.
pub const DEFAULT_UPLOAD_LIMIT: usize = 3;

/// One upload's place in an [`UploadQueue`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ticket(pub u64);

/// Lets at most `limit` uploads run; see the module docs for the policy.
#[derive(Debug)]
pub struct UploadQueue {
    limit: usize,
    next_ticket: u64,
    running: Vec<Ticket>,
    waiting: VecDeque<Ticket>,
    starts: VecDeque<Ticket>,
}

impl Default for UploadQueue {
    fn default() -> Self {
        Self::new(DEFAULT_UPLOAD_LIMIT)
    }
}

impl UploadQueue {
    /// An empty queue letting `limit` uploads run at once (0 counts as 1).
    pub fn new(limit: usize) -> Self {
        Self {
            limit: limit.max(1),
            next_ticket: 1,
            running: Vec::new(),
            waiting: VecDeque::new(),
            starts: VecDeque::new(),
        }
    }

    /// A ticket for a new upload; it takes no place until
    /// [`UploadQueue::follow`] sees it [`UploadState::Queued`].
    pub fn ticket(&mut self) -> Ticket {
        let ticket = Ticket(self.next_ticket);
        self.next_ticket += 1;
        ticket
    }

    /// Uploads allowed to run at once.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Changes the limit (0 counts as 1); a higher one starts waiting
    /// uploads at once (see [`UploadQueue::poll_start`]).
    pub fn set_limit(&mut self, limit: usize) {
        self.limit = limit.max(1);
        self.admit();
    }

    /// Uploads holding a slot.
    pub fn running(&self) -> usize {
        self.running.len()
    }

    /// Uploads waiting for a slot (not yet handed out by `poll_start`).
    pub fn waiting(&self) -> usize {
        self.waiting.len()
    }

    /// Whether `ticket` waits for a slot.
    pub fn is_waiting(&self, ticket: Ticket) -> bool {
        self.waiting.contains(&ticket)
    }

    /// The upload of `ticket` is now in `state`: joins the line when
    /// queued, holds a slot while working, and gives its place up when
    /// paused, failed, cancelled or finished.
    pub fn follow(&mut self, ticket: Ticket, state: &UploadState) {
        match state {
            // Not asked to start yet.
            UploadState::Idle => {}
            UploadState::Queued => {
                if !self.waiting.contains(&ticket) && !self.running.contains(&ticket) {
                    self.waiting.push_back(ticket);
                }
            }
            UploadState::Creating { .. }
            | UploadState::Sending { .. }
            | UploadState::Checking { .. }
            | UploadState::Waiting { .. }
            | UploadState::Offline { .. } => {
                if !self.running.contains(&ticket) {
                    // Started without the queue (a shell feeding `Start` or
                    // `Resume` itself): it still counts against the limit.
                    self.waiting.retain(|t| *t != ticket);
                    self.starts.retain(|t| *t != ticket);
                    self.running.push(ticket);
                }
            }
            UploadState::Paused { .. }
            | UploadState::Failed(_)
            | UploadState::Cancelling { .. }
            | UploadState::Cancelled
            | UploadState::Finished { .. } => self.leave(ticket),
        }
        self.admit();
    }

    /// The upload of `ticket` is gone (its widget went away): its place is
    /// freed for the next one.
    pub fn forget(&mut self, ticket: Ticket) {
        self.leave(ticket);
        self.admit();
    }

    /// The next upload to start now (feed it `Input::Start`); each ticket
    /// is handed out once per turn in the line.
    pub fn poll_start(&mut self) -> Option<Ticket> {
        self.starts.pop_front()
    }

    fn leave(&mut self, ticket: Ticket) {
        self.running.retain(|t| *t != ticket);
        self.waiting.retain(|t| *t != ticket);
        self.starts.retain(|t| *t != ticket);
    }

    /// Moves uploads from the line to the slots while some are free. A
    /// started ticket holds its slot at once, before its upload reports a
    /// working state, so one burst of `follow` calls cannot overfill.
    fn admit(&mut self) {
        while self.running.len() < self.limit {
            let Some(next) = self.waiting.pop_front() else {
                break;
            };
            self.running.push(next);
            self.starts.push_back(next);
        }
    }
}

#[cfg(test)]
mod tests;
