//! What the exchange reports, in the store's terms.

use binance_rest::ExchangeOrder;
use grid_core::ClientOrderId;
use store::orders::ExchangeState;
use store::OrderRowStatus;

/// The row status for an exchange status: `PENDING_NEW` on the exchange is
/// an order it has, so for the bot it is confirmed (`NEW`).
pub(crate) fn store_status(s: binance_rest::OrderStatus) -> OrderRowStatus {
    use binance_rest::OrderStatus as X;
    match s {
        X::New | X::PendingNew => OrderRowStatus::New,
        X::PartiallyFilled => OrderRowStatus::PartiallyFilled,
        X::Filled => OrderRowStatus::Filled,
        X::Canceled => OrderRowStatus::Canceled,
        X::PendingCancel => OrderRowStatus::PendingCancel,
        X::Rejected => OrderRowStatus::Rejected,
        X::Expired => OrderRowStatus::Expired,
        X::ExpiredInMatch => OrderRowStatus::ExpiredInMatch,
    }
}

/// The exchange's state of an order, for its row.
pub(crate) fn state_of(ex: &ExchangeOrder) -> ExchangeState {
    ExchangeState {
        exchange_order_id: ex.order_id,
        status: store_status(ex.status),
        executed_qty: ex.executed_qty,
        cummulative_quote_qty: ex.cummulative_quote_qty,
    }
}

/// The whole report of an order, for a row the bot may not have yet.
pub(crate) fn full_of(ex: &ExchangeOrder) -> store::orders::ExchangeReport {
    store::orders::ExchangeReport {
        client_order_id: ex.client_order_id.clone(),
        side: ex.side,
        order_type: ex.order_type,
        price: ex.price,
        orig_qty: ex.orig_qty,
        stop_price: ex.stop_price,
        trailing_delta: ex.trailing_delta,
        time_in_force: ex.time_in_force,
        state: state_of(ex),
    }
}

/// The role named in a clientOrderId, for log lines (`?` when it is not one
/// of the bot's).
pub(crate) fn role_of(cid: &str) -> String {
    ClientOrderId::parse(cid)
        .map(|c| c.role.to_string())
        .unwrap_or_else(|_| "?".into())
}

/// Whether a row differs from the exchange's report of it.
pub(crate) fn differs(row: &store::orders::OrderRow, ex: &ExchangeOrder) -> bool {
    row.exchange_order_id != Some(ex.order_id)
        || row.executed_qty != ex.executed_qty
        || row.status != store_status(ex.status)
}
