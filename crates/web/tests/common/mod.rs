//! Shared by the web's integration tests: a scripted set of baskets, orders
//! and fills written through the store's repositories, and an actix test
//! service with a login helper.
#![allow(dead_code)]

use std::str::FromStr;

use actix_web::body::MessageBody;
use actix_web::dev::ServiceResponse;
use actix_web::test::{self, TestRequest};
use chrono::{TimeZone, Utc};
use diesel::pg::PgConnection;
use grid_core::{BasketStatus, Fill, GridConfig, OrderType, Side, SymbolRules, TimeInForce};
use rust_decimal::Decimal;
use serde_json::json;
use store::baskets::{self, BasketRow, PlanUpdate};
use store::fills::NewFill;
use store::orders::{ExchangeState, NewOrderRow};
use store::test_db::TestDb;
use store::{EventLevel, OrderRowStatus, Writer};

pub const PASSWORD: &str = "correct horse battery staple";
pub const SECRET: &str = "test-app-secret-0123456789abcdef";

pub fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap_or_else(|e| panic!("bad decimal {s}: {e}"))
}

pub fn sol_rules() -> SymbolRules {
    serde_json::from_value(json!({
        "base_asset": "SOL", "quote_asset": "USDC",
        "tick_size": "0.001", "step_size": "0.01", "min_qty": "0.01", "max_qty": "9000",
        "min_price": "0.001", "max_price": "1000000", "min_notional": "5",
        "trailing_delta_min": 10, "trailing_delta_max": 2000, "max_num_orders": 200
    }))
    .expect("rules")
}

pub fn config(stop_loss: Option<&str>) -> GridConfig {
    GridConfig {
        stop_loss_pct: stop_loss.map(d),
        ..GridConfig::default()
    }
}

pub fn new_basket(conn: &mut PgConnection, anchor: &str, stop_loss: Option<&str>) -> BasketRow {
    baskets::create(conn, &config(stop_loss), &sol_rules(), d(anchor)).expect("basket")
}

/// An order written ahead and confirmed by the "exchange" with `status` and `executed`.
#[allow(clippy::too_many_arguments)]
pub fn order(
    conn: &mut PgConnection,
    basket: i64,
    role: &str,
    seq: u64,
    price: &str,
    qty: &str,
    status: OrderRowStatus,
    executed: &str,
) -> String {
    let side = if role.starts_with('B') {
        Side::Buy
    } else {
        Side::Sell
    };
    let cid = format!("BOT_SOLUSDC_{basket}_{role}_{seq}");
    store::orders::insert_pending(
        conn,
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
    )
    .expect("insert order");
    if status != OrderRowStatus::PendingNew {
        store::orders::update_from_exchange(
            conn,
            Writer::Unleased,
            &cid,
            &ExchangeState {
                exchange_order_id: basket * 1_000_000 + i64::try_from(seq).unwrap_or(0),
                status,
                executed_qty: d(executed),
                cummulative_quote_qty: d(executed) * d(price),
            },
        )
        .expect("confirm order");
    }
    cid
}

pub fn fill(cid: &str, trade_id: i64, side: Side, price: &str, qty: &str) -> NewFill {
    NewFill {
        fill: Fill {
            trade_id,
            exchange_order_id: 9_000_000 + trade_id,
            client_order_id: cid.to_string(),
            side,
            price: d(price),
            qty: d(qty),
            commission: Decimal::ZERO,
            commission_asset: "USDC".into(),
            commission_quote: Decimal::ZERO,
        },
        quote_qty: None,
        is_maker: true,
        executed_at: Utc
            .timestamp_opt(1_790_000_000 + trade_id * 60, 0)
            .single()
            .expect("time"),
    }
}

/// The scripted book:
/// - basket A (live, SOLUSDC @150, stop loss 20 %): BUY B1 2 @ 142.5, BUY B2 2 @ 135,
///   SELL TP1 1 @ 140 → realized +1.25, position 3, cost 416.25; last price 140 →
///   unrealized +3.75; open: B3 NEW, TP1 NEW, TP2 PENDING_NEW.
/// - basket B (emergency_closed): BUY B1 1 @ 150, SELL EXIT 1 @ 145 → realized −5.00.
///
/// Portfolio: realized −3.75, unrealized +3.75, total 0.00, ROI 0.00 % of
/// 1000 live budget, 2 trades, 1 win, 1 loss, win rate 50.00 %, avg win
/// +1.25, avg loss −5.00.
pub struct Book {
    pub a: i64,
    pub b: i64,
}

pub fn scripted_book(db: &TestDb) -> Book {
    let mut c = db.conn();
    let a = new_basket(&mut c, "150", Some("0.20"));
    let b1 = order(
        &mut c,
        a.id,
        "B1",
        1,
        "142.5",
        "2",
        OrderRowStatus::Filled,
        "2",
    );
    let b2 = order(
        &mut c,
        a.id,
        "B2",
        2,
        "135",
        "2",
        OrderRowStatus::Filled,
        "2",
    );
    let tp = order(
        &mut c,
        a.id,
        "TP1",
        3,
        "140",
        "1",
        OrderRowStatus::Filled,
        "1",
    );
    store::fills::record_fills(
        &mut c,
        Writer::Unleased,
        a.id,
        "SOL",
        &[
            fill(&b1, 1, Side::Buy, "142.5", "2"),
            fill(&b2, 2, Side::Buy, "135", "2"),
            fill(&tp, 3, Side::Sell, "140", "1"),
        ],
    )
    .expect("fills A");
    order(
        &mut c,
        a.id,
        "B3",
        4,
        "127.5",
        "1.76",
        OrderRowStatus::New,
        "0",
    );
    order(
        &mut c,
        a.id,
        "TP1",
        5,
        "140.415",
        "1.2",
        OrderRowStatus::New,
        "0",
    );
    order(
        &mut c,
        a.id,
        "TP2",
        6,
        "141.525",
        "1.05",
        OrderRowStatus::PendingNew,
        "0",
    );
    baskets::update_after_plan(
        &mut c,
        Writer::Unleased,
        a.id,
        &PlanUpdate {
            status: BasketStatus::Active,
            closed_reason: None,
            // A whole `PlanMeta`: the dashboard reads it typed.
            state: json!({
                "avg_price": "138.75", "position": "3", "net_bought": "3",
                "filled_levels": 2, "planned_levels_n": 5, "inactive_levels": [],
                "remaining_quote_budget": "583.75", "tp_n": "2", "dust": "0",
                "order_seq_after": 6, "closed_reason": null,
                "tp1_price": "140.415", "tp2_price": "141.525", "stop_loss_price": "120",
                "reanchor": {"suggested": true, "reasons": ["closed_ratio"], "actionable": false, "new_anchor": "140"},
                "halted": false, "halt_reason": null, "status_after": "active"
            }),
            order_seq: 6,
        },
    )
    .expect("plan A");

    let b = new_basket(&mut c, "150", None);
    let bb = order(
        &mut c,
        b.id,
        "B1",
        1,
        "150",
        "1",
        OrderRowStatus::Filled,
        "1",
    );
    let be = order(
        &mut c,
        b.id,
        "EXIT",
        2,
        "145",
        "1",
        OrderRowStatus::Filled,
        "1",
    );
    store::fills::record_fills(
        &mut c,
        Writer::Unleased,
        b.id,
        "SOL",
        &[
            fill(&bb, 11, Side::Buy, "150", "1"),
            fill(&be, 12, Side::Sell, "145", "1"),
        ],
    )
    .expect("fills B");
    baskets::set_status(
        &mut c,
        Writer::Unleased,
        b.id,
        BasketStatus::EmergencyClosed,
        Some("emergency_close"),
    )
    .expect("close B");

    store::misc::upsert_prices(&mut c, &[("SOLUSDC".into(), d("140"))]).expect("price");
    store::events::insert(
        &mut c,
        &store::events::NewEvent {
            basket_id: Some(a.id),
            level: EventLevel::Info,
            kind: "cycle".into(),
            message: "Placed B3 at 127.5".into(),
            data: None,
        },
    )
    .expect("event");
    store::events::insert(
        &mut c,
        &store::events::NewEvent {
            basket_id: None,
            level: EventLevel::Error,
            kind: "exchange".into(),
            message: "Timeout talking to the exchange".into(),
            data: None,
        },
    )
    .expect("event");
    Book { a: a.id, b: b.id }
}

pub fn heartbeat(db: &TestDb, mode: &str, last_error: Option<&str>) {
    let mut c = db.conn();
    store::misc::heartbeat(
        &mut c,
        &store::misc::Heartbeat {
            instance_id: "worker-1".into(),
            mode: mode.into(),
            base_url: "http://127.0.0.1:1".into(),
            pid: 42,
            started_at: Utc::now(),
            last_cycle_at: Some(Utc::now()),
            last_cycle_ms: Some(12),
            last_error: last_error.map(str::to_string),
            last_error_at: last_error.map(|_| Utc::now()),
            weight_used: Some(3),
        },
    )
    .expect("heartbeat");
}

pub fn state(db: &TestDb, password: Option<&str>) -> actix_web::web::Data<web::AppState> {
    state_with(db, password, &[])
}

/// As [`state`], with more variables (`extra` wins over the defaults).
pub fn state_with(
    db: &TestDb,
    password: Option<&str>,
    extra: &[(&str, &str)],
) -> actix_web::web::Data<web::AppState> {
    state_clock(db, password, extra, std::sync::Arc::new(web::SystemClock))
}

/// As [`state_with`], on `clock` (a [`web::ManualClock`] moves by hand).
pub fn state_clock(
    db: &TestDb,
    password: Option<&str>,
    extra: &[(&str, &str)],
    clock: std::sync::Arc<dyn web::Clock>,
) -> actix_web::web::Data<web::AppState> {
    let mut vars: Vec<(&str, String)> = extra.iter().map(|(k, v)| (*k, v.to_string())).collect();
    vars.push(("DATABASE_URL", db.url().to_string()));
    vars.push(("APP_SECRET", SECRET.to_string()));
    if let Some(p) = password {
        vars.push(("DASHBOARD_PASSWORD", p.to_string()));
    }
    let cfg =
        web::Config::from_vars(|k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone()))
            .expect("config");
    actix_web::web::Data::new(web::AppState::with_clock(
        db.pool().clone(),
        web::build_tera().expect("templates"),
        cfg,
        clock,
    ))
}

#[macro_export]
macro_rules! svc {
    ($state:expr) => {
        actix_web::test::init_service(
            actix_web::App::new()
                .app_data($state)
                .wrap(actix_web::middleware::from_fn(web::guard))
                .configure(web::routes),
        )
        .await
    };
}

/// The `Host` a browser sends to the default bind (`127.0.0.1:8080`).
pub const HOST: &str = "127.0.0.1:8080";

/// A GET as a browser on this machine sends it (with its `Host`).
pub fn get_req(uri: &str) -> TestRequest {
    TestRequest::get()
        .uri(uri)
        .insert_header((actix_web::http::header::HOST, HOST))
}

/// A POST as a browser on this machine sends it (with its `Host`).
pub fn post_req(uri: &str) -> TestRequest {
    TestRequest::post()
        .uri(uri)
        .insert_header((actix_web::http::header::HOST, HOST))
}

/// The value of the first `name="{field}" value="…"` in a page.
pub fn field(html: &str, name: &str) -> String {
    let needle = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&needle)
        .unwrap_or_else(|| panic!("no field {name} in page"))
        + needle.len();
    let end = html[start..].find('"').expect("end quote") + start;
    html[start..end].to_string()
}

pub fn cookie_of(res: &ServiceResponse<impl MessageBody>) -> Option<String> {
    res.headers()
        .get_all(actix_web::http::header::SET_COOKIE)
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("gt_session="))
        .map(str::to_string)
}

pub async fn body(res: ServiceResponse<impl MessageBody>) -> String {
    let b = test::read_body(res).await;
    String::from_utf8(b.to_vec()).expect("utf-8 body")
}
