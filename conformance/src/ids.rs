//! Fresh process ids, unique per run and per check.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Hands out ids of the form `conf-<run>-<n>-<label>`.
#[derive(Debug)]
pub struct Ids {
    run: String,
    next: AtomicU64,
}

impl Ids {
    /// A generator whose run tag comes from the clock and the process id.
    pub fn new() -> Self {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        // Mixing in the pid keeps two kits started in the same instant apart.
        let tag = (nanos as u64) ^ (u64::from(std::process::id()) << 40);
        Self {
            run: format!("{tag:012x}"),
            next: AtomicU64::new(1),
        }
    }

    /// A new id that names what it is for (`label` must be `[a-z0-9_]`).
    pub fn fresh(&self, label: &str) -> String {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        format!("conf-{}-{n}-{label}", self.run)
    }
}

impl Default for Ids {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::valid_process_id;

    #[test]
    fn ids_are_valid_and_distinct() {
        let ids = Ids::new();
        let a = ids.fresh("whole_job");
        let b = ids.fresh("whole_job");
        assert_ne!(a, b);
        assert!(valid_process_id(&a), "{a}");
    }
}
