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
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn row(id: &str, at: DateTime<Utc>) -> BotStatusRow {
        BotStatusRow {
            instance_id: id.into(),
            mode: "paper".into(),
            base_url: String::new(),
            pid: 1,
            started_at: at,
            heartbeat_at: at,
            last_cycle_at: None,
            last_cycle_ms: None,
            last_error: None,
            last_error_at: None,
            weight_used: None,
        }
    }

    #[test]
    fn fresh_heartbeat_of_this_host_is_healthy_and_others_do_not_count() {
        let now = Utc.timestamp_opt(1_800_000_000, 0).single().unwrap();
        let max = Duration::from_secs(30);
        let rows = [
            row("box-12", now - chrono::Duration::seconds(4)),
            row("box2-13", now),
            row("box-x", now),
        ];
        assert_eq!(
            check(&rows, &Whose::Host("box"), now, max),
            Ok(Duration::from_secs(4))
        );
        let stale = [row("box-12", now - chrono::Duration::seconds(31))];
        assert!(check(&stale, &Whose::Host("box"), now, max).is_err());
        assert!(check(&rows, &Whose::Host("other"), now, max).is_err());
        assert!(check(&rows, &Whose::Id("box2-13"), now, max).is_ok());
        assert!(check(&rows, &Whose::Id("box2"), now, max).is_err());
    }
}
