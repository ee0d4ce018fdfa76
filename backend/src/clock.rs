//! Wall-clock time for everything that must agree across instances (state
//! and session expiry, web access_token lifetimes), with a test knob to
//! move it forward instead of sleeping.

use std::{
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::{Duration, SystemTime, UNIX_EPOCH},
};

/// Unix time, plus an offset tests can grow with [`Clock::advance`].
/// Clones share the offset.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    offset_secs: Arc<AtomicU64>,
}

impl Clock {
    /// The system clock.
    pub fn system() -> Self {
        Self::default()
    }

    /// Seconds since 1970, as signed tokens carry them.
    pub fn now_unix(&self) -> u64 {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        now + self.offset_secs.load(Ordering::Relaxed)
    }

    /// Milliseconds since 1970: the token center's shared expiry times.
    pub fn now_ms(&self) -> u64 {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        now + self.offset_secs.load(Ordering::Relaxed) * 1000
    }

    /// Moves this clock (and its clones) forward: how tests expire states,
    /// sessions and web tokens without waiting.
    pub fn advance(&self, by: Duration) {
        self.offset_secs.fetch_add(by.as_secs(), Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advance_is_shared_by_clones() {
        let clock = Clock::system();
        let other = clock.clone();
        let before = clock.now_unix();
        other.advance(Duration::from_secs(3600));
        let after = clock.now_unix();
        assert!((3600..3700).contains(&(after - before)));
    }
}
