//! The results of a backtest as scripts read them (`--json`: the names are
//! a contract, see issue 12) and as a person reads them (the terminal table).
//!
//! Decimals are strings, as everywhere in the project; a figure that does
//! not exist for the run (a Sharpe ratio of one day, a CAGR under a day, a
//! profit factor without a loss) is `null`.

use backtest::metrics::{profit_factor, win_rate_pct};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use store::baskets::BasketRow;

use super::{FillOut, Outcome};

/// A quote amount as shown: 8 decimals at most, no trailing zeros (the
/// exact values are in the fills).
fn money(d: Decimal) -> Decimal {
    d.round_dp(8).normalize()
}

fn pct_change(from: Decimal, to: Decimal) -> Option<Decimal> {
    (from > Decimal::ZERO).then(|| ((to - from) / from * Decimal::ONE_HUNDRED).round_dp(4))
}

/// Whether a basket ended after a full cycle (bought, then sold out).
fn completed(b: &BasketRow) -> bool {
    b.status.is_terminal()
        && matches!(b.closed_reason.as_deref(), Some("completed" | "reanchored"))
        && b.bought_qty > Decimal::ZERO
}

fn sum_fees(fills: &[FillOut], basket: Option<i64>) -> Decimal {
    fills
        .iter()
        .filter(|f| basket.is_none_or(|b| f.basket_id == b))
        .map(|f| f.commission_quote)
        .sum()
}

fn fees_by_asset(fills: &[FillOut]) -> Value {
    let mut by = std::collections::BTreeMap::<String, Decimal>::new();
    for f in fills {
        *by.entry(f.commission_asset.clone()).or_default() += f.commission;
    }
    json!(by)
}

/// The `summary` object of the whole run.
pub fn summary(o: &Outcome) -> Value {
    let f = &o.figures;
    let (wins, losses, sum_wins, sum_losses, sells) =
        o.baskets
            .iter()
            .fold((0, 0, Decimal::ZERO, Decimal::ZERO, 0), |a, b| {
                (
                    a.0 + b.wins,
                    a.1 + b.losses,
                    a.2 + b.sum_wins,
                    a.3 + b.sum_losses,
                    a.4 + b.sells,
                )
            });
    let position: Decimal = o.baskets.iter().map(|b| b.pos).sum();
    let cost: Decimal = o.baskets.iter().map(|b| b.cost).sum();
    json!({
        "total_return_pct": f.total_return_pct,
        "cagr_pct": f.cagr_pct,
        "max_drawdown_pct": f.max_drawdown_pct,
        "max_drawdown_duration_s": f.max_drawdown_duration_s,
        "sharpe": f.sharpe,
        "sortino": f.sortino,
        "calmar": f.calmar,
        "profit_factor": profit_factor(sum_wins, sum_losses),
        "win_rate_pct": win_rate_pct(wins, losses),
        "sells": sells,
        "completed_cycles": o.baskets.iter().filter(|b| completed(b)).count(),
        "fees_quote": money(sum_fees(&o.fills, None)),
        "fees_by_asset": fees_by_asset(&o.fills),
        "realized_pnl_quote": money(o.baskets.iter().map(|b| b.realized).sum::<Decimal>()),
        "exposure_pct": f.exposure_pct,
        "peak_capital_quote": o.peak_capital_quote,
        "start_equity_quote": f.start_equity,
        "final_equity_quote": money(f.final_equity),
        "final_position": position,
        "unrealized_pnl_quote": money(position * o.last_close - cost),
        "buy_and_hold_return_pct": pct_change(o.first_open, o.last_close),
        "candles": o.candles,
        "plan_calls": o.plan_calls,
        "cycles_run": o.cycles_run,
        "cycles_skipped": o.cycles_skipped,
    })
}

/// One basket's `summary`: what is its own (equity figures are the run's).
fn basket_summary(o: &Outcome, b: &BasketRow) -> Value {
    json!({
        "status": b.status.as_str(),
        "closed_reason": b.closed_reason,
        "anchor": b.anchor_price,
        "opened_ms": b.created_at.timestamp_millis(),
        "closed_ms": b.closed_at.map(|t| t.timestamp_millis()),
        "profit_factor": profit_factor(b.sum_wins, b.sum_losses),
        "win_rate_pct": win_rate_pct(b.wins, b.losses),
        "sells": b.sells,
        "completed_cycles": usize::from(completed(b)),
        "fees_quote": money(sum_fees(&o.fills, Some(b.id))),
        "realized_pnl_quote": b.realized,
        "bought_qty": b.bought_qty,
        "bought_quote": b.bought_quote,
        "sold_qty": b.sold_qty,
        "sold_quote": b.sold_quote,
        "final_position": b.pos,
        "unrealized_pnl_quote": money(b.pos * o.last_close - b.cost),
    })
}

fn fill(f: &FillOut) -> Value {
    json!({
        "time_ms": f.time_ms,
        "basket_id": f.basket_id,
        "role": f.role,
        "side": f.side.as_str(),
        "price": f.price,
        "qty": f.qty,
        "quote_qty": f.quote_qty,
        "commission": f.commission,
        "commission_asset": f.commission_asset,
        "commission_quote": money(f.commission_quote),
        "realized_pnl": f.realized_pnl.map(money),
        "client_order_id": f.client_order_id,
        "trade_id": f.trade_id,
    })
}

/// The whole `--json` document.
pub fn to_json(o: &Outcome) -> Value {
    let opts = &o.options;
    json!({
        "config": {
            "symbol": opts.symbol,
            "klines": opts.klines.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
            "config": opts.config,
            "anchor": opts.anchor,
            "rules": opts.rules.as_ref().map(|p| p.display().to_string()),
            "balances": opts.balances,
            "fees": {
                "maker": opts.fees.maker,
                "taker": opts.fees.taker,
                "bnb_discount": opts.fees.bnb.map(|b| b.discount),
                "bnb_price": opts.fees.bnb.map(|b| b.price),
            },
            "cycle_seconds": opts.cycle_seconds,
            "from_ms": opts.from_ms,
            "to_ms": opts.to_ms,
            "candle_path": opts.path.as_str(),
            "every_cycle": opts.every_cycle,
        },
        "data": {
            "candles": o.candles,
            "interval_ms": o.interval_ms,
            "from_ms": o.span_ms.0,
            "to_ms": o.span_ms.1,
            "first_open": o.first_open,
            "last_close": o.last_close,
            "gaps": o.gaps.iter().map(|g| json!({
                "after_ms": g.after_ms, "before_ms": g.before_ms, "missing": g.missing,
            })).collect::<Vec<_>>(),
        },
        "summary": summary(o),
        "baskets": o.baskets.iter().map(|b| json!({
            "basket_id": b.id,
            "summary": basket_summary(o, b),
        })).collect::<Vec<_>>(),
        "fills": o.fills.iter().map(fill).collect::<Vec<_>>(),
        "orders": o.orders.iter().map(|r| json!({
            "time_ms": r.time_ms,
            "client_order_id": r.client_order_id,
            "side": r.side.as_str(),
            "type": r.order_type,
            "price": r.price,
            "stop_price": r.stop_price,
            "trailing_delta": r.trailing_delta,
            "qty": r.qty,
            "executed_qty": r.executed_qty,
            "status": r.status,
        })).collect::<Vec<_>>(),
        "equity": o.figures.equity.iter().map(|(t, e)| json!([t, e])).collect::<Vec<_>>(),
        "final_balances": o.final_balances,
    })
}

/// The summary as a two-column table for the terminal.
pub fn table(o: &Outcome) -> String {
    let s = summary(o);
    let show = |v: &Value| match v {
        Value::Null => "—".to_string(),
        Value::String(x) => x.clone(),
        other => other.to_string(),
    };
    let rows: [(&str, &str); 19] = [
        ("candles", "candles"),
        ("total return %", "total_return_pct"),
        ("buy and hold %", "buy_and_hold_return_pct"),
        ("CAGR %", "cagr_pct"),
        ("max drawdown %", "max_drawdown_pct"),
        ("max drawdown (s)", "max_drawdown_duration_s"),
        ("Sharpe", "sharpe"),
        ("Sortino", "sortino"),
        ("Calmar", "calmar"),
        ("profit factor", "profit_factor"),
        ("win rate %", "win_rate_pct"),
        ("sells", "sells"),
        ("completed cycles", "completed_cycles"),
        ("fees (quote)", "fees_quote"),
        ("exposure %", "exposure_pct"),
        ("peak capital", "peak_capital_quote"),
        ("start equity", "start_equity_quote"),
        ("final equity", "final_equity_quote"),
        ("final position", "final_position"),
    ];
    let mut out = format!(
        "backtest {} · {} candles · {} baskets · {} fills\n",
        o.options.symbol,
        o.candles,
        o.baskets.len(),
        o.fills.len()
    );
    for (label, key) in rows {
        out.push_str(&format!("  {label:<18} {:>20}\n", show(&s[key])));
    }
    if !o.gaps.is_empty() {
        out.push_str(&format!(
            "  {} gap(s) in the candles (see \"data\".\"gaps\" in the JSON)\n",
            o.gaps.len()
        ));
    }
    out
}
