//! Login lockouts against password guessing: per client and in total.
//!
//! Each attempt is counted as a failure *when it starts* ([`LoginLimiter::begin`],
//! under one lock) and forgiven if it succeeds, so a burst of parallel
//! guesses cannot all slip in before the first failure is recorded.
//!
//! Invariants (per client, and globally with its own [`Policy`]):
//! - `threshold` failures lock logins for `base`; once locked, every
//!   further failure locks again for twice the previous lock, up to `max`.
//! - While locked, every attempt is refused (429 with `Retry-After`), even
//!   with the right password; nothing about the password is checked.
//! - A success forgives the client (its address); the global count only
//!   forgets the successful attempt itself.
//! - A client or the global count with no failure for [`FORGET_MS`] (and no
//!   lock running) starts afresh.
//! - At most [`MAX_CLIENTS`] clients are remembered; beyond that, the
//!   oldest unlocked entries are dropped (the global count still applies).
//! - The state lives in the process: restarting `web` clears every lock.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

/// When failures lock, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Failures before the first lock.
    pub threshold: u32,
    /// First lock (ms); doubles with each further lock.
    pub base_ms: i64,
    /// Longest lock (ms).
    pub max_ms: i64,
}

/// Per client address: 5 failures → 1 min, then 2, 4, 8 … up to 1 h.
pub const PER_CLIENT: Policy = Policy {
    threshold: 5,
    base_ms: 60_000,
    max_ms: 3_600_000,
};
/// All clients together: 20 failures → 1 min, then doubling up to 15 min.
pub const GLOBAL: Policy = Policy {
    threshold: 20,
    base_ms: 60_000,
    max_ms: 900_000,
};
/// A quiet day forgets past failures.
pub const FORGET_MS: i64 = 24 * 3600 * 1000;
/// Clients remembered at most.
pub const MAX_CLIENTS: usize = 10_000;

/// Which count locked the login.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// This client's address.
    Client,
    /// Every client (many addresses failed).
    Global,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Client => "client",
            Scope::Global => "global",
        }
    }
}

/// Logins are locked: retry after this many seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Locked {
    pub retry_after_s: i64,
    pub scope: Scope,
}

/// A lock an attempt started (reported once, when the attempt fails).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewLock {
    pub scope: Scope,
    pub duration_s: i64,
    /// How many locks in a row this is (1 = the first).
    pub nth: u32,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Bucket {
    failures: u32,
    locks: u32,
    locked_until: i64,
    last_failure: i64,
}

impl Bucket {
    fn locked(&self, now: i64) -> Option<i64> {
        (self.locked_until > now).then_some(self.locked_until - now)
    }

    fn stale(&self, now: i64) -> bool {
        self.locked_until <= now && now - self.last_failure > FORGET_MS
    }

    /// Counts a failure; `Some(duration)` when it starts a lock.
    fn fail(&mut self, now: i64, p: Policy) -> Option<i64> {
        if self.stale(now) {
            *self = Bucket::default();
        }
        self.failures += 1;
        self.last_failure = now;
        if self.locks > 0 || self.failures >= p.threshold {
            let factor = 1i64 << self.locks.min(30);
            let d = p.base_ms.saturating_mul(factor).min(p.max_ms);
            self.locks += 1;
            self.failures = 0;
            self.locked_until = now + d;
            Some(d)
        } else {
            None
        }
    }

    /// Takes back one failure counted by [`Bucket::fail`] (`prev` is the
    /// bucket before it; `started` whether it started a lock).
    fn undo(&mut self, prev: Bucket, started: bool) {
        if started {
            if self.locks == prev.locks + 1 {
                self.locks = prev.locks;
                self.locked_until = prev.locked_until;
                self.failures = prev.failures;
            }
        } else {
            self.failures = self.failures.saturating_sub(1);
        }
    }
}

/// One login attempt in progress (counted as a failure until it succeeds).
#[derive(Debug)]
pub struct Attempt {
    client: String,
    prev_client: Bucket,
    prev_global: Bucket,
    client_lock: Option<i64>,
    global_lock: Option<i64>,
    client_nth: u32,
    global_nth: u32,
}

impl Attempt {
    /// The lock this attempt started, if it fails (the global one first).
    pub fn new_lock(&self) -> Option<NewLock> {
        let ceil_s = |ms: i64| (ms + 999) / 1000;
        if let Some(ms) = self.global_lock {
            return Some(NewLock {
                scope: Scope::Global,
                duration_s: ceil_s(ms),
                nth: self.global_nth,
            });
        }
        self.client_lock.map(|ms| NewLock {
            scope: Scope::Client,
            duration_s: ceil_s(ms),
            nth: self.client_nth,
        })
    }

    /// The client's key (its address).
    pub fn client(&self) -> &str {
        &self.client
    }
}

#[derive(Debug, Default)]
struct Inner {
    clients: HashMap<String, Bucket>,
    global: Bucket,
}

/// The per-client and global failure counts.
#[derive(Debug)]
pub struct LoginLimiter {
    client: Policy,
    global: Policy,
    inner: Mutex<Inner>,
}

impl Default for LoginLimiter {
    fn default() -> Self {
        LoginLimiter::new(PER_CLIENT, GLOBAL)
    }
}

/// The key of a client: its IP address; an IPv6 address by its /64 (one
/// home or host gets a whole /64, so one address each would not limit it).
pub fn client_key(ip: Option<IpAddr>) -> String {
    match ip {
        None => "unknown".to_string(),
        Some(IpAddr::V4(v4)) => v4.to_string(),
        Some(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

impl LoginLimiter {
    pub fn new(client: Policy, global: Policy) -> LoginLimiter {
        LoginLimiter {
            client,
            global,
            inner: Mutex::new(Inner::default()),
        }
    }

    fn lock_inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic elsewhere while holding it leaves consistent counters.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn locked_in(inner: &Inner, client: &str, now: i64) -> Option<Locked> {
        let c = inner.clients.get(client).and_then(|b| b.locked(now));
        let g = inner.global.locked(now);
        let (ms, scope) = match (c, g) {
            (None, None) => return None,
            (Some(c), None) => (c, Scope::Client),
            (None, Some(g)) => (g, Scope::Global),
            (Some(c), Some(g)) if c >= g => (c, Scope::Client),
            (Some(_), Some(g)) => (g, Scope::Global),
        };
        Some(Locked {
            retry_after_s: (ms + 999) / 1000,
            scope,
        })
    }

    /// Whether `client` may try now.
    ///
    /// # Errors
    /// [`Locked`] while the client or every client is locked out.
    pub fn check(&self, client: &str, now_ms: i64) -> Result<(), Locked> {
        match Self::locked_in(&self.lock_inner(), client, now_ms) {
            Some(l) => Err(l),
            None => Ok(()),
        }
    }

    /// Starts an attempt: refused while locked, else counted as a failure
    /// until [`LoginLimiter::succeeded`] or [`LoginLimiter::cancel`].
    ///
    /// # Errors
    /// [`Locked`] while the client or every client is locked out.
    pub fn begin(&self, client: &str, now_ms: i64) -> Result<Attempt, Locked> {
        let mut inner = self.lock_inner();
        if let Some(l) = Self::locked_in(&inner, client, now_ms) {
            return Err(l);
        }
        if inner.clients.len() >= MAX_CLIENTS && !inner.clients.contains_key(client) {
            inner.clients.retain(|_, b| !b.stale(now_ms));
            if inner.clients.len() >= MAX_CLIENTS {
                inner.clients.retain(|_, b| b.locked(now_ms).is_some());
            }
        }
        let prev_global = inner.global;
        let global_lock = inner.global.fail(now_ms, self.global);
        let global_nth = inner.global.locks;
        let (prev_client, client_lock, client_nth) =
            if inner.clients.len() < MAX_CLIENTS || inner.clients.contains_key(client) {
                let b = inner.clients.entry(client.to_string()).or_default();
                let prev = *b;
                let lock = b.fail(now_ms, self.client);
                (prev, lock, b.locks)
            } else {
                (Bucket::default(), None, 0)
            };
        Ok(Attempt {
            client: client.to_string(),
            prev_client,
            prev_global,
            client_lock,
            global_lock,
            client_nth,
            global_nth,
        })
    }

    /// The attempt succeeded: the client is forgiven, the global count
    /// takes this attempt back.
    pub fn succeeded(&self, a: &Attempt) {
        let mut inner = self.lock_inner();
        inner.clients.remove(&a.client);
        inner.global.undo(a.prev_global, a.global_lock.is_some());
    }

    /// The attempt did not test a password after all (e.g. the database
    /// was not available): it is taken back everywhere.
    pub fn cancel(&self, a: &Attempt) {
        let mut inner = self.lock_inner();
        if let Some(b) = inner.clients.get_mut(&a.client) {
            b.undo(a.prev_client, a.client_lock.is_some());
        }
        inner.global.undo(a.prev_global, a.global_lock.is_some());
    }

    /// How many clients are remembered (tests, metrics).
    pub fn clients(&self) -> usize {
        self.lock_inner().clients.len()
    }
}

#[cfg(test)]
#[path = "tests/limiter.rs"]
mod tests;
