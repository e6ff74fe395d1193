//! The shell's clock and randomness, both read from the browser.
//!
//! `std::time::Instant::now()` panics on `wasm32-unknown-unknown`, so time
//! comes from `performance.now()`: monotonic, unaffected by wall-clock jumps,
//! and it keeps running while a tab is hidden even when timers are throttled.

use upload_progress_core::session::Millis;

/// How often a widget re-renders its data age and countdowns, in ms.
pub(crate) const TICK_MS: u32 = 1_000;

/// Milliseconds since the page started, from `performance.now()`.
///
/// Returns 0 when no `window.performance` exists (never in a browser page)
/// and on the server, where no browser API may be called.
pub(crate) fn now() -> Millis {
    if !cfg!(target_arch = "wasm32") {
        return 0;
    }
    PERFORMANCE.with(|p| p.as_ref().map_or(0, |p| p.now().max(0.0) as Millis))
}

thread_local! {
    /// `window.performance`, looked up once: the clock is read several
    /// times per message, and each lookup is two calls into JS plus a type check.
    static PERFORMANCE: Option<web_sys::Performance> =
        web_sys::window().and_then(|w| w.performance());
}

/// A seed for the session's jitter generator.
///
/// Two widgets on one page must not retry in lockstep after a shared outage,
/// so every session gets its own seed from `Math.random()`.
pub(crate) fn seed() -> u64 {
    let high = (js_sys::Math::random() * f64::from(u32::MAX)) as u64;
    let low = (js_sys::Math::random() * f64::from(u32::MAX)) as u64;
    (high << 32) | low | 1
}
