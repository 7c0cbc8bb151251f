//! Unit tests of `health.rs` (kept beside it, out of the production file).

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
        metrics: None,
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
