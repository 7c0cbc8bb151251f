//! Formatting of figures for the pages: money keeps `Decimal` all the way to
//! the string; nothing here goes through a float.

use chrono::{DateTime, Utc};
use rust_decimal::{Decimal, RoundingStrategy};

/// A quote amount with 2 decimals and a sign: `+4.20`, `-0.45`, `0.00`.
pub fn money(d: Decimal) -> String {
    let r = d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    if r > Decimal::ZERO {
        format!("+{r:.2}")
    } else if r.is_zero() {
        "0.00".to_string()
    } else {
        format!("{r:.2}")
    }
}

/// An amount with 2 decimals, no sign (balances, budgets).
pub fn amount(d: Decimal) -> String {
    let r = d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    format!("{r:.2}")
}

/// A price or quantity exactly as stored, without trailing zeros.
pub fn num(d: Decimal) -> String {
    d.normalize().to_string()
}

/// A percentage with 2 decimals: `5.48%`.
pub fn pct(d: Decimal) -> String {
    let r = d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    format!("{r:.2}%")
}

/// Tailwind text colour of a P&L figure: green profit, red loss.
pub fn pnl_class(d: Decimal) -> &'static str {
    if d > Decimal::ZERO {
        "text-emerald-700"
    } else if d < Decimal::ZERO {
        "text-red-700"
    } else {
        "text-slate-600"
    }
}

/// `2026-11-24 14:23:05` (UTC).
pub fn time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

/// A short age: `4 s`, `3 min`, `2 h 5 min`, `3 d 4 h`.
pub fn age(secs: i64) -> String {
    let s = secs.max(0);
    if s < 60 {
        format!("{s} s")
    } else if s < 3600 {
        format!("{} min", s / 60)
    } else if s < 86_400 {
        format!("{} h {} min", s / 3600, (s % 3600) / 60)
    } else {
        format!("{} d {} h", s / 86_400, (s % 86_400) / 3600)
    }
}

/// Badge classes of a basket status.
pub fn basket_status_class(s: &str) -> &'static str {
    match s {
        "active" => "bg-emerald-100 text-emerald-800 ring-emerald-300",
        "paused" => "bg-amber-100 text-amber-800 ring-amber-300",
        "stopping" | "closing" => "bg-orange-100 text-orange-800 ring-orange-300",
        "error" => "bg-red-100 text-red-800 ring-red-300",
        "emergency_closed" | "stopped" => "bg-slate-200 text-slate-700 ring-slate-300",
        _ => "bg-slate-100 text-slate-600 ring-slate-300",
    }
}

/// Row classes of an order by status: yellow pending, grey canceled, …
pub fn order_row_class(status: &str) -> &'static str {
    match status {
        "PENDING_NEW" | "UNKNOWN" | "PENDING_CANCEL" => "bg-amber-50 text-amber-900",
        "CANCELED" | "EXPIRED" | "EXPIRED_IN_MATCH" => "bg-slate-50 text-slate-400",
        "REJECTED" => "bg-red-50 text-red-800",
        "FILLED" => "bg-emerald-50 text-emerald-900",
        _ => "",
    }
}

/// Badge classes of an order status.
pub fn order_status_class(status: &str) -> &'static str {
    match status {
        "PENDING_NEW" | "UNKNOWN" | "PENDING_CANCEL" => "bg-amber-100 text-amber-800",
        "CANCELED" | "EXPIRED" | "EXPIRED_IN_MATCH" => "bg-slate-200 text-slate-500",
        "REJECTED" => "bg-red-100 text-red-800",
        "FILLED" => "bg-emerald-100 text-emerald-800",
        "PARTIALLY_FILLED" => "bg-sky-100 text-sky-800",
        _ => "bg-sky-50 text-sky-800",
    }
}

/// Badge classes of a command status.
pub fn command_status_class(status: &str) -> &'static str {
    match status {
        "pending" => "bg-amber-100 text-amber-800",
        "running" => "bg-sky-100 text-sky-800",
        "done" => "bg-emerald-100 text-emerald-800",
        _ => "bg-red-100 text-red-800",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap_or_default()
    }

    #[test]
    fn figures() {
        assert_eq!(money(d("4.2")), "+4.20");
        assert_eq!(money(d("-0.445")), "-0.45");
        assert_eq!(money(d("0.001")), "0.00");
        assert_eq!(money(d("-0.001")), "0.00");
        assert_eq!(num(d("142.50000000")), "142.5");
        assert_eq!(pct(d("5.4849")), "5.48%");
        assert_eq!(amount(d("1000")), "1000.00");
        assert_eq!(age(3725), "1 h 2 min");
        assert_eq!(age(-5), "0 s");
    }
}
