//! When to (re)connect the user-data stream, as a pure state machine: the
//! caller feeds it what happened (with the time) and does what [`Step`] says.
//!
//! Invariants:
//! - after every successful (re)connect the stream is not trusted until the
//!   caller has run a REST sweep and called [`StreamSupervisor::on_swept`]:
//!   events between the old connection's end and the new subscription would
//!   otherwise be missed;
//! - a connection is replaced before it reaches Binance's 24 h limit
//!   ([`SupervisorConfig::max_connection_age`], 23 h 50 m);
//! - failed connects and drops back off 0.5 s, 1 s, 2 s … capped at 30 s, with
//!   "equal jitter" (a delay in `[base/2, base]`) drawn from the seeded
//!   [`SplitMix64`] the caller passes in: the same seed and inputs give the same
//!   steps;
//! - the back-off resets only once a connection stayed up
//!   [`SupervisorConfig::stable_after`]: a connection that subscribes and
//!   drops at once cannot make it reconnect in a tight loop.

use std::time::Duration;

use crate::error::Error;
use crate::user_stream::event::UserEvent;

/// The knobs of [`StreamSupervisor`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupervisorConfig {
    /// First back-off (0.5 s).
    pub initial_backoff: Duration,
    /// Largest back-off (30 s).
    pub max_backoff: Duration,
    /// Reconnect when a connection is this old (23 h 50 m; Binance closes at 24 h).
    pub max_connection_age: Duration,
    /// A connection up this long resets the back-off (60 s).
    pub stable_after: Duration,
}

impl Default for SupervisorConfig {
    fn default() -> Self {
        SupervisorConfig {
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            max_connection_age: Duration::from_secs(23 * 3600 + 50 * 60),
            stable_after: Duration::from_secs(60),
        }
    }
}

/// A small seeded pseudo-random source (SplitMix64) for the jitter: not
/// cryptographic, only so that reconnects of many bots do not align.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A source starting at `seed`.
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    /// The next value.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// The delay before reconnect attempt number `failures` (1 = first after a
/// drop): `base = min(initial * 2^(failures-1), max)`, then a delay in
/// `[base/2, base]` chosen by `random`. Pure.
pub fn backoff_delay(cfg: &SupervisorConfig, failures: u32, random: u64) -> Duration {
    let initial = u64::try_from(cfg.initial_backoff.as_millis()).unwrap_or(u64::MAX);
    let max = u64::try_from(cfg.max_backoff.as_millis()).unwrap_or(u64::MAX);
    let shift = failures.saturating_sub(1).min(32);
    let base = initial.saturating_mul(1u64 << shift).min(max);
    let half = base / 2;
    Duration::from_millis(half + random % (base - half + 1))
}

/// What the caller must do now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Open a connection and subscribe ([`crate::user_stream::UserStream::connect`]),
    /// then report [`StreamSupervisor::on_connected`] or
    /// [`StreamSupervisor::on_connect_failed`].
    Connect,
    /// Close the current connection (it is to be replaced), then ask again
    /// (the next step is [`Step::Connect`]).
    Reconnect,
    /// Connected, but events may have been missed: sweep open orders and
    /// trades by REST, then call [`StreamSupervisor::on_swept`]. Events read
    /// meanwhile are safe to handle (fills are idempotent by trade id).
    Sweep,
    /// Read events (`next_event`); come back at `until_ms` at the latest.
    Read {
        /// When the connection must be replaced (Unix ms).
        until_ms: i64,
    },
    /// No connection: poll by REST as usual and try again at `until_ms`.
    Wait {
        /// When to connect (Unix ms).
        until_ms: i64,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Not connected; connect at once.
    Idle,
    /// Connected since `since_ms`.
    Connected { since_ms: i64 },
    /// Not connected; connect at `until_ms`.
    Waiting { until_ms: i64 },
}

/// The reconnect policy of one user-data stream. See the module docs.
#[derive(Debug, Clone)]
pub struct StreamSupervisor {
    cfg: SupervisorConfig,
    rng: SplitMix64,
    phase: Phase,
    /// Consecutive failed connects / early drops.
    failures: u32,
    sweep_needed: bool,
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl StreamSupervisor {
    /// A supervisor that has not connected yet (its first step is [`Step::Connect`]).
    pub fn new(cfg: SupervisorConfig, rng: SplitMix64) -> Self {
        StreamSupervisor {
            cfg,
            rng,
            phase: Phase::Idle,
            failures: 0,
            sweep_needed: false,
        }
    }

    /// What to do at `now_ms`.
    pub fn step(&mut self, now_ms: i64) -> Step {
        match self.phase {
            Phase::Idle => Step::Connect,
            Phase::Waiting { until_ms } if now_ms >= until_ms => Step::Connect,
            Phase::Waiting { until_ms } => Step::Wait { until_ms },
            Phase::Connected { since_ms } => {
                let replace_at = since_ms.saturating_add(ms(self.cfg.max_connection_age));
                if now_ms >= replace_at {
                    log::info!("User-data stream connection is {} s old: replacing it before the 24 h limit", (now_ms - since_ms) / 1000);
                    self.phase = Phase::Idle;
                    Step::Reconnect
                } else if self.sweep_needed {
                    Step::Sweep
                } else {
                    Step::Read {
                        until_ms: replace_at,
                    }
                }
            }
        }
    }

    /// The stream is connected and subscribed; a sweep is needed next.
    pub fn on_connected(&mut self, now_ms: i64) {
        self.phase = Phase::Connected { since_ms: now_ms };
        self.sweep_needed = true;
    }

    /// Connecting or subscribing failed with `error`: back off (at least as
    /// long as a rate limit or ban says).
    pub fn on_connect_failed(&mut self, now_ms: i64, error: &Error) {
        self.failures = self.failures.saturating_add(1);
        self.wait(now_ms, error.retry_after());
    }

    /// The caller has swept by REST after the last (re)connect.
    pub fn on_swept(&mut self) {
        self.sweep_needed = false;
    }

    /// An event was read: `eventStreamTerminated` and `serverShutdown` end the
    /// connection (reconnect at once after a stable connection, else back off).
    pub fn on_event(&mut self, now_ms: i64, event: &UserEvent) {
        if matches!(
            event,
            UserEvent::EventStreamTerminated { .. } | UserEvent::ServerShutdown { .. }
        ) {
            if self.was_stable(now_ms) {
                self.failures = 0;
                self.phase = Phase::Idle;
            } else {
                self.failures = self.failures.saturating_add(1);
                self.wait(now_ms, None);
            }
        }
    }

    /// Reading failed with `error`. [`Error::Decode`] (one frame could not be
    /// understood; the connection is fine) asks for a sweep; anything else
    /// (`StreamDown`, `StreamRefused`, transport) means the connection is
    /// lost: back off, then reconnect.
    pub fn on_read_error(&mut self, now_ms: i64, error: &Error) {
        if matches!(error, Error::Decode(_)) {
            self.sweep_needed = true;
            return;
        }
        if self.was_stable(now_ms) {
            self.failures = 0;
        }
        self.failures = self.failures.saturating_add(1);
        self.wait(now_ms, error.retry_after());
    }

    /// Whether fills can be expected from the stream now: connected and swept.
    /// When false, the caller polls by REST at its normal pace.
    pub fn is_live(&self) -> bool {
        matches!(self.phase, Phase::Connected { .. }) && !self.sweep_needed
    }

    /// Whether a REST sweep is due (after a (re)connect or a skipped frame).
    pub fn sweep_needed(&self) -> bool {
        self.sweep_needed
    }

    /// Consecutive failed connects / early drops (for the dashboard).
    pub fn failures(&self) -> u32 {
        self.failures
    }

    fn was_stable(&self, now_ms: i64) -> bool {
        matches!(self.phase, Phase::Connected { since_ms } if now_ms - since_ms >= ms(self.cfg.stable_after))
    }

    fn wait(&mut self, now_ms: i64, at_least: Option<Duration>) {
        let mut delay = backoff_delay(&self.cfg, self.failures.max(1), self.rng.next_u64());
        if let Some(min) = at_least {
            delay = delay.max(min);
        }
        self.phase = Phase::Waiting {
            until_ms: now_ms.saturating_add(ms(delay)),
        };
    }
}

#[cfg(test)]
#[path = "tests_supervisor.rs"]
mod tests;
