//! The text of each notification kind, made from the facts the trigger (or
//! the watchdog) stored in its `data`: one small pure function per kind.
//! Decimals are shown as stored, without trailing zeros; a fact that is
//! missing shows as `?` rather than failing the notification.

use std::str::FromStr;

use rust_decimal::Decimal;
use serde_json::Value;
use store::notifications::NotificationRow;

/// The text sent for `n`.
pub fn render(n: &NotificationRow) -> String {
    let d = &n.data;
    let who = basket_label(n);
    match n.kind.as_str() {
        "fill" => fill(&who, d),
        "take_profit" => sell_hit("Take-profit", &who, d),
        "trail_stop" => sell_hit("Trailing stop", &who, d),
        "basket_completed" => completed(&who, d),
        "basket_reanchored" => reanchored(&who, d),
        "basket_closed" => closed(&who, d),
        "basket_stopped" => stopped(&who, d),
        "basket_stopping" => format!(
            "{who} hit its stop loss: selling the position ({} {}) with an EXIT order.",
            dec(d, "position"),
            s(d, "base_asset")
        ),
        "basket_closing" => format!(
            "{who} is closing: its position ({} {}) is being sold (emergency close).",
            dec(d, "position"),
            s(d, "base_asset")
        ),
        "basket_error" => format!(
            "{who} is in error: {}. It places nothing new until resumed from the dashboard; its events say more.",
            opt(d, "reason").unwrap_or_else(|| "no reason recorded".into())
        ),
        "order_rejected_repeatedly" => rejected(&who, d),
        "close_all_progress" => close_all(d),
        "heartbeat_stale" => format!(
            "Worker {} ({}) has not reported for {} s (last heartbeat {}): is the daemon running?",
            s(d, "worker"),
            s(d, "mode"),
            s(d, "age_seconds"),
            s(d, "heartbeat_at")
        ),
        "heartbeat_back" => format!(
            "Worker {} ({}) reports again (heartbeat {}).",
            s(d, "worker"),
            s(d, "mode"),
            s(d, "heartbeat_at")
        ),
        "daily_summary" => daily(d),
        other => format!("{other} {who}: {d}"),
    }
}

/// `Basket 7 SOLUSDC` (or `The bot` when the notification is about none).
fn basket_label(n: &NotificationRow) -> String {
    match (n.basket_id, n.symbol.as_deref()) {
        (Some(id), Some(sym)) => format!("Basket {id} {sym}"),
        (Some(id), None) => format!("Basket {id}"),
        _ => "The bot".into(),
    }
}

/// A string or number field as text; `?` when absent.
fn s(d: &Value, key: &str) -> String {
    opt(d, key).unwrap_or_else(|| "?".into())
}

fn opt(d: &Value, key: &str) -> Option<String> {
    match d.get(key)? {
        Value::Null => None,
        Value::String(v) => Some(v.clone()),
        other => Some(other.to_string()),
    }
}

/// A decimal field without trailing zeros; `?` when absent.
fn dec(d: &Value, key: &str) -> String {
    match opt(d, key) {
        Some(v) => Decimal::from_str(&v).map_or(v, |x| x.normalize().to_string()),
        None => "?".into(),
    }
}

/// A P&L with its sign (`+1.5`, `-0.2`).
fn signed(d: &Value, key: &str) -> String {
    match opt(d, key).and_then(|v| Decimal::from_str(&v).ok()) {
        Some(x) if x > Decimal::ZERO => format!("+{}", x.normalize()),
        Some(x) => x.normalize().to_string(),
        None => "?".into(),
    }
}

fn fill(who: &str, d: &Value) -> String {
    let mut t = format!(
        "{} {} filled: {} {} at {} {} ({who}, trade {}).",
        s(d, "side"),
        s(d, "role"),
        dec(d, "quantity"),
        s(d, "base_asset"),
        dec(d, "price"),
        s(d, "quote_asset"),
        s(d, "trade_id")
    );
    if opt(d, "realized_pnl").is_some() {
        t.push_str(&format!(
            " Realized {} {}.",
            signed(d, "realized_pnl"),
            s(d, "quote_asset")
        ));
    }
    t
}

fn sell_hit(what: &str, who: &str, d: &Value) -> String {
    format!(
        "{what} {} filled: sold {} {} at {} {}, realized {} {} ({who}, trade {}).",
        s(d, "role"),
        dec(d, "quantity"),
        s(d, "base_asset"),
        dec(d, "price"),
        s(d, "quote_asset"),
        signed(d, "realized_pnl"),
        s(d, "quote_asset"),
        s(d, "trade_id")
    )
}

fn results(d: &Value) -> String {
    format!(
        "realized {} {} over {} sells ({} won, {} lost), fees {} {}",
        signed(d, "realized"),
        s(d, "quote_asset"),
        s(d, "sells"),
        s(d, "wins"),
        s(d, "losses"),
        dec(d, "fees"),
        s(d, "quote_asset")
    )
}

fn completed(who: &str, d: &Value) -> String {
    format!(
        "{who} completed its cycle: {}. A new basket takes over.",
        results(d)
    )
}

fn reanchored(who: &str, d: &Value) -> String {
    if d.get("from_anchor").is_some() {
        return format!(
            "{who} re-anchored from {} to {} {}.",
            dec(d, "from_anchor"),
            dec(d, "anchor"),
            s(d, "quote_asset")
        );
    }
    format!(
        "{who} re-anchored (the price left its grid): {}. A new basket opens at the new anchor.",
        results(d)
    )
}

fn closed(who: &str, d: &Value) -> String {
    match opt(d, "reason").as_deref() {
        Some("emergency_close") => {
            format!("{who} emergency-closed: position sold, {}.", results(d))
        }
        Some(r) => format!("{who} closed ({r}): {}.", results(d)),
        None => format!("{who} closed: {}.", results(d)),
    }
}

fn stopped(who: &str, d: &Value) -> String {
    format!("{who} stopped by its stop loss: {}.", results(d))
}

fn rejected(who: &str, d: &Value) -> String {
    let streak = match opt(d, "attempts") {
        Some(a) => format!("{a} attempts in a row, "),
        None => String::new(),
    };
    format!(
        "{who}: the exchange keeps rejecting {} ({streak}{} times in the log): {}",
        opt(d, "role").unwrap_or_else(|| "an order".into()),
        s(d, "repeat_count"),
        s(d, "message")
    )
}

fn basket_list(d: &Value, with_status: bool) -> (usize, String) {
    let items = d
        .get("baskets")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let parts: Vec<String> = items
        .iter()
        .map(|b| {
            let mut p = format!("#{} {}", s(b, "basket_id"), s(b, "symbol"));
            if with_status {
                p.push_str(&format!(" {}", s(b, "status")));
            }
            p
        })
        .collect();
    (items.len(), parts.join(", "))
}

fn close_all(d: &Value) -> String {
    let cmd = s(d, "command");
    match opt(d, "phase").as_deref() {
        Some("started") => match basket_list(d, false) {
            (0, _) => format!("Close all (command {cmd}): nothing to close."),
            (n, list) => format!("Close all (command {cmd}): closing {n} baskets: {list}."),
        },
        Some("finished") => match basket_list(d, true) {
            (0, _) => format!("Close all (command {cmd}) finished: nothing was open."),
            (n, list) => format!("Close all (command {cmd}) finished, {n} baskets: {list}."),
        },
        Some("failed") => format!("Close all (command {cmd}) failed: {}", s(d, "error")),
        _ => format!("Close all (command {cmd}): {d}"),
    }
}

fn daily(d: &Value) -> String {
    let pnl: Vec<String> = d
        .get("realized")
        .and_then(Value::as_array)
        .map(|v| {
            v.iter()
                .map(|q| {
                    format!(
                        "{} {} ({} sells, fees {})",
                        signed(q, "realized"),
                        s(q, "quote_asset"),
                        s(q, "sells"),
                        dec(q, "fees")
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let pnl = if pnl.is_empty() {
        "nothing realized".to_string()
    } else {
        format!("realized {}", pnl.join(", "))
    };
    let baskets: Vec<String> = d
        .get("baskets")
        .and_then(Value::as_object)
        .map(|m| m.iter().map(|(k, v)| format!("{k} {v}")).collect())
        .unwrap_or_default();
    let baskets = if baskets.is_empty() {
        "none".to_string()
    } else {
        baskets.join(", ")
    };
    format!(
        "Daily summary {} (UTC): {pnl}; {} fills; baskets: {baskets}.",
        s(d, "day"),
        s(d, "fills")
    )
}

#[cfg(test)]
#[path = "../tests/notify_text.rs"]
mod tests;
