//! Waiting for conditions with a deadline, never for a fixed time.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

use crate::{fail, Result};

/// How often a condition is checked.
pub const POLL: Duration = Duration::from_millis(100);

/// Calls `check` every [`POLL`] until it returns `Some`, an error, or
/// `timeout` passes; the timeout error names `what`.
pub async fn until<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check().await? {
            return Ok(value);
        }
        if Instant::now() >= deadline {
            return Err(fail(format!(
                "timed out after {} s waiting for {what}",
                timeout.as_secs_f32()
            )));
        }
        tokio::time::sleep(POLL).await;
    }
}
