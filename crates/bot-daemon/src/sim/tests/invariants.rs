//! Each invariant of the harness fails on the state it forbids: a checker
//! that cannot fail proves nothing.

use binance_rest::{Exchange, NewOrder, OrderRef};
use exchange_sim::{InProcess, SimConfig};
use grid_core::{Decimal, GridConfig, Side};
use rust_decimal_macros::dec;

use crate::sim::invariants::{check_settled, check_step, Context, Violation};
use crate::sim::mem_ledger::MemLedger;

struct World {
    ex: InProcess,
    ledger: MemLedger,
    cx: Context,
    basket: i64,
}

fn world() -> World {
    let mut cfg = SimConfig {
        start_time_ms: Some(1_767_225_600_000),
        ..SimConfig::default()
    };
    // Coins of the user's own, so a bot sell of more than it bought can trade.
    cfg.balances.insert("SOL".into(), dec!(100));
    let ex = InProcess::new(cfg).unwrap();
    let user = place(&ex, "user-1", Side::Buy, dec!(0.1), dec!(50));
    let rules = ex.symbol_rules("SOLUSDC").unwrap();
    let ledger = MemLedger::at(ex.with_engine(|e| e.now()));
    let b = ledger
        .create_basket(&GridConfig::default(), &rules, dec!(150))
        .unwrap();
    let mut cx = Context {
        user_order_id: u64::try_from(user).unwrap(),
        user_client_order_id: "user-1".into(),
        allowed: Default::default(),
        rules_seen: Default::default(),
        ended: Default::default(),
    };
    cx.learn(&ledger.basket_rows().values().collect::<Vec<_>>());
    World {
        cx,
        ex,
        ledger,
        basket: b.id,
    }
}

fn place(ex: &InProcess, cid: &str, side: Side, qty: Decimal, price: Decimal) -> i64 {
    let mut o = NewOrder::limit("SOLUSDC", side, qty, price).client_order_id(cid);
    o.timestamp_ms = Some(ex.order_timestamp().unwrap());
    ex.place_order(&o).unwrap().order_id
}

fn names(v: &[Violation]) -> Vec<&'static str> {
    v.iter().map(|v| v.invariant).collect()
}

fn step(w: &World, canceled: &[String]) -> Vec<&'static str> {
    let found = w.ex.with_engine(|e| {
        let rows = w.ledger.basket_rows();
        let baskets: Vec<_> = rows.values().collect();
        check_step(e, &w.ledger, &baskets, canceled, &w.cx)
    });
    names(&found)
}

#[test]
fn a_quiet_world_breaks_nothing() {
    let w = world();
    assert_eq!(step(&w, &[]), Vec::<&str>::new());
    let settled = w.ex.with_engine(|e| check_settled(e, &w.ledger));
    assert_eq!(names(&settled), Vec::<&str>::new());
}

#[test]
fn two_live_orders_of_one_role_are_found() {
    let w = world();
    let id = w.basket;
    place(
        &w.ex,
        &format!("BOT_SOLUSDC_{id}_B1_1"),
        Side::Buy,
        dec!(0.05),
        dec!(140),
    );
    assert_eq!(step(&w, &[]), Vec::<&str>::new());
    place(
        &w.ex,
        &format!("BOT_SOLUSDC_{id}_B1_2"),
        Side::Buy,
        dec!(0.05),
        dec!(139),
    );
    assert_eq!(step(&w, &[]), ["two_live_orders"]);
}

#[test]
fn a_level_bought_beyond_its_quantity_and_a_sale_of_nothing_are_found() {
    let w = world();
    let id = w.basket;
    // B1 of the default config at 150 buys a few tenths of SOL: 50 SOL is far beyond.
    place(
        &w.ex,
        &format!("BOT_SOLUSDC_{id}_B1_1"),
        Side::Buy,
        dec!(50),
        dec!(151),
    );
    let found = step(&w, &[]);
    assert!(found.contains(&"level_overbought"), "{found:?}");
    // A bot sell of more than it bought.
    place(
        &w.ex,
        &format!("BOT_SOLUSDC_{id}_TP1_2"),
        Side::Sell,
        dec!(60),
        dec!(149),
    );
    let found = step(&w, &[]);
    let trades = w.ex.with_engine(|e| e.trades().to_vec());
    assert!(found.contains(&"sold_unbought"), "{found:?} {trades:?}");
    // Its trades are not in the ledger: found once the run has settled.
    let settled = w.ex.with_engine(|e| check_settled(e, &w.ledger));
    assert!(names(&settled).contains(&"fill_missing"), "{settled:?}");
}

#[test]
fn touching_the_users_order_is_found() {
    let w = world();
    assert_eq!(step(&w, &["user-1".to_string()]), ["user_order_touched"]);
    w.ex.cancel_order("SOLUSDC", OrderRef::Client("user-1".into()))
        .unwrap();
    assert_eq!(step(&w, &[]), ["user_order_touched"]);
}

#[test]
fn an_unanswered_command_and_an_unfinished_close_are_found_once_settled() {
    use crate::ledger::Ledger;
    use store::commands::{ClosePayload, NewCommand, Payload};

    let mut w = world();
    let id = w.basket;
    let close = Payload::CloseBasket(ClosePayload::default());
    w.ledger
        .insert_command(&NewCommand::new(&close, Some(id), "c1").unwrap())
        .unwrap();
    let settled = w.ex.with_engine(|e| check_settled(e, &w.ledger));
    assert_eq!(names(&settled), ["command_unanswered"]);

    w.ledger
        .set_status(
            store::Writer::Unleased,
            id,
            grid_core::BasketStatus::Closing,
            None,
        )
        .unwrap();
    let settled = w.ex.with_engine(|e| check_settled(e, &w.ledger));
    assert_eq!(names(&settled), ["command_unanswered", "close_unfinished"]);
    // Not a step invariant: a close takes cycles.
    assert_eq!(step(&w, &[]), Vec::<&str>::new());
}
