//! The page-wide registry: one page driver per server (its socket and
//! HTTP bases) and set of options, shared by every widget that joins it.
//!
//! A widget that does not share (`shared = false`) gets a driver of its
//! own: not in the registry, and not in the election across tabs.
//!
//! The registry holds its drivers weakly; each widget's [`Membership`]
//! holds its driver strongly. Dropping a membership takes the widget out
//! (and its job, when no other widget follows it); dropping the last one
//! drops the driver, which closes everything.

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use upload_progress_core::page::{PageInput, Subscription};
use upload_progress_core::session::{Input, SessionOptions};
use upload_progress_core::ProcessId;

use super::driver::{Member, PageDriver, PageHandle};

/// What makes two widgets share a connection.
#[derive(Clone, PartialEq)]
pub(crate) struct Key {
    pub(crate) ws_base: String,
    pub(crate) http_base: String,
    pub(crate) options: SessionOptions,
}

thread_local! {
    /// The page's drivers: a few at most, so a list.
    static PAGES: RefCell<Vec<(Key, Weak<PageDriver>)>> = const { RefCell::new(Vec::new()) };
    static NEXT_MEMBER: Cell<u64> = const { Cell::new(1) };
}

/// One widget's place in a page connection. Dropping it leaves.
pub(crate) struct Membership {
    /// Keeps the page connection alive while this widget is in it.
    _page: Rc<PageDriver>,
    handle: MembershipHandle,
}

/// A weak handle for a widget's buttons and token changes.
#[derive(Clone)]
pub(crate) struct MembershipHandle {
    page: PageHandle,
    id: u64,
    job: ProcessId,
}

/// Joins (or starts) the page connection for `key` and follows the
/// member's job with `token`; with `shared` off, starts a connection of the
/// member's own. `member` is built with its id.
pub(crate) fn join(
    key: Key,
    shared: bool,
    job: ProcessId,
    token: Option<String>,
    member: impl FnOnce(u64) -> Member,
) -> Membership {
    let page = if shared {
        shared_page(key)
    } else {
        Rc::new(PageDriver::start(
            key.ws_base,
            key.http_base,
            key.options,
            false,
        ))
    };
    let id = NEXT_MEMBER.with(|next| {
        let id = next.get();
        next.set(id + 1);
        id
    });
    let handle = MembershipHandle {
        page: page.handle(),
        id,
        job,
    };
    handle.page.join(member(id), token);
    Membership {
        _page: page,
        handle,
    }
}

/// The page's connection for `key`, started when there is none.
fn shared_page(key: Key) -> Rc<PageDriver> {
    PAGES.with(|pages| {
        let mut pages = pages.borrow_mut();
        pages.retain(|(_, page)| page.strong_count() > 0);
        if let Some(page) = pages
            .iter()
            .find(|(k, _)| *k == key)
            .and_then(|(_, page)| page.upgrade())
        {
            return page;
        }
        let page = Rc::new(PageDriver::start(
            key.ws_base.clone(),
            key.http_base.clone(),
            key.options.clone(),
            true,
        ));
        pages.push((key, Rc::downgrade(&page)));
        page
    })
}

impl Membership {
    pub(crate) fn handle(&self) -> MembershipHandle {
        self.handle.clone()
    }
}

impl Drop for Membership {
    fn drop(&mut self) {
        self.handle.page.leave(self.handle.id, false);
    }
}

impl MembershipHandle {
    /// A widget's input, in page terms: Reconnect reconnects the page,
    /// Stop takes this widget out, a new token is the job's from now on.
    pub(crate) fn send(&self, input: Input) {
        match input {
            Input::Reconnect => self.page.send(PageInput::Reconnect),
            Input::Stop => self.page.leave(self.id, true),
            Input::TokenReady { token: Some(token) } => {
                self.page.send(PageInput::Subscribe(Subscription {
                    job: self.job.clone(),
                    token: Some(token),
                }));
            }
            _ => {}
        }
    }
}

/// The page connections of this page and the widgets in them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ProgressConnections {
    /// Page connections open (one per server and set of options). Where
    /// another tab of the origin leads, this page's connection delivers
    /// through that tab's and opens nothing on the server itself.
    pub connections: usize,
    /// Widgets following a job through them.
    pub widgets: usize,
}

/// How many page-wide progress connections this page holds, and how many
/// widgets follow jobs through them (widgets with `shared = false` are
/// not counted: each has a connection of its own).
pub fn progress_connections() -> ProgressConnections {
    let live: Vec<Rc<PageDriver>> = PAGES.with(|pages| {
        pages
            .borrow()
            .iter()
            .filter_map(|(_, p)| p.upgrade())
            .collect()
    });
    ProgressConnections {
        connections: live.len(),
        widgets: live.iter().map(|p| p.handle().members()).sum(),
    }
}
