//! Fills a database with a demo book for the dashboard, and optionally with
//! bulk history for load tests.
//!
//! ```sh
//! # demo (3 live baskets, a closed one, 7 days of snapshots and P&L, events):
//! DATABASE_URL=postgres://postgres@127.0.0.1/web_demo cargo run -p web --example seed -- --reset
//! # the load-test book: + 100,000 orders and 1,000,000 fills over 1,000 baskets
//! DATABASE_URL=postgres://postgres@127.0.0.1/web_perf cargo run --release -p web --example seed -- --reset --orders 100000 --fills 1000000
//! ```

use std::str::FromStr;

use chrono::{TimeDelta, Utc};
use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use grid_core::{BasketStatus, Fill, GridConfig, OrderType, Side, SymbolRules, TimeInForce};
use rust_decimal::Decimal;
use serde_json::json;
use store::baskets::PlanUpdate;
use store::fills::NewFill;
use store::orders::{ExchangeState, NewOrderRow};
use store::{EventLevel, OrderRowStatus, Writer};

type Res<T> = Result<T, Box<dyn std::error::Error>>;

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap_or_default()
}

fn rules() -> Res<SymbolRules> {
    Ok(serde_json::from_value(json!({
        "base_asset": "SOL", "quote_asset": "USDC",
        "tick_size": "0.001", "step_size": "0.01", "min_qty": "0.01", "max_qty": "9000",
        "min_price": "0.001", "max_price": "1000000", "min_notional": "5",
        "trailing_delta_min": 10, "trailing_delta_max": 2000, "max_num_orders": 200
    }))?)
}

struct Seq(u64);

#[allow(clippy::too_many_arguments)]
fn order(
    c: &mut PgConnection,
    seq: &mut Seq,
    basket: i64,
    role: &str,
    price: &str,
    qty: &str,
    status: OrderRowStatus,
    executed: &str,
) -> Res<String> {
    seq.0 += 1;
    let side = if role.starts_with('B') {
        Side::Buy
    } else {
        Side::Sell
    };
    let cid = format!("BOT_SOLUSDC_{basket}_{role}_{}", seq.0);
    store::orders::insert_pending(
        c,
        Writer::Unleased,
        &NewOrderRow {
            basket_id: basket,
            client_order_id: cid.clone(),
            side,
            order_type: OrderType::Limit,
            price: d(price),
            quantity: d(qty),
            stop_price: None,
            trailing_delta: None,
            time_in_force: Some(TimeInForce::Gtc),
        },
    )?;
    if status != OrderRowStatus::PendingNew {
        store::orders::update_from_exchange(
            c,
            Writer::Unleased,
            &cid,
            &ExchangeState {
                exchange_order_id: 5_000_000_000 + basket * 10_000 + i64::try_from(seq.0)?,
                status,
                executed_qty: d(executed),
                cummulative_quote_qty: d(executed) * d(price),
            },
        )?;
    }
    Ok(cid)
}

fn fill(cid: &str, trade_id: i64, side: Side, price: &str, qty: &str, hours_ago: i64) -> NewFill {
    let price = d(price);
    let qty = d(qty);
    let fee = (price * qty * d("0.001")).round_dp(8);
    NewFill {
        fill: Fill {
            trade_id,
            exchange_order_id: 7_000_000_000 + trade_id,
            client_order_id: cid.to_string(),
            side,
            price,
            qty,
            commission: fee,
            commission_asset: "USDC".into(),
            commission_quote: fee,
        },
        quote_qty: None,
        is_maker: true,
        executed_at: Utc::now() - TimeDelta::hours(hours_ago),
    }
}

fn demo(c: &mut PgConnection) -> Res<()> {
    let rules = rules()?;
    let cfg = GridConfig {
        stop_loss_pct: Some(d("0.35")),
        ..GridConfig::default()
    };
    let mut seq = Seq(0);
    let mut trade = 1_000_000i64;
    let mut t = || {
        trade += 1;
        trade
    };
    // A: active, two levels bought, TP1 sold once.
    let a = store::baskets::create(c, &cfg, &rules, d("150"))?;
    let b1 = order(
        c,
        &mut seq,
        a.id,
        "B1",
        "142.5",
        "0.56",
        OrderRowStatus::Filled,
        "0.56",
    )?;
    let b2 = order(
        c,
        &mut seq,
        a.id,
        "B2",
        "135",
        "0.88",
        OrderRowStatus::Filled,
        "0.88",
    )?;
    let tp = order(
        c,
        &mut seq,
        a.id,
        "TP1",
        "140.2",
        "0.4",
        OrderRowStatus::Filled,
        "0.4",
    )?;
    store::fills::record_fills(
        c,
        Writer::Unleased,
        a.id,
        "SOL",
        &[
            fill(&b1, t(), Side::Buy, "142.5", "0.56", 100),
            fill(&b2, t(), Side::Buy, "135", "0.88", 60),
            fill(&tp, t(), Side::Sell, "140.2", "0.4", 20),
        ],
    )?;
    order(
        c,
        &mut seq,
        a.id,
        "B3",
        "127.5",
        "1.17",
        OrderRowStatus::New,
        "0",
    )?;
    order(
        c,
        &mut seq,
        a.id,
        "B4",
        "120",
        "1.5",
        OrderRowStatus::New,
        "0",
    )?;
    order(
        c,
        &mut seq,
        a.id,
        "TP1",
        "139.853",
        "0.41",
        OrderRowStatus::New,
        "0",
    )?;
    order(
        c,
        &mut seq,
        a.id,
        "TP2",
        "140.96",
        "0.36",
        OrderRowStatus::PendingNew,
        "0",
    )?;
    store::baskets::update_after_plan(
        c,
        Writer::Unleased,
        a.id,
        &PlanUpdate {
            status: BasketStatus::Active,
            closed_reason: None,
            // A whole `PlanMeta`: the dashboard reads it typed.
            state: json!({"avg_price": "137.9166", "tp1_price": "139.853", "tp2_price": "140.96",
                "position": "1.5", "net_bought": "1.5", "filled_levels": 2, "planned_levels_n": 5,
                "inactive_levels": [], "remaining_quote_budget": "600", "tp_n": null, "dust": "0",
                "order_seq_after": seq.0, "status_after": "active", "closed_reason": null,
                "stop_loss_price": "97.5", "halted": false, "halt_reason": null,
                "reanchor": {"suggested": false, "reasons": [], "actionable": false, "new_anchor": null}}),
            order_seq: i64::try_from(seq.0)?,
        },
    )?;
    // P: paused, one level bought, a reanchor suggestion.
    let p = store::baskets::create(c, &cfg, &rules, d("146"))?;
    let pb = order(
        c,
        &mut seq,
        p.id,
        "B1",
        "138.7",
        "0.57",
        OrderRowStatus::Filled,
        "0.57",
    )?;
    let ps = order(
        c,
        &mut seq,
        p.id,
        "TP1",
        "140.36",
        "0.4",
        OrderRowStatus::Filled,
        "0.4",
    )?;
    store::fills::record_fills(
        c,
        Writer::Unleased,
        p.id,
        "SOL",
        &[
            fill(&pb, t(), Side::Buy, "138.7", "0.57", 90),
            fill(&ps, t(), Side::Sell, "140.36", "0.4", 10),
        ],
    )?;
    order(
        c,
        &mut seq,
        p.id,
        "TP2",
        "141.45",
        "0.17",
        OrderRowStatus::New,
        "0",
    )?;
    store::baskets::update_after_plan(
        c,
        Writer::Unleased,
        p.id,
        &PlanUpdate {
            status: BasketStatus::Paused,
            closed_reason: None,
            state: json!({"avg_price": "138.7", "tp1_price": null, "tp2_price": "141.45",
                "position": "1", "net_bought": "1", "filled_levels": 1, "planned_levels_n": 5,
                "inactive_levels": [], "remaining_quote_budget": "700", "tp_n": null, "dust": "0",
                "order_seq_after": seq.0, "status_after": "paused", "closed_reason": null,
                "stop_loss_price": "94.9", "halted": true, "halt_reason": "paused",
                "reanchor": {"suggested": true, "reasons": ["closed_ratio"], "actionable": false, "new_anchor": "139.9"}}),
            order_seq: i64::try_from(seq.0)?,
        },
    )?;
    // X: emergency closed at a loss.
    let x = store::baskets::create(c, &cfg, &rules, d("160"))?;
    let xb = order(
        c,
        &mut seq,
        x.id,
        "B1",
        "152",
        "0.52",
        OrderRowStatus::Filled,
        "0.52",
    )?;
    let xe = order(
        c,
        &mut seq,
        x.id,
        "EXIT",
        "147.1",
        "0.52",
        OrderRowStatus::Filled,
        "0.52",
    )?;
    order(
        c,
        &mut seq,
        x.id,
        "B2",
        "144",
        "0.83",
        OrderRowStatus::Canceled,
        "0",
    )?;
    store::fills::record_fills(
        c,
        Writer::Unleased,
        x.id,
        "SOL",
        &[
            fill(&xb, t(), Side::Buy, "152", "0.52", 150),
            fill(&xe, t(), Side::Sell, "147.1", "0.52", 140),
        ],
    )?;
    store::baskets::set_status(
        c,
        Writer::Unleased,
        x.id,
        BasketStatus::EmergencyClosed,
        Some("emergency_close"),
    )?;
    store::misc::upsert_prices(c, &[("SOLUSDC".into(), d("139.9"))])?;
    store::misc::heartbeat(
        c,
        &store::misc::Heartbeat {
            instance_id: "worker-paper-1".into(),
            mode: std::env::var("SEED_MODE").unwrap_or_else(|_| "paper".into()),
            base_url: "http://127.0.0.1:18080".into(),
            pid: 4242,
            started_at: Utc::now() - TimeDelta::hours(3),
            last_cycle_at: Some(Utc::now()),
            last_cycle_ms: Some(18),
            last_error: None,
            last_error_at: None,
            weight_used: Some(6),
        },
    )?;
    for (lvl, kind, msg) in [
        (EventLevel::Info, "cycle", "Placed B4 BUY 1.5 @ 120"),
        (
            EventLevel::Warn,
            "order_unknown",
            "Create of TP2 timed out; looking it up by clientOrderId",
        ),
        (
            EventLevel::Error,
            "exchange",
            "Binance -1003: too many requests; waiting 12 s",
        ),
        (
            EventLevel::Info,
            "status",
            "Status set to paused by command 3",
        ),
    ] {
        store::events::insert(
            c,
            &store::events::NewEvent {
                basket_id: Some(a.id),
                level: lvl,
                kind: kind.into(),
                message: msg.into(),
                data: None,
            },
        )?;
    }
    // 7 days of snapshots every 30 min: a gentle random walk.
    c.batch_execute(
        "INSERT INTO account_snapshots (timestamp, quote_asset, quote_balance, base_balance, total_value, balances) \
         SELECT now() - make_interval(mins => g * 30), 'USDC', 800, 1.5, \
                round((1000 + 12 * sin(g / 9.0) + g * -0.02 + (g % 7) * 0.3)::numeric, 8), '{}'::jsonb \
         FROM generate_series(0, 335) g",
    )?;
    // Hourly realized buckets behind the cumulative chart.
    diesel::sql_query(
        "INSERT INTO pnl_hourly (basket_id, bucket_start, realized, fees, sells) \
         SELECT $1, date_trunc('hour', now()) - make_interval(hours => g), \
                round(((g % 5) * 0.11 - 0.12)::numeric, 8), 0.05, 1 \
         FROM generate_series(1, 160, 3) g ON CONFLICT DO NOTHING",
    )
    .bind::<BigInt, _>(a.id)
    .execute(c)?;
    println!(
        "demo: baskets {} (active), {} (paused), {} (closed)",
        a.id, p.id, x.id
    );
    Ok(())
}

fn bulk(c: &mut PgConnection, n_orders: i64, n_fills: i64) -> Res<()> {
    let rules = rules()?;
    let cfg = GridConfig::default();
    let tpl = store::baskets::create(c, &cfg, &rules, d("150"))?;
    store::baskets::set_status(
        c,
        Writer::Unleased,
        tpl.id,
        BasketStatus::Closed,
        Some("completed"),
    )?;
    // 999 more closed baskets with small realized P&L.
    diesel::sql_query(
        "INSERT INTO baskets (symbol, base_asset, quote_asset, anchor_price, status, closed_reason, closed_at, config, rules, budget_quote, \
            realized, fees, sells, wins, losses, sum_wins, sum_losses) \
         SELECT symbol, base_asset, quote_asset, anchor_price, 'closed', 'completed', now() - make_interval(hours => g), config, rules, budget_quote, \
            round(((g % 11) - 3)::numeric / 10, 8), 0.5, 3, 2, 1, 1.2, -0.4 \
         FROM baskets, generate_series(1, 999) g WHERE id = $1",
    )
    .bind::<BigInt, _>(tpl.id)
    .execute(c)?;
    let t0 = std::time::Instant::now();
    diesel::sql_query(
        "INSERT INTO orders (basket_id, symbol, exchange_order_id, client_order_id, role, side, type, price, quantity, \
            time_in_force, status, executed_qty, cummulative_quote_qty, created_at, updated_at) \
         SELECT b.id, 'SOLUSDC', 8000000000 + g, 'BOT_SOLUSDC_' || b.id || '_' || (CASE WHEN g % 3 = 0 THEN 'TP1' ELSE 'B1' END) || '_' || (100000 + g), \
            CASE WHEN g % 3 = 0 THEN 'TP1' ELSE 'B1' END, CASE WHEN g % 3 = 0 THEN 'SELL' ELSE 'BUY' END, 'LIMIT', \
            140 + (g % 100) * 0.01, 1, 'GTC', CASE WHEN g % 4 = 0 THEN 'CANCELED' ELSE 'FILLED' END, \
            CASE WHEN g % 4 = 0 THEN 0 ELSE 1 END, CASE WHEN g % 4 = 0 THEN 0 ELSE 140 END, \
            now() - make_interval(secs => ($2 - g) * 30), now() - make_interval(secs => ($2 - g) * 30) \
         FROM (SELECT array_agg(id ORDER BY id) AS ids FROM baskets WHERE status = 'closed' AND id >= $1) a, \
              generate_series(1, $2) g, LATERAL (SELECT a.ids[1 + g % array_length(a.ids, 1)] AS id) b",
    )
    .bind::<BigInt, _>(tpl.id)
    .bind::<BigInt, _>(n_orders)
    .execute(c)?;
    println!("bulk: {n_orders} orders in {:?}", t0.elapsed());
    let t0 = std::time::Instant::now();
    diesel::sql_query(
        "INSERT INTO fills (order_id, basket_id, symbol, exchange_trade_id, exchange_order_id, client_order_id, role, side, \
            price, quantity, quote_qty, commission, commission_asset, commission_quote, is_maker, realized_pnl, executed_at) \
         SELECT o.id, o.basket_id, o.symbol, 9000000000 + g, o.exchange_order_id, o.client_order_id, o.role, o.side, \
            o.price, 0.1, o.price * 0.1, 0.014, 'USDC', 0.014, true, \
            CASE WHEN o.side = 'SELL' THEN round((((g % 13) - 4) * 0.05)::numeric, 8) END, \
            o.created_at + make_interval(secs => g % 29) \
         FROM generate_series(1, $1) g JOIN orders o ON o.id = (SELECT min(id) FROM orders WHERE exchange_order_id > 8000000000) + (g % $2)",
    )
    .bind::<BigInt, _>(n_fills)
    .bind::<BigInt, _>(n_orders)
    .execute(c)?;
    println!("bulk: {n_fills} fills in {:?}", t0.elapsed());
    c.batch_execute("ANALYZE")?;
    Ok(())
}

fn main() -> Res<()> {
    let url = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1/web_demo".into());
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse::<i64>().ok())
    };
    store::ensure_database(&url)?;
    let mut c = store::connect(&url)?;
    store::run_migrations(&mut c)?;
    if args.iter().any(|a| a == "--reset") {
        c.batch_execute(
            "TRUNCATE fills, orders, pnl_hourly, commands, events, baskets, account_snapshots, bot_status, market_prices RESTART IDENTITY CASCADE",
        )?;
    }
    demo(&mut c)?;
    if let (Some(o), Some(f)) = (arg("--orders"), arg("--fills")) {
        bulk(&mut c, o, f)?;
    }
    let n: Vec<(String, i64)> = diesel::sql_query(
        "SELECT 'orders' AS t, count(*) AS n FROM orders UNION ALL SELECT 'fills', count(*) FROM fills",
    )
    .load::<Counted>(&mut c)?
    .into_iter()
    .map(|r| (r.t, r.n))
    .collect();
    println!("{n:?}");
    Ok(())
}

#[derive(QueryableByName)]
struct Counted {
    #[diesel(sql_type = Text)]
    t: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
}
