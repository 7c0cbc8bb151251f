//! The account snapshot against exchange-sim and a fresh database: every
//! basket's assets valued in its own quote, the account in one currency, and
//! what cannot be converted reported as unvalued (never counted as 0).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test and measurement code: a failed unwrap is a failed run

mod common;

use std::collections::BTreeMap;

use bot_daemon::cli::basket;
use common::*;
use exchange_sim::config::SymbolConfig;
use exchange_sim::SimConfig;
use rust_decimal_macros::dec;
use store::misc::SnapshotRow;
use store::test_db::TestDb;

fn usdt_sim() -> exchange_sim::SimServer {
    let mut balances = BTreeMap::new();
    balances.insert("USDT".to_string(), dec!(5000));
    balances.insert("SOL".to_string(), dec!(2));
    balances.insert("BNB".to_string(), dec!(1));
    sim_with(SimConfig {
        workers: 2,
        symbols: vec![SymbolConfig::new(
            "SOLUSDT", "SOL", "USDT", "150.00", "0.01", "0.001",
        )],
        balances,
        ..SimConfig::default()
    })
}

fn last_snapshot(conn: &mut diesel::pg::PgConnection) -> SnapshotRow {
    store::misc::latest_snapshot(conn)
        .unwrap_or_else(|e| panic!("no snapshot: {e}"))
        .unwrap_or_else(|| panic!("no snapshot"))
}

/// A USDT-only account: the snapshot is in USDT and counts the SOL at the
/// SOLUSDT price (the old snapshot was hard-coded to USDC: 0).
#[test]
fn a_usdt_account_is_valued_in_usdt() {
    let sim = usdt_sim();
    let db = TestDb::new();
    let mut conn = db.connect();
    basket::create(&mut conn, &client(&sim), "SOLUSDT", Some(dec!(150)), None)
        .unwrap_or_else(|e| panic!("{e}"));
    let mut w = worker(&sim, "w1");
    w.cycle(&mut conn).unwrap_or_else(|e| panic!("{e}"));
    let row = last_snapshot(&mut conn);
    assert_eq!(row.quote_asset, "USDT");
    // 5000 USDT (free + locked in the buys) + 2 SOL * 150
    assert_eq!(row.total_value, dec!(5300));
    assert_eq!(row.quote_balance, dec!(5000));
    assert_eq!(row.base_balance, dec!(2));
    // BNB has no price here: reported, not counted as 0
    assert_eq!(row.unvalued[0]["asset"], "BNB", "{}", row.unvalued);
    assert_eq!(row.unvalued.as_array().map(Vec::len), Some(1));
    assert_eq!(row.asset_values["SOL"]["via"][0], "SOLUSDT");
    let usdt: Option<rust_decimal::Decimal> = row.quote_values["USDT"]["value"]
        .as_str()
        .and_then(|v| v.parse().ok());
    assert_eq!(usdt, Some(dec!(5300)));
}

/// `BOT_ACCOUNT_CURRENCY` other than the baskets' quote: the account is
/// valued in it through the basket symbols (inversely here), and the
/// equity series in that currency reads `total_value`.
#[test]
fn the_account_currency_is_configurable() {
    let sim = usdt_sim();
    let db = TestDb::new();
    let mut conn = db.connect();
    basket::create(&mut conn, &client(&sim), "SOLUSDT", Some(dec!(150)), None)
        .unwrap_or_else(|e| panic!("{e}"));
    let prices: std::collections::HashMap<String, rust_decimal::Decimal> =
        [("SOLUSDT".to_string(), dec!(150))].into_iter().collect();
    let row = bot_daemon::account::record_snapshot(&mut conn, &client(&sim), &prices, Some("SOL"))
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("no snapshot"));
    assert_eq!(row.quote_asset, "SOL");
    // 2 SOL + 5000 USDT / 150 = 35.333…, rounded once to 16 decimals
    assert_eq!(row.total_value, dec!(35.3333333333333333));
    assert_eq!(row.quote_balance, dec!(2));
    // the equity series (the dashboard's chart) of that currency reads it
    let series = store::misc::equity_series(
        &mut conn,
        "SOL",
        chrono::Utc::now() - chrono::TimeDelta::hours(1),
        3600,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        series.last().map(|p| p.value),
        Some(dec!(35.3333333333333333))
    );
}
