//! The outbox: notifications written by the triggers in the transaction of
//! the change, their delivery rows, claims, the watchdog's dedupe, retention.

use std::sync::mpsc;
use std::time::Duration;

use diesel::connection::Connection;
use diesel::prelude::*;
use grid_core::BasketStatus;
use serde_json::json;
use store::commands::{
    self, CloseAllResult, ClosePayload, CommandResult, NewCommand, Origin, Payload, StatusResult,
};
use store::events::NewEvent;
use store::notifications::{self as outbox, NotificationRow, Outcome};
use store::test_db::TestDb;
use store::{EventLevel, Writer};

use crate::common::{fill, new_basket};

fn all(conn: &mut PgConnection) -> Vec<NotificationRow> {
    outbox::list_after(conn, 0, 500).expect("list")
}

fn kinds(conn: &mut PgConnection) -> Vec<(String, String)> {
    all(conn)
        .into_iter()
        .map(|n| (n.kind, n.category))
        .collect()
}

fn all_categories() -> Vec<String> {
    outbox::CATEGORIES.iter().map(|c| c.to_string()).collect()
}

#[test]
fn fills_are_told_in_their_own_transaction_with_one_delivery_per_registered_channel() {
    let db = TestDb::new();
    let mut c = db.conn();
    outbox::register_channel(&mut c, "telegram", &all_categories()).unwrap();
    outbox::register_channel(&mut c, "webhook", &["closes".to_string()]).unwrap();
    let b = new_basket(&mut c);
    let fills = [
        fill(b.id, 1, "B1", "150", "1.0", "0", "USDC"),
        fill(b.id, 2, "TP1", "152", "0.5", "0", "USDC"),
        fill(b.id, 3, "TRAIL", "153", "0.5", "0", "USDC"),
    ];
    store::fills::record_fills(&mut c, Writer::Unleased, b.id, "SOL", &fills[..1]).unwrap();
    store::fills::record_fills(&mut c, Writer::Unleased, b.id, "SOL", &fills).unwrap();
    // Recorded again: nothing new, nothing told twice.
    store::fills::record_fills(&mut c, Writer::Unleased, b.id, "SOL", &fills).unwrap();
    let rows = all(&mut c);
    let got: Vec<(&str, &str, i64)> = rows
        .iter()
        .map(|n| {
            (
                n.kind.as_str(),
                n.category.as_str(),
                n.data["trade_id"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("fill", "fills", 1),
            ("take_profit", "fills", 2),
            ("trail_stop", "fills", 3)
        ]
    );
    let tp = &rows[1];
    assert_eq!(tp.basket_id, Some(b.id));
    assert_eq!(tp.symbol.as_deref(), Some("SOLUSDC"));
    assert_eq!(tp.data["role"], "TP1");
    assert_eq!(tp.data["side"], "SELL");
    assert_eq!(tp.data["quote_asset"], "USDC");
    assert!(tp.data["realized_pnl"].is_string(), "{}", tp.data);
    assert!(rows[0].data["realized_pnl"].is_null());
    for n in &rows {
        let d = outbox::deliveries(&mut c, n.id).unwrap();
        let chans: Vec<&str> = d.iter().map(|d| d.channel.as_str()).collect();
        assert_eq!(chans, vec!["telegram"], "the webhook takes closes only");
        assert_eq!(d[0].state, "pending");
    }

    // A change rolled back tells nothing.
    let more = [fill(b.id, 4, "B1", "149", "1.0", "0", "USDC")];
    let r: Result<(), store::Error> = c.transaction(|t| {
        store::fills::record_fills(t, Writer::Unleased, b.id, "SOL", &more)?;
        Err(store::Error::NotFound {
            what: "roll back".into(),
        })
    });
    assert!(r.is_err());
    assert_eq!(all(&mut c).len(), 3);
}

#[test]
fn a_notification_before_a_channel_registered_is_not_sent_on_it() {
    let db = TestDb::new();
    let mut c = db.conn();
    let b = new_basket(&mut c);
    let record = |c: &mut PgConnection, trade: i64| {
        store::fills::record_fills(
            c,
            Writer::Unleased,
            b.id,
            "SOL",
            &[fill(b.id, trade, "B1", "150", "1", "0", "USDC")],
        )
        .unwrap();
    };
    record(&mut c, 1);
    assert!(all(&mut c).is_empty(), "nobody listens: nothing is written");
    outbox::register_channel(&mut c, "webhook", &all_categories()).unwrap();
    record(&mut c, 2);
    let n = all(&mut c);
    assert_eq!(n.len(), 1);
    assert_eq!(n[0].data["trade_id"], 2);
    assert_eq!(outbox::deliveries(&mut c, n[0].id).unwrap().len(), 1);
}

#[test]
fn basket_status_changes_are_told_by_kind_and_category() {
    let db = TestDb::new();
    let mut c = db.conn();
    outbox::register_channel(&mut c, "webhook", &all_categories()).unwrap();
    let b = new_basket(&mut c);
    let set = |c: &mut PgConnection, s: BasketStatus, why: Option<&str>| {
        store::baskets::set_status(c, Writer::Unleased, b.id, s, why).unwrap();
    };
    set(&mut c, BasketStatus::Paused, None);
    set(&mut c, BasketStatus::Active, None);
    assert!(
        all(&mut c).is_empty(),
        "pause and resume are the operator's own acts"
    );
    set(
        &mut c,
        BasketStatus::Error,
        Some("fills contradict the position"),
    );
    set(&mut c, BasketStatus::Stopping, None);
    set(&mut c, BasketStatus::Stopped, Some("stop_loss"));
    set(&mut c, BasketStatus::Closing, None);
    set(
        &mut c,
        BasketStatus::EmergencyClosed,
        Some("emergency_close"),
    );
    set(&mut c, BasketStatus::Closed, Some("completed"));
    let b2 = new_basket(&mut c);
    store::baskets::set_status(
        &mut c,
        Writer::Unleased,
        b2.id,
        BasketStatus::Closed,
        Some("reanchored"),
    )
    .unwrap();
    let got = kinds(&mut c);
    let want: Vec<(String, String)> = [
        ("basket_error", "errors"),
        ("basket_stopping", "closes"),
        ("basket_stopped", "closes"),
        ("basket_closing", "closes"),
        ("basket_closed", "closes"),
        ("basket_completed", "closes"),
        ("basket_reanchored", "closes"),
    ]
    .iter()
    .map(|(k, c)| (k.to_string(), c.to_string()))
    .collect();
    assert_eq!(got, want);
    let rows = all(&mut c);
    assert_eq!(rows[0].data["reason"], "fills contradict the position");
    assert_eq!(rows[0].data["from"], "active");
    assert_eq!(rows[0].data["to"], "error");
    assert_eq!(rows[4].data["reason"], "emergency_close");
}

fn rejection(basket: i64, attempts: i64) -> NewEvent {
    NewEvent::new(
        Some(basket),
        EventLevel::Warn,
        "create_rejected",
        "TP1 rejected by the exchange (exchange error -1013: Filter failure: PRICE_FILTER); retried with a growing wait",
    )
    .with_data(Some(json!({"role": "TP1", "client_order_id": format!("BOT_SOLUSDC_{basket}_TP1_{attempts}"), "attempts": attempts})))
}

#[test]
fn an_order_rejected_a_third_time_is_told_once() {
    let db = TestDb::new();
    let mut c = db.conn();
    outbox::register_channel(&mut c, "webhook", &all_categories()).unwrap();
    let b = new_basket(&mut c);
    for i in 1..=2 {
        store::events::insert(&mut c, &rejection(b.id, 1)).unwrap();
        assert!(all(&mut c).is_empty(), "rejection {i}");
    }
    let third = store::events::insert(&mut c, &rejection(b.id, 1)).unwrap();
    assert_eq!(third.repeat_count, 3, "collapsed into one event");
    store::events::insert(&mut c, &rejection(b.id, 1)).unwrap();
    let rows = all(&mut c);
    assert_eq!(rows.len(), 1, "told when the count reaches 3, not again");
    assert_eq!(rows[0].kind, "order_rejected_repeatedly");
    assert_eq!(rows[0].category, "errors");
    assert_eq!(rows[0].symbol.as_deref(), Some("SOLUSDC"));
    assert_eq!(rows[0].data["role"], "TP1");
    assert_eq!(rows[0].data["repeat_count"], 3);

    // A streak the event reports at 3 attempts is told at once.
    let other = new_basket(&mut c);
    store::events::insert(&mut c, &rejection(other.id, 3)).unwrap();
    assert_eq!(all(&mut c).len(), 2);
}

fn claim_all(c: &mut PgConnection) -> Vec<commands::CommandRow> {
    let held: Vec<i64> = store::baskets::list(c, None)
        .map(|v| v.iter().map(|b| b.id).collect())
        .unwrap_or_default();
    commands::claim_for_worker(c, "w1", &held, 60_000, 50).unwrap()
}

#[test]
fn an_emergency_close_is_told_when_it_starts_and_once_when_its_last_basket_is_closed() {
    let db = TestDb::new();
    let mut c = db.conn();
    outbox::register_channel(&mut c, "webhook", &all_categories()).unwrap();
    let a = new_basket(&mut c);
    let b = new_basket(&mut c);
    let (all_cmd, _) = commands::insert(
        &mut c,
        &NewCommand::new(&Payload::CloseAll(Origin::default()), None, "k").unwrap(),
    )
    .unwrap();
    assert_eq!(claim_all(&mut c).len(), 1);
    let mut queued = Vec::new();
    for basket in [a.id, b.id] {
        let close = Payload::CloseBasket(ClosePayload {
            parent: Some(all_cmd.id),
            ..ClosePayload::default()
        });
        let (row, _) = commands::insert(
            &mut c,
            &NewCommand::new(&close, Some(basket), format!("k:{basket}")).unwrap(),
        )
        .unwrap();
        queued.push(row.id);
    }
    commands::complete(
        &mut c,
        all_cmd.id,
        "w1",
        &CommandResult::CloseAll(CloseAllResult {
            queued: queued.clone(),
        }),
    )
    .unwrap();
    let rows = all(&mut c);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].kind, "close_all_progress");
    assert_eq!(rows[0].data["phase"], "started");
    assert_eq!(rows[0].data["baskets"].as_array().map(Vec::len), Some(2));

    // The children run: both baskets closing, then sold one after the other.
    let children = claim_all(&mut c);
    assert_eq!(children.len(), 2);
    for ch in &children {
        let id = ch.basket_id.unwrap();
        store::baskets::set_status(&mut c, Writer::Unleased, id, BasketStatus::Closing, None)
            .unwrap();
        commands::complete(
            &mut c,
            ch.id,
            "w1",
            &CommandResult::CloseBasket(StatusResult {
                basket_id: id,
                status: BasketStatus::Closing,
            }),
        )
        .unwrap();
    }
    let finished = |c: &mut PgConnection| {
        all(c)
            .into_iter()
            .filter(|n| n.kind == "close_all_progress" && n.data["phase"] == "finished")
            .count()
    };
    assert_eq!(finished(&mut c), 0, "both baskets still closing");
    store::baskets::set_status(
        &mut c,
        Writer::Unleased,
        a.id,
        BasketStatus::EmergencyClosed,
        Some("emergency_close"),
    )
    .unwrap();
    assert_eq!(finished(&mut c), 0, "one basket still closing");
    store::baskets::set_status(
        &mut c,
        Writer::Unleased,
        b.id,
        BasketStatus::EmergencyClosed,
        Some("emergency_close"),
    )
    .unwrap();
    assert_eq!(finished(&mut c), 1);
    let done = all(&mut c)
        .into_iter()
        .find(|n| n.data["phase"] == "finished")
        .unwrap();
    assert_eq!(done.category, "closes");
    assert_eq!(done.data["baskets"][0]["status"], "emergency_closed");
    assert_eq!(done.data["baskets"][1]["status"], "emergency_closed");
}

#[test]
fn a_close_all_with_nothing_to_close_starts_and_finishes_at_once() {
    let db = TestDb::new();
    let mut c = db.conn();
    outbox::register_channel(&mut c, "webhook", &all_categories()).unwrap();
    let (cmd, _) = commands::insert(
        &mut c,
        &NewCommand::new(&Payload::CloseAll(Origin::default()), None, "k").unwrap(),
    )
    .unwrap();
    claim_all(&mut c);
    commands::complete(
        &mut c,
        cmd.id,
        "w1",
        &CommandResult::CloseAll(CloseAllResult { queued: vec![] }),
    )
    .unwrap();
    let phases: Vec<String> = all(&mut c)
        .iter()
        .map(|n| n.data["phase"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(phases, vec!["started", "finished"]);
}

fn beat(c: &mut PgConnection, worker: &str, age_s: i64) {
    diesel::sql_query(
        "INSERT INTO bot_status (instance_id, mode, base_url, pid, started_at, heartbeat_at) \
         VALUES ($1, 'live', 'http://x', 1, now(), now() - make_interval(secs => $2)) \
         ON CONFLICT (instance_id) DO UPDATE SET heartbeat_at = EXCLUDED.heartbeat_at",
    )
    .bind::<diesel::sql_types::Text, _>(worker)
    .bind::<diesel::sql_types::Double, _>(age_s as f64)
    .execute(c)
    .unwrap();
}

#[test]
fn a_stale_heartbeat_is_told_once_per_episode_even_by_two_watchers() {
    let db = TestDb::new();
    let mut c = db.conn();
    outbox::register_channel(&mut c, "webhook", &all_categories()).unwrap();
    beat(&mut c, "fresh", 5);
    assert!(outbox::heartbeat_watch(&mut c, Duration::from_secs(60))
        .unwrap()
        .is_empty());
    beat(&mut c, "w1", 300);
    let (tx, rx) = mpsc::channel();
    let watchers: Vec<_> = (0..2)
        .map(|_| {
            let pool = db.pool().clone();
            let tx = tx.clone();
            std::thread::spawn(move || {
                let mut c = pool.get().unwrap();
                for _ in 0..5 {
                    tx.send(outbox::heartbeat_watch(&mut c, Duration::from_secs(60)).unwrap())
                        .unwrap();
                }
            })
        })
        .collect();
    for w in watchers {
        w.join().unwrap();
    }
    drop(tx);
    let written: Vec<i64> = rx.iter().flatten().collect();
    assert_eq!(
        written.len(),
        1,
        "one notification for the episode: {written:?}"
    );
    let rows = all(&mut c);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].kind, "heartbeat_stale");
    assert_eq!(rows[0].data["worker"], "w1");
    assert_eq!(outbox::deliveries(&mut c, rows[0].id).unwrap().len(), 1);

    // It beats again: one "back"; then stale again: a new episode.
    beat(&mut c, "w1", 1);
    outbox::heartbeat_watch(&mut c, Duration::from_secs(60)).unwrap();
    outbox::heartbeat_watch(&mut c, Duration::from_secs(60)).unwrap();
    beat(&mut c, "w1", 200);
    outbox::heartbeat_watch(&mut c, Duration::from_secs(60)).unwrap();
    let k: Vec<String> = all(&mut c).into_iter().map(|n| n.kind).collect();
    assert_eq!(
        k,
        vec!["heartbeat_stale", "heartbeat_back", "heartbeat_stale"]
    );
}

#[test]
fn the_daily_summary_is_written_once_per_day() {
    let db = TestDb::new();
    let mut c = db.conn();
    outbox::register_channel(&mut c, "webhook", &all_categories()).unwrap();
    let b = new_basket(&mut c);
    let day = crate::common::at(0).date_naive();
    assert_eq!(
        outbox::daily_summary(&mut c, day).unwrap(),
        None,
        "the channel was registered after that day: nobody was listening"
    );
    diesel::sql_query("UPDATE notification_channels SET registered_at = $1")
        .bind::<diesel::sql_types::Timestamptz, _>(crate::common::at(-86_400))
        .execute(&mut c)
        .unwrap();
    store::fills::record_fills(
        &mut c,
        Writer::Unleased,
        b.id,
        "SOL",
        &[fill(b.id, 0, "B1", "150", "1", "0", "USDC")],
    )
    .unwrap();
    let first = outbox::daily_summary(&mut c, day).unwrap();
    assert!(first.is_some());
    assert_eq!(outbox::daily_summary(&mut c, day).unwrap(), None);
    let n = all(&mut c)
        .into_iter()
        .find(|n| n.kind == "daily_summary")
        .unwrap();
    assert_eq!(n.category, "daily");
    assert_eq!(n.data["fills"], 1);
    assert_eq!(n.data["baskets"]["active"], 1);
    assert_eq!(
        n.dedupe_key.as_deref(),
        Some(format!("daily:{}", day.format("%Y-%m-%d")).as_str())
    );
}

#[test]
fn a_delivery_in_flight_is_skipped_by_another_sender_and_outcomes_are_recorded() {
    let db = TestDb::new();
    let mut c = db.conn();
    outbox::register_channel(&mut c, "webhook", &all_categories()).unwrap();
    let b = new_basket(&mut c);
    store::fills::record_fills(
        &mut c,
        Writer::Unleased,
        b.id,
        "SOL",
        &[
            fill(b.id, 1, "B1", "150", "1", "0", "USDC"),
            fill(b.id, 2, "B2", "149", "1", "0", "USDC"),
        ],
    )
    .unwrap();
    let ids: Vec<i64> = all(&mut c).iter().map(|n| n.id).collect();
    let (in_flight_tx, in_flight_rx) = mpsc::channel();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let pool = db.pool().clone();
    let holder = std::thread::spawn(move || {
        let mut c = pool.get().unwrap();
        outbox::deliver_next(&mut c, "webhook", |claim| {
            in_flight_tx.send(claim.notification.id).unwrap();
            release_rx.recv().unwrap();
            Outcome::Delivered
        })
        .unwrap()
        .map(|(claim, _)| claim.notification.id)
    });
    let first = in_flight_rx.recv().unwrap();
    assert_eq!(first, ids[0], "oldest first");
    // The other sender skips the row in flight and takes the next one.
    let second = outbox::deliver_next(&mut c, "webhook", |_| Outcome::Retry {
        after: Duration::from_secs(120),
        error: "HTTP 503: busy".into(),
    })
    .unwrap()
    .map(|(claim, _)| claim.notification.id);
    assert_eq!(second, Some(ids[1]));
    // Nothing else due: the first is locked, the second waits 120 s.
    assert!(
        outbox::deliver_next(&mut c, "webhook", |_| Outcome::Delivered)
            .unwrap()
            .is_none()
    );
    release_tx.send(()).unwrap();
    assert_eq!(holder.join().unwrap(), Some(first));
    let d1 = &outbox::deliveries(&mut c, ids[0]).unwrap()[0];
    assert_eq!((d1.state.as_str(), d1.attempts), ("delivered", 1));
    assert!(d1.delivered_at.is_some());
    let d2 = &outbox::deliveries(&mut c, ids[1]).unwrap()[0];
    assert_eq!((d2.state.as_str(), d2.attempts), ("pending", 1));
    assert_eq!(d2.last_error.as_deref(), Some("HTTP 503: busy"));
    let wait = d2.next_attempt_at - chrono::Utc::now();
    assert!(wait > chrono::TimeDelta::seconds(100), "{wait}");
    let counts = outbox::channel_counts(&mut c).unwrap();
    assert_eq!(counts.len(), 1);
    assert_eq!((counts[0].pending, counts[0].failed), (1, 0));
}

#[test]
fn a_killed_senders_claim_is_free_at_once() {
    let db = TestDb::new();
    let mut c = db.conn();
    outbox::register_channel(&mut c, "telegram", &all_categories()).unwrap();
    let b = new_basket(&mut c);
    store::fills::record_fills(
        &mut c,
        Writer::Unleased,
        b.id,
        "SOL",
        &[fill(b.id, 1, "B1", "150", "1", "0", "USDC")],
    )
    .unwrap();
    let (tx, rx) = mpsc::channel();
    let url = db.url().to_string();
    // A sender whose connection dies mid-request (its thread never returns
    // from the closure; its connection is closed from outside).
    std::thread::spawn(move || {
        let mut own = store::connect(&url).unwrap();
        let _ = outbox::deliver_next(&mut own, "telegram", |_| {
            tx.send(()).unwrap();
            std::thread::sleep(Duration::from_secs(3600));
            Outcome::Delivered
        });
    });
    rx.recv().unwrap();
    assert!(
        outbox::deliver_next(&mut c, "telegram", |_| Outcome::Delivered)
            .unwrap()
            .is_none(),
        "locked while in flight"
    );
    diesel::sql_query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'idle in transaction'",
    )
    .execute(&mut c)
    .unwrap();
    let mut again = None;
    for _ in 0..50 {
        again = outbox::deliver_next(&mut c, "telegram", |_| Outcome::Delivered).unwrap();
        if again.is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        again.is_some(),
        "claimable once the sender's session is gone"
    );
}

#[test]
fn channels_no_longer_configured_end_their_pending_deliveries() {
    let db = TestDb::new();
    let mut c = db.conn();
    outbox::register_channel(&mut c, "telegram", &all_categories()).unwrap();
    outbox::register_channel(&mut c, "webhook", &all_categories()).unwrap();
    let b = new_basket(&mut c);
    store::fills::record_fills(
        &mut c,
        Writer::Unleased,
        b.id,
        "SOL",
        &[fill(b.id, 1, "B1", "150", "1", "0", "USDC")],
    )
    .unwrap();
    assert_eq!(outbox::unregister_others(&mut c, &["webhook"]).unwrap(), 1);
    let n = all(&mut c);
    let d = outbox::deliveries(&mut c, n[0].id).unwrap();
    assert_eq!(d[0].channel, "telegram");
    assert_eq!(d[0].state, "failed");
    assert_eq!(d[1].state, "pending");
    assert!(outbox::register_channel(&mut c, "sms", &all_categories()).is_err());
    assert!(outbox::register_channel(&mut c, "webhook", &["everything".to_string()]).is_err());
}

#[test]
fn retention_deletes_old_notifications_nothing_waits_for() {
    let db = TestDb::new();
    let mut c = db.conn();
    outbox::register_channel(&mut c, "webhook", &all_categories()).unwrap();
    let b = new_basket(&mut c);
    store::fills::record_fills(
        &mut c,
        Writer::Unleased,
        b.id,
        "SOL",
        &[
            fill(b.id, 1, "B1", "150", "1", "0", "USDC"),
            fill(b.id, 2, "B2", "149", "1", "0", "USDC"),
            fill(b.id, 3, "B3", "148", "1", "0", "USDC"),
        ],
    )
    .unwrap();
    outbox::deliver_next(&mut c, "webhook", |_| Outcome::Delivered).unwrap();
    outbox::deliver_next(&mut c, "webhook", |_| Outcome::Failed {
        error: "HTTP 400".into(),
    })
    .unwrap();
    diesel::sql_query("UPDATE notifications SET created_at = now() - interval '31 days'")
        .execute(&mut c)
        .unwrap();
    let r = store::retention::run_if_due(&mut c, &store::retention::Policy::default(), "w1")
        .unwrap()
        .unwrap();
    assert_eq!(r.notifications_deleted, 2);
    let left = all(&mut c);
    assert_eq!(left.len(), 1, "the pending one stays");
    assert_eq!(
        outbox::deliveries(&mut c, left[0].id).unwrap()[0].state,
        "pending"
    );
}
