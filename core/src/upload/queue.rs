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

use super::UploadState;

/// Uploads running at once unless the page sets another limit.
pub const DEFAULT_UPLOAD_LIMIT: usize = 3;

/// One upload's place in an [`UploadQueue`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ticket(pub u64);

/// Where a ticket stands in the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    /// In line for a slot.
    Waiting,
    /// Given a slot; not yet handed out by `poll_start`.
    Starting,
    /// Holding a slot.
    Running,
}

/// Lets at most `limit` uploads run; see the module docs for the policy.
#[derive(Debug)]
pub struct UploadQueue {
    limit: usize,
    next_ticket: u64,
    /// Every ticket in line or holding a slot, in the order it joined: the
    /// first `Waiting` one is next. One list (not a line and a set of
    /// slots) keeps the browser bundle small.
    places: Vec<(Ticket, Place)>,
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
            places: Vec::new(),
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
        self.count(|p| p != Place::Waiting)
    }

    /// Uploads waiting for a slot.
    pub fn waiting(&self) -> usize {
        self.count(|p| p == Place::Waiting)
    }

    /// Whether `ticket` waits for a slot.
    pub fn is_waiting(&self, ticket: Ticket) -> bool {
        self.place(ticket) == Some(Place::Waiting)
    }

    /// The upload of `ticket` is now in `state`: joins the line when
    /// queued, holds a slot while working, and gives its place up when
    /// paused, failed, cancelled or finished.
    pub fn follow(&mut self, ticket: Ticket, state: &UploadState) {
        match state {
            // Not asked to start yet.
            UploadState::Idle => {}
            UploadState::Queued => {
                if self.place(ticket).is_none() {
                    self.places.push((ticket, Place::Waiting));
                }
            }
            UploadState::Creating { .. }
            | UploadState::Sending { .. }
            | UploadState::Checking { .. }
            | UploadState::Waiting { .. }
            | UploadState::Offline { .. } => {
                // Also an upload started without the queue (a shell feeding
                // `Start` or `Resume` itself): it counts against the limit.
                if self.place(ticket) != Some(Place::Running) {
                    self.leave(ticket);
                    self.places.push((ticket, Place::Running));
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
        let entry = self
            .places
            .iter_mut()
            .find(|(_, p)| *p == Place::Starting)?;
        entry.1 = Place::Running;
        Some(entry.0)
    }

    fn place(&self, ticket: Ticket) -> Option<Place> {
        self.places
            .iter()
            .find(|(t, _)| *t == ticket)
            .map(|(_, p)| *p)
    }

    fn count(&self, which: impl Fn(Place) -> bool) -> usize {
        self.places.iter().filter(|(_, p)| which(*p)).count()
    }

    fn leave(&mut self, ticket: Ticket) {
        self.places.retain(|(t, _)| *t != ticket);
    }

    /// Gives free slots to the first waiting uploads. A started ticket
    /// holds its slot at once, before its upload reports a working state,
    /// so one burst of `follow` calls cannot overfill.
    fn admit(&mut self) {
        let mut free = self.limit.saturating_sub(self.running());
        for (_, place) in &mut self.places {
            if free == 0 {
                break;
            }
            if *place == Place::Waiting {
                *place = Place::Starting;
                free -= 1;
            }
        }
    }
}

#[cfg(test)]
mod tests;
