//! The page connection in the browser: one `PageConnection` (core) for
//! every widget of a page that follows jobs on the same server with the
//! same options, over one page socket, one event stream or one set poll.
//!
//! `driver.rs` holds the connection and its browser resources, `sse.rs`
//! the event stream, `set_poll.rs` the set poll, and `registry.rs` finds
//! or starts the page's driver for a widget and hands back a
//! [`Membership`] that leaves when dropped.
//!
//! Across tabs, `tabs.rs` holds the Web Lock (`lock.rs`) and the broadcast
//! channel (`channel.rs`) that let one tab of the origin connect for all
//! (core `page::tabs` decides which); `driver/relay.rs` carries out its
//! decisions on the driver's connection.

pub(crate) mod channel;
pub(crate) mod driver;
pub(crate) mod lock;
pub(crate) mod registry;
pub(crate) mod set_poll;
pub(crate) mod sse;
pub(crate) mod tabs;

pub use registry::{progress_connections, ProgressConnections};
pub(crate) use registry::{Membership, MembershipHandle};
