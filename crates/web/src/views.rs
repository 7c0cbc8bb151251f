//! What each page shows: loads from the store (inside `web::block`) and turns
//! rows into view structs of formatted strings. Money stays `Decimal` until
//! it is formatted here.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, TimeDelta, Utc};
use diesel::pg::PgConnection;
use grid_core::ladder::{base_levels, extension_levels};
use grid_core::{BasketStatus, GridConfig, HardStopMode, PlanMeta, SymbolRules};
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::Value;
use store::baskets::BasketRow;
use store::commands::CommandRow;
use store::dashboard::{BasketSummary, Portfolio, Scope};
use store::events::EventRow;
use store::fills::FillRow;
use store::misc::BotStatusRow;
use store::orders::OrderRow;

use crate::fmt;
use crate::svg;

/// A heartbeat older than this means the daemon is not running.
pub const ALIVE_S: i64 = 30;
/// Closed baskets listed on the dashboard.
pub const CLOSED_ON_DASHBOARD: i64 = 5;
/// Window of the dashboard charts.
pub const CHART_DAYS: i64 = 7;

#[derive(Debug, Clone, Serialize)]
pub struct DaemonView {
    pub instance: String,
    pub mode: String,
    pub base_url: String,
    pub alive: bool,
    pub heartbeat_age: String,
    pub last_cycle_age: Option<String>,
    pub last_cycle_ms: Option<i64>,
    pub last_error: Option<String>,
    pub last_error_age: Option<String>,
    /// How it learns about fills (`polling`, `connecting`, `streaming`,
    /// `down`), from its heartbeat's metrics; `None` from an older worker.
    pub stream: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct StatusView {
    pub daemons: Vec<DaemonView>,
    pub any_alive: bool,
    pub production: bool,
    /// The mode of the freshest daemon (`paper`, `testnet`, `custom`, `production`).
    pub mode: Option<String>,
}

pub fn status_view(rows: &[BotStatusRow], now: DateTime<Utc>) -> StatusView {
    let daemons: Vec<DaemonView> = rows
        .iter()
        .map(|r| {
            let hb = (now - r.heartbeat_at).num_seconds();
            DaemonView {
                instance: r.instance_id.clone(),
                mode: r.mode.clone(),
                base_url: r.base_url.clone(),
                alive: hb < ALIVE_S,
                heartbeat_age: fmt::age(hb),
                last_cycle_age: r.last_cycle_at.map(|t| fmt::age((now - t).num_seconds())),
                last_cycle_ms: r.last_cycle_ms,
                last_error: r.last_error.clone(),
                last_error_age: r.last_error_at.map(|t| fmt::age((now - t).num_seconds())),
                stream: r
                    .metrics
                    .as_ref()
                    .and_then(|m| m.get("stream"))
                    .and_then(|s| s.as_str())
                    .map(str::to_string),
            }
        })
        .collect();
    StatusView {
        any_alive: daemons.iter().any(|d| d.alive),
        production: rows
            .iter()
            .any(|r| r.mode.eq_ignore_ascii_case("production")),
        mode: rows.first().map(|r| r.mode.to_lowercase()),
        daemons,
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ReanchorView {
    pub reasons: String,
    pub actionable: bool,
    pub new_anchor: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct BasketView {
    pub id: i64,
    pub symbol: String,
    pub base_asset: String,
    pub quote_asset: String,
    pub anchor: String,
    pub status: String,
    pub status_class: &'static str,
    pub live: bool,
    pub closed_reason: Option<String>,
    pub created: String,
    pub closed: Option<String>,
    pub budget: String,
    pub position: String,
    pub avg_price: Option<String>,
    pub avg_cost: Option<String>,
    pub last_price: Option<String>,
    pub price_age: Option<String>,
    pub unrealized: String,
    pub unrealized_class: &'static str,
    pub realized: String,
    pub realized_class: &'static str,
    pub total: String,
    pub total_class: &'static str,
    pub roi: Option<String>,
    pub trades: u64,
    pub win_rate: Option<String>,
    pub open_orders: i64,
    pub tp1: Option<String>,
    pub tp2: Option<String>,
    pub stop: Option<String>,
    pub stop_distance: Option<String>,
    pub stop_note: String,
    pub halt_reason: Option<String>,
    pub reanchor: Option<ReanchorView>,
    pub emergency_pct: String,
    pub exit_price: Option<String>,
    pub can_pause: bool,
    pub can_resume: bool,
    pub can_close: bool,
    pub ladder_svg: Option<String>,
}

/// The summary figures of one basket (the store's `basket_summaries` logic,
/// for a single row).
///
/// # Errors
/// [`store::Error::Corrupt`] for bad counters.
pub fn summary_of(
    basket: BasketRow,
    price: Option<(Decimal, DateTime<Utc>)>,
    open_orders: i64,
) -> Result<BasketSummary, store::Error> {
    let totals = basket.totals()?;
    let unrealized = price.map_or(Decimal::ZERO, |(p, _)| totals.unrealized(p));
    let pnl = totals.summary(unrealized, basket.budget_quote);
    Ok(BasketSummary {
        last_price: price.map(|(p, _)| p),
        price_at: price.map(|(_, t)| t),
        open_orders,
        avg_buy_price: (!totals.bought_qty.is_zero())
            .then(|| totals.bought_quote / totals.bought_qty),
        avg_cost: (totals.pos > Decimal::ZERO).then(|| totals.cost / totals.pos),
        unrealized,
        pnl,
        basket,
    })
}

fn ladder_of(
    b: &BasketRow,
    meta: Option<&PlanMeta>,
    config: Option<&GridConfig>,
    bought: &HashMap<String, Decimal>,
    stop: Option<Decimal>,
    last: Option<Decimal>,
) -> Option<svg::Ladder> {
    let config = config?;
    let rules: SymbolRules = b.rules().ok()?;
    let mut levels = base_levels(config, &rules, b.anchor_price);
    if config.hard_stop_mode == HardStopMode::ExtendZone {
        levels.extend(extension_levels(config, &rules, b.anchor_price));
    }
    Some(svg::Ladder {
        anchor: b.anchor_price,
        levels: levels
            .iter()
            .map(|l| svg::LadderLevel {
                index: l.index,
                price: l.price,
                qty: l.qty,
                filled: bought
                    .get(&format!("B{}", l.index))
                    .is_some_and(|q| *q > Decimal::ZERO),
                active: l.is_active(),
            })
            .collect(),
        // The plan's average is exact (28 digits); shown like the summary's.
        avg: meta.and_then(|m| m.avg_price).map(|p| p.round_dp(8)),
        tp1: meta.and_then(|m| m.tp1_price),
        tp2: meta.and_then(|m| m.tp2_price),
        stop,
        last,
    })
}

/// Builds a basket's view; `bought` (BUY executed qty per role) enables the ladder.
pub fn basket_view(
    s: &BasketSummary,
    bought: Option<&HashMap<String, Decimal>>,
    now: DateTime<Utc>,
    compact_ladder: bool,
) -> BasketView {
    let b = &s.basket;
    let config = b.config().ok();
    // The last plan's meta; none before the first plan (or if unreadable).
    let meta = b.plan_meta().ok().flatten();
    let live = !b.status.is_terminal();
    let stop = meta.as_ref().and_then(|m| m.stop_loss_price).or_else(|| {
        config
            .as_ref()
            .and_then(|c| c.stop_loss_pct)
            .map(|p| b.anchor_price * (Decimal::ONE - p))
    });
    let (stop_distance, stop_note) = match (stop, s.last_price) {
        (Some(st), Some(last)) if !last.is_zero() => (
            Some(fmt::pct((last - st) / last * Decimal::from(100))),
            format!(
                "{} below the last price",
                fmt::pct((last - st) / last * Decimal::from(100))
            ),
        ),
        (Some(_), None) => (None, "no price yet".to_string()),
        _ => (None, "no stop loss configured".to_string()),
    };
    let reanchor = meta.as_ref().map(|m| &m.reanchor).and_then(|r| {
        (r.suggested && live).then(|| ReanchorView {
            reasons: r.reasons.join(", "),
            actionable: r.actionable,
            new_anchor: r.new_anchor.map(fmt::num),
        })
    });
    let emergency = config
        .as_ref()
        .map_or(Decimal::new(3, 2), |c| c.emergency_safety_pct);
    let exit_price = s
        .last_price
        .map(|p| fmt::num((p * (Decimal::ONE - emergency)).round_dp(8)));
    let ladder_svg = bought
        .and_then(|bq| ladder_of(b, meta.as_ref(), config.as_ref(), bq, stop, s.last_price))
        .map(|l| svg::ladder(&l, compact_ladder));
    BasketView {
        id: b.id,
        symbol: b.symbol.clone(),
        base_asset: b.base_asset.clone(),
        quote_asset: b.quote_asset.clone(),
        anchor: fmt::num(b.anchor_price),
        status: b.status.as_str().to_string(),
        status_class: fmt::basket_status_class(b.status.as_str()),
        live,
        closed_reason: b.closed_reason.clone(),
        created: fmt::time(b.created_at),
        closed: b.closed_at.map(fmt::time),
        budget: fmt::amount(b.budget_quote),
        position: fmt::num(b.pos),
        avg_price: s.avg_buy_price.map(|p| fmt::num(p.round_dp(8))),
        avg_cost: s.avg_cost.map(|p| fmt::num(p.round_dp(8))),
        last_price: s.last_price.map(fmt::num),
        price_age: s.price_at.map(|t| fmt::age((now - t).num_seconds())),
        unrealized: fmt::money(s.unrealized),
        unrealized_class: fmt::pnl_class(s.unrealized),
        realized: fmt::money(s.pnl.realized),
        realized_class: fmt::pnl_class(s.pnl.realized),
        total: fmt::money(s.pnl.total),
        total_class: fmt::pnl_class(s.pnl.total),
        roi: s.pnl.roi_pct.map(fmt::pct),
        trades: s.pnl.trades,
        win_rate: s.pnl.win_rate_pct.map(fmt::pct),
        open_orders: s.open_orders,
        tp1: meta.as_ref().and_then(|m| m.tp1_price).map(fmt::num),
        tp2: meta.as_ref().and_then(|m| m.tp2_price).map(fmt::num),
        stop: stop.map(|p| fmt::num(p.round_dp(8))),
        stop_distance,
        stop_note,
        halt_reason: meta.as_ref().and_then(|m| m.halt_reason.clone()),
        reanchor,
        emergency_pct: fmt::pct(emergency * Decimal::from(100)),
        exit_price,
        can_pause: b.status == BasketStatus::Active,
        can_resume: b.status == BasketStatus::Paused,
        can_close: matches!(
            b.status,
            BasketStatus::Active | BasketStatus::Paused | BasketStatus::Stopping
        ),
        ladder_svg,
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct OrderView {
    pub id: i64,
    pub basket_id: i64,
    pub symbol: String,
    pub cid: String,
    pub role: String,
    pub side: String,
    pub side_class: &'static str,
    pub order_type: String,
    pub price: String,
    pub stop_price: Option<String>,
    pub qty: String,
    pub filled: String,
    pub status: String,
    pub status_class: &'static str,
    pub row_class: &'static str,
    pub created: String,
    pub current_price: Option<String>,
    pub unrealized: Option<String>,
    pub unrealized_class: &'static str,
    pub realized: Option<String>,
    pub realized_class: &'static str,
    pub fills: i64,
    pub error: Option<String>,
}

pub fn order_view(
    o: &OrderRow,
    basket: Option<&BasketSummary>,
    realized: Option<&(Option<Decimal>, i64)>,
) -> OrderView {
    let side = o.side.to_string();
    let status = o.status.as_str();
    let r = realized.and_then(|(p, _)| *p);
    OrderView {
        id: o.id,
        basket_id: o.basket_id,
        symbol: o.symbol.clone(),
        cid: o.client_order_id.clone(),
        role: o.role.to_string(),
        side_class: if side == "BUY" {
            "text-emerald-700"
        } else {
            "text-red-700"
        },
        side,
        order_type: o.order_type.to_string(),
        price: fmt::num(o.price),
        stop_price: o.stop_price.map(fmt::num),
        qty: fmt::num(o.quantity),
        filled: fmt::num(o.executed_qty),
        status: status.to_string(),
        status_class: fmt::order_status_class(status),
        row_class: fmt::order_row_class(status),
        created: fmt::time(o.created_at),
        current_price: basket.and_then(|b| b.last_price).map(fmt::num),
        unrealized: basket.map(|b| fmt::money(b.unrealized)),
        unrealized_class: basket.map_or("", |b| fmt::pnl_class(b.unrealized)),
        realized: r.map(fmt::money),
        realized_class: r.map_or("", fmt::pnl_class),
        fills: realized.map_or(0, |(_, n)| *n),
        error: o.error.clone(),
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct FillView {
    pub id: i64,
    pub basket_id: i64,
    pub time: String,
    pub cid: String,
    pub role: String,
    pub side: String,
    pub side_class: &'static str,
    pub price: String,
    pub qty: String,
    pub fee: String,
    pub realized: Option<String>,
    pub realized_class: &'static str,
}

pub fn fill_view(f: &FillRow) -> FillView {
    let side = f.side.to_string();
    FillView {
        id: f.id,
        basket_id: f.basket_id,
        time: fmt::time(f.executed_at),
        cid: f.client_order_id.clone(),
        role: f.role.to_string(),
        side_class: if side == "BUY" {
            "text-emerald-700"
        } else {
            "text-red-700"
        },
        side,
        price: fmt::num(f.price),
        qty: fmt::num(f.quantity),
        fee: format!("{} {}", fmt::num(f.commission), f.commission_asset),
        realized: f.realized_pnl.map(fmt::money),
        realized_class: f.realized_pnl.map_or("", fmt::pnl_class),
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct PnlView {
    pub quote: String,
    pub realized: String,
    pub realized_class: &'static str,
    pub unrealized: String,
    pub unrealized_class: &'static str,
    pub total: String,
    pub total_class: &'static str,
    pub roi: Option<String>,
    pub roi_class: &'static str,
    pub trades: u64,
    pub wins: u64,
    pub losses: u64,
    pub win_rate: Option<String>,
    pub avg_win: Option<String>,
    pub avg_loss: Option<String>,
    pub fees: String,
    pub live_budget: String,
    pub live_baskets: i64,
    pub unpriced: Vec<String>,
}

pub fn pnl_view(p: &Portfolio) -> PnlView {
    let s = &p.summary;
    PnlView {
        quote: p.quote_asset.clone(),
        realized: fmt::money(s.realized),
        realized_class: fmt::pnl_class(s.realized),
        unrealized: fmt::money(s.unrealized),
        unrealized_class: fmt::pnl_class(s.unrealized),
        total: fmt::money(s.total),
        total_class: fmt::pnl_class(s.total),
        roi: s.roi_pct.map(fmt::pct),
        roi_class: s.roi_pct.map_or("text-slate-600", fmt::pnl_class),
        trades: s.trades,
        wins: s.wins,
        losses: s.losses,
        win_rate: s.win_rate_pct.map(fmt::pct),
        avg_win: s.avg_win.map(fmt::money),
        avg_loss: s.avg_loss.map(fmt::money),
        fees: fmt::amount(s.fees),
        live_budget: fmt::amount(p.live_budget),
        live_baskets: p.live_baskets,
        unpriced: p.unpriced.clone(),
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct EventView {
    pub id: i64,
    pub level: String,
    pub level_class: &'static str,
    pub kind: String,
    pub message: String,
    pub basket_id: Option<i64>,
    /// When first seen.
    pub time: String,
    /// How long ago it was last seen.
    pub age: String,
    /// How many identical events the row stands for (1: seen once).
    pub repeat_count: i64,
    /// `HH:MM` (UTC) of the last occurrence, for a repeated event.
    pub last_seen: Option<String>,
    /// Full time of the last occurrence, for a repeated event.
    pub last_seen_time: Option<String>,
}

pub fn event_view(e: &EventRow, now: DateTime<Utc>) -> EventView {
    let level = e.level.as_str();
    EventView {
        id: e.id,
        level: level.to_string(),
        level_class: match level {
            "error" => "bg-red-100 text-red-800",
            "warn" => "bg-amber-100 text-amber-800",
            _ => "bg-slate-100 text-slate-600",
        },
        kind: e.kind.clone(),
        message: e.message.clone(),
        basket_id: e.basket_id,
        time: fmt::time(e.created_at),
        age: fmt::age((now - e.seen_at()).num_seconds()),
        repeat_count: e.repeat_count,
        last_seen: e.last_seen_at.map(|t| t.format("%H:%M").to_string()),
        last_seen_time: e.last_seen_at.map(fmt::time),
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct CommandView {
    pub id: i64,
    pub kind: String,
    pub basket_id: Option<i64>,
    pub status: String,
    pub status_class: &'static str,
    pub finished: bool,
    pub error: Option<String>,
    pub result: Option<String>,
    pub age: String,
    pub claimed_by: Option<String>,
    pub basket_status: Option<String>,
    pub basket_status_class: &'static str,
    /// When it was written (UTC).
    pub created: String,
    /// The basket a `create_basket` command created.
    pub created_basket: Option<i64>,
}

pub fn command_view(
    c: &CommandRow,
    now: DateTime<Utc>,
    basket_status: Option<&str>,
) -> CommandView {
    let status = c.status.as_str();
    let outcome = c.outcome();
    let created_basket = match &outcome {
        Ok(Some(store::commands::CommandResult::CreateBasket(r))) => Some(r.basket_id),
        _ => None,
    };
    CommandView {
        id: c.id,
        kind: c.kind.as_str().replace('_', " "),
        basket_id: c.basket_id,
        status: status.to_string(),
        status_class: fmt::command_status_class(status),
        finished: matches!(status, "done" | "failed"),
        error: c.error.clone(),
        // Typed; a result an older version wrote is shown as stored.
        result: match outcome {
            Ok(r) => r.map(|r| r.to_string()),
            Err(_) => c.result.as_ref().map(Value::to_string),
        },
        age: fmt::age((now - c.created_at).num_seconds()),
        claimed_by: c.claimed_by.clone(),
        basket_status: basket_status.map(str::to_string),
        basket_status_class: basket_status.map_or("", fmt::basket_status_class),
        created: fmt::time(c.created_at),
        created_basket,
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ChartView {
    pub quote: String,
    pub equity_svg: String,
    pub realized_svg: String,
}

/// Everything of the dashboard's live part.
#[derive(Debug, Clone, Serialize)]
pub struct Dashboard {
    pub status: StatusView,
    pub baskets: Vec<BasketView>,
    pub closed: Vec<BasketView>,
    pub open_orders: Vec<OrderView>,
    pub pnl: Vec<PnlView>,
    pub charts: Vec<ChartView>,
    pub events: Vec<EventView>,
    pub commands: Vec<CommandView>,
    pub live_count: usize,
    /// Each notification channel's waiting and given-up deliveries.
    pub notify: Vec<store::notifications::ChannelCounts>,
}

/// Loads the dashboard: O(baskets) reads and bounded index ranges only.
///
/// # Errors
/// [`store::Error`].
pub fn load_dashboard(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
) -> Result<Dashboard, store::Error> {
    let statuses = store::misc::statuses(conn)?;
    let summaries = store::dashboard::basket_summaries(conn, CLOSED_ON_DASHBOARD)?;
    let portfolio = store::dashboard::portfolio(conn)?;
    let open = store::orders::list_open(conn)?;
    let events = store::events::recent(conn, None, 15)?;
    let commands = store::commands::recent(conn, 8)?;
    let notify = store::notifications::channel_counts(conn)?;
    let since = now - TimeDelta::days(CHART_DAYS);
    let mut charts = Vec::new();
    for p in &portfolio {
        let equity = store::misc::equity_series(conn, &p.quote_asset, since, 3600)?;
        let realized =
            store::dashboard::realized_series(conn, &Scope::Quote(p.quote_asset.clone()), since)?;
        let eq: Vec<_> = equity.iter().map(|pt| (pt.at, pt.value)).collect();
        let mut re: Vec<_> = realized.iter().map(|pt| (pt.at, pt.value)).collect();
        if let Some(last) = re.last().copied() {
            if last.0 < now {
                re.push((now, last.1));
            }
        }
        charts.push(ChartView {
            quote: p.quote_asset.clone(),
            equity_svg: svg::line_chart(
                &eq,
                &format!("Account value ({})", p.quote_asset),
                &p.quote_asset,
                "No account snapshot in the last 7 days yet",
            ),
            realized_svg: svg::line_chart(
                &re,
                &format!("Cumulative realized P&L ({})", p.quote_asset),
                &p.quote_asset,
                "Nothing realized yet",
            ),
        });
    }
    let mut baskets = Vec::new();
    let mut closed = Vec::new();
    for s in &summaries {
        if s.basket.status.is_terminal() {
            closed.push(basket_view(s, None, now, true));
        } else {
            let bought = store::orders::bought_by_role(conn, s.basket.id)?;
            baskets.push(basket_view(s, Some(&bought), now, true));
        }
    }
    let by_id: HashMap<i64, &BasketSummary> = summaries.iter().map(|s| (s.basket.id, s)).collect();
    let status_of: HashMap<i64, &str> = summaries
        .iter()
        .map(|s| (s.basket.id, s.basket.status.as_str()))
        .collect();
    Ok(Dashboard {
        status: status_view(&statuses, now),
        live_count: baskets.len(),
        baskets,
        closed,
        open_orders: open
            .iter()
            .map(|o| order_view(o, by_id.get(&o.basket_id).copied(), None))
            .collect(),
        pnl: portfolio.iter().map(pnl_view).collect(),
        charts,
        events: events.iter().map(|e| event_view(e, now)).collect(),
        commands: commands
            .iter()
            .map(|c| {
                command_view(
                    c,
                    now,
                    c.basket_id.and_then(|id| status_of.get(&id).copied()),
                )
            })
            .collect(),
        notify,
    })
}

/// Baskets a close-all would close now (their ids), with the lines the modal lists.
pub fn live_baskets(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
) -> Result<Vec<BasketView>, store::Error> {
    let summaries = store::dashboard::basket_summaries(conn, 0)?;
    Ok(summaries
        .iter()
        .filter(|s| !s.basket.status.is_terminal())
        .map(|s| basket_view(s, None, now, true))
        .collect())
}

/// Set of basket ids for quick lookups.
pub fn ids(v: &[BasketView]) -> HashSet<i64> {
    v.iter().map(|b| b.id).collect()
}
