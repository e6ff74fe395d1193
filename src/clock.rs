//! The shell's clock and randomness, both read from the browser.
//!
//! `std::time::Instant::now()` panics on `wasm32-unknown-unknown`, so time
//! comes from `performance.now()`: monotonic, unaffected by wall-clock jumps,
//! and it keeps running while a tab is hidden even when timers are throttled.

use upload_progress_core::session::Millis;

/// Milliseconds since the page started, from `performance.now()`.
///
/// Returns 0 when no `window.performance` exists (never in a browser page)
/// and on the server, where no browser API may be called.
pub(crate) fn now() -> Millis {
    if !cfg!(target_arch = "wasm32") {
        return 0;
    }
    web_sys::window()
        .and_then(|w| w.performance())
        .map(|p| p.now().max(0.0) as Millis)
        .unwrap_or(0)
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
