//! The browser shell: every browser resource the session asks for, and the
//! driver that feeds the session browser events and carries out its
//! actions.
//!
//! Nothing here decides anything. Each file owns one resource (a socket, a
//! poll, a timer, a listener, the token provider, the clock) and releases
//! it on drop; `page/` is the page connection every widget follows through
//! by default; with the `one-job-session` feature `driver.rs` holds one
//! `Session` and its resources on the pump (`pump.rs`) for a widget that
//! does not share; `follow.rs` starts following one job; `widget.rs` is the widget
//! controller on top of it (start, restart, token, upload handoff, the
//! newest progress and status) that the Leptos adapter and the embed both
//! use; `wire.rs` reads frames with the browser's `JSON.parse`.

pub(crate) mod clock;
#[cfg(feature = "one-job-session")]
pub(crate) mod driver;
pub(crate) mod fetch;
pub(crate) mod follow;
pub(crate) mod frame;
pub(crate) mod lifecycle;
pub(crate) mod listener;
pub mod page;
#[cfg(feature = "one-job-session")]
pub(crate) mod poll;
#[cfg(feature = "one-job-session")]
pub(crate) mod pump;
pub(crate) mod socket;
pub(crate) mod token;
pub(crate) mod urls;
pub(crate) mod widget;
pub(crate) mod wire;
