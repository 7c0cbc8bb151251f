use std::time::{Duration, Instant};

use diesel::Connection;
use serde_json::json;
use store::commands::{self, CommandResult, NewCommand, StatusResult};
use store::events::{self, NewEvent};
use store::misc::{self, Heartbeat, NewSnapshot};
use store::test_db::TestDb;
use store::{CommandKind, CommandStatus, Error, EventLevel};

use crate::common::{d, new_basket};

/// A `close_basket` result: the basket is closing.
fn closing(basket: i64) -> CommandResult {
    CommandResult::CloseBasket(StatusResult {
        basket_id: basket,
        status: grid_core::BasketStatus::Closing,
    })
}

fn close(basket: Option<i64>, key: &str) -> NewCommand {
    NewCommand {
        kind: CommandKind::CloseBasket,
        basket_id: basket,
        payload: json!({}),
        idempotency_key: key.to_string(),
    }
}

#[test]
fn commands_are_idempotent_claimed_once_and_notified() {
    let db = TestDb::new();
    let mut listener = db.connect();
    commands::listen(&mut listener).expect("listen");
    let mut a = db.connect();
    let mut b = db.connect();
    let basket = new_basket(&mut a).id;

    let (first, created) = commands::insert(&mut a, &close(Some(basket), "k1")).expect("insert");
    assert!(created);
    assert_eq!(first.status, CommandStatus::Pending);
    let (again, created) =
        commands::insert(&mut b, &close(Some(basket), "k1")).expect("double submit");
    assert!(!created);
    assert_eq!(again.id, first.id);
    assert!(matches!(
        commands::insert(
            &mut b,
            &NewCommand {
                kind: CommandKind::Pause,
                ..close(Some(basket), "k1")
            }
        ),
        Err(Error::Conflict { .. })
    ));
    let (second, _) = commands::insert(&mut a, &close(Some(basket), "k2")).expect("second");

    // NOTIFY reaches the listener promptly.
    let deadline = Instant::now() + Duration::from_secs(2);
    let mut notified = Vec::new();
    while notified.len() < 2 && Instant::now() < deadline {
        notified.extend(commands::drain_notifications(&mut listener).expect("drain"));
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(notified, vec![first.id, second.id]);

    // Each worker claims one (both alive, so neither takes the other's).
    alive(&mut a, "w-a");
    alive(&mut a, "w-b");
    let mine = commands::claim_for_worker(&mut a, "w-a", &[basket], 60_000, 1).expect("a claims");
    assert_eq!(
        mine.iter().map(|c| c.id).collect::<Vec<_>>(),
        vec![first.id]
    );
    let theirs = commands::claim_for_worker(&mut b, "w-b", &[basket], 60_000, 1).expect("b claims");
    assert_eq!(
        theirs.iter().map(|c| c.id).collect::<Vec<_>>(),
        vec![second.id]
    );

    // Only the claimant finishes it.
    assert!(matches!(
        commands::complete(&mut b, first.id, "w-b", &closing(basket)),
        Err(Error::Invalid { .. })
    ));
    // A result of another kind is refused: the command stays running.
    let paused = CommandResult::Pause(StatusResult {
        basket_id: basket,
        status: grid_core::BasketStatus::Paused,
    });
    assert!(matches!(
        commands::complete(&mut a, first.id, "w-a", &paused),
        Err(Error::Invalid { .. })
    ));
    let done = commands::complete(&mut a, first.id, "w-a", &closing(basket)).expect("done");
    assert_eq!(done.status, CommandStatus::Done);
    assert_eq!(
        done.result,
        Some(json!({"basket_id": basket, "status": "closing"}))
    );
    assert_eq!(done.outcome().expect("typed"), Some(closing(basket)));
    assert_eq!(
        done.outcome()
            .ok()
            .flatten()
            .map(|r| r.to_string())
            .as_deref(),
        Some(format!("basket {basket} is closing").as_str())
    );
    let failed = commands::fail(&mut b, second.id, "w-b", "exchange down").expect("failed");
    assert_eq!(
        (failed.status, failed.error.as_deref()),
        (CommandStatus::Failed, Some("exchange down"))
    );
    assert_eq!(
        commands::get(&mut a, first.id)
            .expect("get")
            .claimed_by
            .as_deref(),
        Some("w-a")
    );
    assert!(commands::unfinished(&mut a).expect("unfinished").is_empty());
    assert_eq!(commands::recent(&mut a, 10).expect("recent").len(), 2);
}

#[test]
fn events_heartbeats_prices_and_snapshots() {
    let db = TestDb::new();
    let mut conn = db.conn();
    let basket = new_basket(&mut conn).id;
    for (i, level) in [
        EventLevel::Info,
        EventLevel::Error,
        EventLevel::Warn,
        EventLevel::Info,
    ]
    .into_iter()
    .enumerate()
    {
        events::insert(
            &mut conn,
            &NewEvent {
                basket_id: Some(basket),
                level,
                kind: "cycle".into(),
                message: format!("event {i} <script>"),
                data: Some(json!({"i": i})),
            },
        )
        .expect("event");
    }
    let recent = events::recent(&mut conn, None, 3).expect("recent");
    assert_eq!(recent.len(), 3);
    assert_eq!(recent[0].level, EventLevel::Error, "errors first");
    assert_eq!(recent[1].message, "event 3 <script>");
    assert_eq!(
        events::recent(&mut conn, Some(basket + 99), 10)
            .expect("none")
            .len(),
        0
    );
    assert_eq!(
        events::delete_older_than(&mut conn, 1).expect("retention"),
        0
    );

    let now = chrono::Utc::now();
    let hb = Heartbeat {
        instance_id: "host-1".into(),
        mode: "paper".into(),
        base_url: "http://127.0.0.1:1".into(),
        pid: 42,
        started_at: now,
        last_cycle_at: Some(now),
        last_cycle_ms: Some(12),
        last_error: None,
        last_error_at: None,
        weight_used: Some(7),
    };
    let first = misc::heartbeat(&mut conn, &hb).expect("hb");
    let second = misc::heartbeat(
        &mut conn,
        &Heartbeat {
            last_error: Some("boom".into()),
            ..hb
        },
    )
    .expect("hb");
    assert!(second.heartbeat_at >= first.heartbeat_at);
    assert_eq!(misc::statuses(&mut conn).expect("statuses").len(), 1);
    assert_eq!(second.last_error.as_deref(), Some("boom"));

    misc::upsert_prices(
        &mut conn,
        &[
            ("SOLUSDC".into(), d("140.12")),
            ("BTCUSDC".into(), d("92233720368.54775807")),
        ],
    )
    .expect("prices");
    misc::upsert_prices(&mut conn, &[("SOLUSDC".into(), d("141"))]).expect("prices");
    let prices = misc::prices(&mut conn).expect("prices");
    assert_eq!(prices.len(), 2);
    assert_eq!(prices[0].price, d("92233720368.54775807"));
    assert_eq!(prices[1].price, d("141"));

    for v in ["1000", "1010.5", "990.25"] {
        misc::insert_snapshot(
            &mut conn,
            &NewSnapshot {
                quote_asset: "USDC".into(),
                quote_balance: d(v),
                base_balance: d("0"),
                total_value: d(v),
                balances: json!({"USDC": {"free": v, "locked": "0"}}),
            },
        )
        .expect("snapshot");
    }
    let series = misc::equity_series(&mut conn, "USDC", now - chrono::TimeDelta::hours(1), 3600)
        .expect("series");
    assert!(!series.is_empty() && series.len() <= 2);
    assert_eq!(
        series.last().map(|p| p.value),
        Some(d("990.25")),
        "last snapshot of the bucket"
    );
    assert_eq!(
        misc::delete_snapshots_older_than(&mut conn, 30).expect("keep"),
        0
    );
    assert!(matches!(
        misc::delete_snapshots_older_than(&mut conn, 0),
        Err(Error::Invalid { .. })
    ));
    diesel::sql_query("UPDATE account_snapshots SET \"timestamp\" = now() - interval '40 days' WHERE total_value = 1000")
        .execute(&mut *conn)
        .expect("age one");
    assert_eq!(
        misc::delete_snapshots_older_than(&mut conn, 30).expect("retention"),
        1
    );

    misc::set_config(&mut conn, "k_next", &json!(3)).expect("set");
    misc::set_config(&mut conn, "k_next", &json!(4)).expect("set");
    assert_eq!(
        misc::get_config(&mut conn, "k_next").expect("get"),
        Some(json!(4))
    );
    assert_eq!(misc::all_config(&mut conn).expect("all").len(), 1);
}

use diesel::RunQueryDsl;

#[test]
fn a_basket_with_no_active_level_is_refused_and_nothing_is_stored() {
    let db = store::test_db::TestDb::new();
    let mut conn = db.conn();
    // At 150 the default ladder's quantities are 0.56, 0.88, 1.17, 1.50, 1.95
    // and 2.38 (strategy.md §12): with max_qty 0.5 none of them is tradable.
    let mut rules = crate::common::sol_rules();
    rules.max_qty = crate::common::d("0.5");
    let err = store::baskets::create(
        &mut conn,
        &grid_core::GridConfig::default(),
        &rules,
        crate::common::d("150"),
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("levels_pct"),
        "the error names levels_pct: {err}"
    );
    assert!(store::baskets::list(&mut conn, None).unwrap().is_empty());
}

/// A pending `close_basket` command of `basket` (or of none).
fn queued(conn: &mut diesel::PgConnection, basket: Option<i64>, key: &str) -> i64 {
    commands::insert(conn, &close(basket, key))
        .expect("insert")
        .0
        .id
}

/// A fresh heartbeat for `worker`.
fn alive(conn: &mut diesel::PgConnection, worker: &str) {
    let now = chrono::Utc::now();
    misc::heartbeat(
        conn,
        &Heartbeat {
            instance_id: worker.into(),
            mode: "paper".into(),
            base_url: "http://127.0.0.1:1".into(),
            pid: 1,
            started_at: now,
            last_cycle_at: None,
            last_cycle_ms: None,
            last_error: None,
            last_error_at: None,
            weight_used: None,
        },
    )
    .expect("heartbeat");
}

#[test]
fn a_worker_claims_commands_of_its_baskets_of_none_and_of_unleased_closed_ones() {
    use grid_core::BasketStatus;
    use store::leases::acquire_leases;
    use store::{baskets, Writer};

    let db = TestDb::new();
    let mut a = db.connect();
    let mut b = db.connect();
    // Both workers alive (their commands are not orphans to the other).
    alive(&mut a, "w-a");
    alive(&mut a, "w-b");
    let mine = new_basket(&mut a).id;
    assert_eq!(
        acquire_leases(&mut a, "w-a", 60_000, 1).expect("a"),
        vec![mine]
    );
    let theirs = new_basket(&mut a).id;
    assert_eq!(
        acquire_leases(&mut b, "w-b", 60_000, 1).expect("b"),
        vec![theirs]
    );
    // Active but leased by nobody yet: its future holder answers.
    let orphan = new_basket(&mut a).id;
    // Closed, no open order: nobody leases it, anyone answers.
    let closed = new_basket(&mut a).id;
    baskets::set_status(
        &mut a,
        Writer::Unleased,
        closed,
        BasketStatus::Closed,
        Some("test"),
    )
    .expect("close");
    // Closed with an order that may be live: still needs a writer.
    let closed_live = new_basket(&mut a).id;
    store::orders::insert_pending(
        &mut a,
        Writer::Unleased,
        &store::orders::NewOrderRow {
            basket_id: closed_live,
            client_order_id: format!("BOT_SOLUSDC_{closed_live}_B1_1"),
            side: grid_core::Side::Buy,
            order_type: grid_core::OrderType::Limit,
            price: d("142.5"),
            quantity: d("0.56"),
            stop_price: None,
            trailing_delta: None,
            time_in_force: None,
        },
    )
    .expect("order");
    baskets::set_status(
        &mut a,
        Writer::Unleased,
        closed_live,
        BasketStatus::Closed,
        Some("test"),
    )
    .expect("close");

    let c_theirs = queued(&mut a, Some(theirs), "t");
    let c_orphan = queued(&mut a, Some(orphan), "o");
    let c_closed_live = queued(&mut a, Some(closed_live), "cl");
    let c_mine = queued(&mut a, Some(mine), "m");
    let c_none = queued(&mut a, None, "n");
    let c_closed = queued(&mut a, Some(closed), "c");

    // Limit and order: the oldest claimable first.
    let first = commands::claim_for_worker(&mut a, "w-a", &[mine], 60_000, 1).expect("claim");
    assert_eq!(first.iter().map(|c| c.id).collect::<Vec<_>>(), vec![c_mine]);
    let rest = commands::claim_for_worker(&mut a, "w-a", &[mine], 60_000, 50).expect("claim");
    assert_eq!(
        rest.iter().map(|c| c.id).collect::<Vec<_>>(),
        vec![c_mine, c_none, c_closed],
        "not another worker's basket, not an unleased basket that still needs a writer \
         (and its own running one again)"
    );
    for c in &rest {
        assert_eq!(c.status, CommandStatus::Running);
        assert_eq!(c.claimed_by.as_deref(), Some("w-a"));
        assert!(c.started_at.is_some());
        assert_eq!(c.kind, CommandKind::CloseBasket);
    }
    // Claiming again, w-a gets back its own commands still `running`: left
    // over from a cycle cut short (a worker runs its commands in one cycle).
    let again = commands::claim_for_worker(&mut a, "w-a", &[mine], 60_000, 50).expect("claim");
    assert_eq!(
        again.iter().map(|c| c.id).collect::<Vec<_>>(),
        vec![c_mine, c_none, c_closed]
    );
    let b_got = commands::claim_for_worker(&mut b, "w-b", &[theirs], 60_000, 50).expect("claim");
    assert_eq!(
        b_got.iter().map(|c| c.id).collect::<Vec<_>>(),
        vec![c_theirs]
    );
    commands::complete(&mut b, c_theirs, "w-b", &closing(theirs)).expect("done");
    for id in [c_orphan, c_closed_live] {
        assert_eq!(
            commands::get(&mut a, id).expect("get").status,
            CommandStatus::Pending
        );
    }
    // Once the last order is final, the closed basket needs no writer: anyone answers.
    diesel::sql_query("UPDATE orders SET status = 'CANCELED' WHERE basket_id = $1")
        .bind::<diesel::sql_types::BigInt, _>(closed_live)
        .execute(&mut a)
        .expect("cancel");
    let got = commands::claim_for_worker(&mut b, "w-b", &[theirs], 60_000, 50).expect("claim");
    assert_eq!(
        got.iter().map(|c| c.id).collect::<Vec<_>>(),
        vec![c_closed_live]
    );
    commands::complete(&mut b, c_closed_live, "w-b", &closing(closed_live)).expect("done");
    // The holder of the orphan answers it.
    let got =
        commands::claim_for_worker(&mut b, "w-b", &[theirs, orphan], 60_000, 50).expect("claim");
    assert_eq!(got.iter().map(|c| c.id).collect::<Vec<_>>(), vec![c_orphan]);
    commands::complete(&mut b, c_orphan, "w-b", &closing(orphan)).expect("done");

    // w-b runs w-a's running commands only once w-a has no fresh heartbeat
    // (of the basket rules, w-b may take the basketless and closed ones).
    let got = commands::claim_for_worker(&mut b, "w-b", &[theirs], 60_000, 50).expect("claim");
    assert!(
        got.is_empty(),
        "a live worker's commands were taken: {got:?}"
    );
    diesel::sql_query("UPDATE bot_status SET heartbeat_at = now() - interval '2 minutes' WHERE instance_id = 'w-a'")
        .execute(&mut a)
        .expect("age");
    let got = commands::claim_for_worker(&mut b, "w-b", &[theirs], 60_000, 50).expect("claim");
    assert_eq!(
        got.iter().map(|c| c.id).collect::<Vec<_>>(),
        vec![c_none, c_closed],
        "a dead worker's commands, except those of a basket another worker must hold"
    );
    assert!(got.iter().all(|c| c.claimed_by.as_deref() == Some("w-b")));
    alive(&mut a, "w-a");

    // Only the claimant finishes.
    assert!(matches!(
        commands::complete(&mut b, c_mine, "w-b", &closing(mine)),
        Err(Error::Invalid { .. })
    ));
    commands::complete(&mut a, c_mine, "w-a", &closing(mine)).expect("done");
    assert!(matches!(
        commands::claim_for_worker(&mut a, "", &[], 60_000, 1),
        Err(Error::Invalid { .. })
    ));
    assert!(commands::claim_for_worker(&mut a, "w-a", &[], 60_000, 0)
        .expect("limit 0")
        .is_empty());
}

#[test]
fn a_released_command_is_pending_again_for_any_worker_and_only_its_claimant_releases() {
    let db = TestDb::new();
    let mut a = db.connect();
    alive(&mut a, "w-a");
    alive(&mut a, "w-b");
    let id = queued(&mut a, None, "r");
    let got = commands::claim_for_worker(&mut a, "w-a", &[], 60_000, 10).expect("claim");
    assert_eq!(got.iter().map(|c| c.id).collect::<Vec<_>>(), vec![id]);
    assert!(
        matches!(
            commands::release(&mut a, id, "w-b"),
            Err(Error::Invalid { .. })
        ),
        "another worker cannot give it back"
    );
    let row = commands::release(&mut a, id, "w-a").expect("release");
    assert_eq!(row.status, CommandStatus::Pending);
    assert_eq!(row.claimed_by, None);
    assert_eq!(row.started_at, None);
    assert!(
        matches!(
            commands::release(&mut a, id, "w-a"),
            Err(Error::Invalid { .. })
        ),
        "released once"
    );
    // The next claim, by any worker that may run it, gets it.
    let got = commands::claim_for_worker(&mut a, "w-b", &[], 60_000, 10).expect("claim");
    assert_eq!(got.iter().map(|c| c.id).collect::<Vec<_>>(), vec![id]);
    assert_eq!(got[0].claimed_by.as_deref(), Some("w-b"));
}

#[test]
fn claim_for_worker_skips_commands_locked_by_another_claim() {
    let db = TestDb::new();
    let mut a = db.connect();
    let mut b = db.connect();
    alive(&mut a, "w-a");
    alive(&mut a, "w-b");
    let first = queued(&mut a, None, "k1");
    let second = queued(&mut a, None, "k2");
    a.transaction::<_, Error, _>(|a| {
        let mine = commands::claim_for_worker(a, "w-a", &[], 60_000, 1)?;
        assert_eq!(mine.iter().map(|c| c.id).collect::<Vec<_>>(), vec![first]);
        // a's claim is not committed: b skips the locked row, takes the next.
        let theirs = commands::claim_for_worker(&mut b, "w-b", &[], 60_000, 50)?;
        assert_eq!(
            theirs.iter().map(|c| c.id).collect::<Vec<_>>(),
            vec![second]
        );
        Ok(())
    })
    .expect("claims");
    commands::complete(&mut b, second, "w-b", &closing(0)).expect("done");
    assert!(commands::claim_for_worker(&mut b, "w-b", &[], 60_000, 50)
        .expect("none")
        .is_empty());
    assert_eq!(
        commands::get(&mut a, first)
            .expect("get")
            .claimed_by
            .as_deref(),
        Some("w-a")
    );
}

#[test]
fn a_heartbeat_keeps_the_last_cycle_and_error_times_when_not_given() {
    use crate::common::at;

    let db = TestDb::new();
    let mut conn = db.conn();
    let hb = Heartbeat {
        instance_id: "w-1".into(),
        mode: "paper".into(),
        base_url: "http://127.0.0.1:1".into(),
        pid: 42,
        started_at: at(0),
        last_cycle_at: Some(at(10)),
        last_cycle_ms: Some(12),
        last_error: Some("boom".into()),
        last_error_at: Some(at(10)),
        weight_used: Some(7),
    };
    misc::heartbeat(&mut conn, &hb).expect("hb");
    // A restarted process before its first cycle, no error now.
    let row = misc::heartbeat(
        &mut conn,
        &Heartbeat {
            pid: 43,
            started_at: at(20),
            last_cycle_at: None,
            last_cycle_ms: None,
            last_error: None,
            last_error_at: None,
            weight_used: None,
            ..hb.clone()
        },
    )
    .expect("hb");
    assert_eq!(row.last_cycle_at, Some(at(10)), "kept");
    assert_eq!(row.last_cycle_ms, Some(12), "kept");
    assert_eq!(row.last_error_at, Some(at(10)), "kept");
    assert_eq!(row.last_error, None, "the current error is cleared");
    assert_eq!((row.pid, row.started_at), (43, at(20)));
    assert_eq!(row.weight_used, None);
    // New values replace the old ones.
    let row = misc::heartbeat(
        &mut conn,
        &Heartbeat {
            last_cycle_at: Some(at(30)),
            last_cycle_ms: Some(5),
            last_error: Some("again".into()),
            last_error_at: Some(at(30)),
            ..hb
        },
    )
    .expect("hb");
    assert_eq!(
        (
            row.last_cycle_at,
            row.last_cycle_ms,
            row.last_error.as_deref(),
            row.last_error_at
        ),
        (Some(at(30)), Some(5), Some("again"), Some(at(30)))
    );
    assert_eq!(misc::statuses(&mut conn).expect("statuses"), vec![row]);
    assert_eq!(misc::remove_status(&mut conn, "w-1").expect("remove"), 1);
    assert!(misc::statuses(&mut conn).expect("statuses").is_empty());
}

#[test]
fn last_price_of_one_symbol_and_event_builders() {
    let db = TestDb::new();
    let mut conn = db.conn();
    assert_eq!(misc::last_price(&mut conn, "SOLUSDC").expect("none"), None);
    misc::upsert_prices(&mut conn, &[("SOLUSDC".into(), d("140.12"))]).expect("prices");
    misc::upsert_prices(&mut conn, &[("SOLUSDC".into(), d("141.5"))]).expect("prices");
    assert_eq!(
        misc::last_price(&mut conn, "SOLUSDC").expect("price"),
        Some(d("141.5"))
    );
    assert_eq!(misc::last_price(&mut conn, "BTCUSDC").expect("none"), None);

    let e = events::insert(
        &mut conn,
        &NewEvent::new(None, EventLevel::Warn, "cycle_error", "skipped")
            .with_data(Some(json!({"x": 1}))),
    )
    .expect("event");
    assert_eq!(
        (
            e.basket_id,
            e.level,
            e.kind.as_str(),
            e.message.as_str(),
            e.data
        ),
        (
            None,
            EventLevel::Warn,
            "cycle_error",
            "skipped",
            Some(json!({"x": 1}))
        )
    );
    assert!(matches!(
        events::insert(&mut conn, &NewEvent::new(None, EventLevel::Info, "", "x")),
        Err(Error::Invalid { .. })
    ));
}
