//! `bot-daemon health`: exit 0 when this machine's worker has a fresh
//! heartbeat, 1 otherwise (the container healthcheck). Reads `bot_status`
//! only; creates and migrates nothing.

use std::time::Duration;

use chrono::{DateTime, Utc};
use store::misc::BotStatusRow;

/// Which worker rows belong to us: `BOT_WORKER_ID` exactly, or the default
/// ids of this host (`{hostname}-{pid}`).
pub enum Whose<'a> {
    Id(&'a str),
    Host(&'a str),
}

impl Whose<'_> {
    fn matches(&self, instance_id: &str) -> bool {
        match self {
            Whose::Id(id) => instance_id == *id,
            Whose::Host(host) => instance_id
                .strip_prefix(host)
                .and_then(|rest| rest.strip_prefix('-'))
                .is_some_and(|pid| !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit())),
        }
    }
}

/// The freshest matching heartbeat's age when it is within `max_age`.
///
/// # Errors
/// A sentence for the healthcheck's output: no heartbeat of ours, or too old.
pub fn check(
    rows: &[BotStatusRow],
    whose: &Whose<'_>,
    now: DateTime<Utc>,
    max_age: Duration,
) -> Result<Duration, String> {
    let newest = rows
        .iter()
        .filter(|r| whose.matches(&r.instance_id))
        .map(|r| r.heartbeat_at)
        .max()
        .ok_or_else(|| "no heartbeat from this worker yet".to_string())?;
    let age = (now - newest).to_std().unwrap_or(Duration::ZERO);
    if age <= max_age {
        Ok(age)
    } else {
        Err(format!(
            "last heartbeat {}s ago (more than {}s): the worker is stuck or down",
            age.as_secs(),
            max_age.as_secs()
        ))
    }
}

#[cfg(test)]
#[path = "tests/health.rs"]
mod tests;
