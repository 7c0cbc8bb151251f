//! The store's order operations (`store::orders`) on [`super::tables::Db`],
//! check for check: write-ahead `PENDING_NEW` rows, forward-only statuses
//! ([`store::orders::next_status`]), never-shrinking quantities, an exchange
//! id that never changes once known, and the adoption of a row given up as
//! "never arrived" (REJECTED without an exchange id) when the exchange
//! reports it after all.

use std::collections::HashMap;

use diesel::result::DatabaseErrorKind;
use grid_core::{ClientOrderId, Side};
use rust_decimal::Decimal;
use store::baskets::BasketRow;
use store::money::{check_non_negative, Col};
use store::orders::{next_status, ExchangeState, OrderRow};
use store::{Error, Writer};

use super::tables::{db_error, ex, invalid, not_found, Db};
use super::{ExchangeReport, NewOrderRow, OrderRowStatus};

/// `check_id`: the clientOrderId parses, fits Binance, names `basket`, and
/// its role fits `side`.
fn check_id(cid: &str, basket: &BasketRow, side: Side) -> Result<ClientOrderId, Error> {
    let id = ClientOrderId::parse(cid).map_err(|e| invalid("client_order_id", e.0))?;
    id.check_len()
        .map_err(|e| invalid("client_order_id", e.0))?;
    if id.basket_id != basket.id || id.symbol != basket.symbol {
        return Err(invalid(
            "client_order_id",
            format!(
                "`{cid}` does not belong to basket {} ({})",
                basket.id, basket.symbol
            ),
        ));
    }
    let expected = if id.role.is_buy() {
        Side::Buy
    } else {
        Side::Sell
    };
    if side != expected {
        return Err(invalid(
            "side",
            format!("`{cid}` has role {} but side {side}", id.role),
        ));
    }
    Ok(id)
}

fn check_prices(price: Decimal, qty: Decimal, stop: Option<Decimal>) -> Result<(), Error> {
    check_non_negative("price", price, Col::Exchange)?;
    check_non_negative("quantity", qty, Col::Exchange)?;
    if let Some(s) = stop {
        check_non_negative("stop_price", s, Col::Exchange)?;
    }
    Ok(())
}

fn trailing_i32(d: Option<u32>) -> Result<Option<i32>, Error> {
    d.map(|v| {
        i32::try_from(v)
            .ok()
            .filter(|v| *v > 0)
            .ok_or_else(|| invalid("trailing_delta", format!("{v} is out of range")))
    })
    .transpose()
}

fn seq_i64(seq: u64) -> Result<i64, Error> {
    i64::try_from(seq).map_err(|_| invalid("client_order_id", "seq out of range"))
}

fn duplicate_exchange_id() -> Error {
    db_error(
        DatabaseErrorKind::UniqueViolation,
        "duplicate key value violates unique constraint \"idx_orders_exchange_order_id\"",
    )
}

/// The order row with its decimals at their column's scale.
fn scaled(mut o: OrderRow) -> OrderRow {
    o.price = ex(o.price);
    o.quantity = ex(o.quantity);
    o.stop_price = o.stop_price.map(ex);
    o.executed_qty = ex(o.executed_qty);
    o.cummulative_quote_qty = ex(o.cummulative_quote_qty);
    o
}

impl Db {
    /// Stores an order row (new or updated) and indexes it.
    fn put_order(&mut self, row: OrderRow) {
        self.order_ids.insert(row.client_order_id.clone(), row.id);
        self.orders_of
            .entry(row.basket_id)
            .or_default()
            .insert(row.id);
        if let Some(x) = row.exchange_order_id {
            self.exchange_ids.insert((row.symbol.clone(), x), row.id);
        }
        self.orders.insert(row.id, scaled(row));
    }

    /// Whether another order of `symbol` already has this exchange id
    /// (`UNIQUE (symbol, exchange_order_id)`).
    fn exchange_id_taken(&self, symbol: &str, exchange_id: i64, except: Option<i64>) -> bool {
        self.exchange_ids
            .get(&(symbol.to_string(), exchange_id))
            .is_some_and(|id| Some(*id) != except)
    }

    /// `raise_order_seq` on a copy of the basket row.
    fn raise_order_seq(&self, basket: &mut BasketRow, seq: i64) {
        basket.order_seq = basket.order_seq.max(seq);
        basket.updated_at = self.now();
    }

    pub(super) fn insert_pending_at(
        &mut self,
        writer: Writer<'_>,
        order: &NewOrderRow,
        request_ts_ms: Option<i64>,
    ) -> Result<OrderRow, Error> {
        check_prices(order.price, order.quantity, order.stop_price)?;
        let trailing = trailing_i32(order.trailing_delta)?;
        let mut basket = self.lock_basket(writer, order.basket_id)?;
        let id = check_id(&order.client_order_id, &basket, order.side)?;
        let row_id = self.next_order_id();
        if self.order_ids.contains_key(&order.client_order_id) {
            return Err(Error::Conflict {
                what: format!("order {}", order.client_order_id),
                detail: "this clientOrderId was already written; do not send it again, look it up on the exchange".into(),
            });
        }
        let seq = seq_i64(id.seq)?;
        let now = self.now();
        let row = OrderRow {
            id: row_id,
            basket_id: basket.id,
            symbol: basket.symbol.clone(),
            exchange_order_id: None,
            client_order_id: order.client_order_id.clone(),
            role: id.role,
            side: order.side,
            order_type: order.order_type,
            price: order.price,
            quantity: order.quantity,
            stop_price: order.stop_price,
            trailing_delta: trailing,
            time_in_force: order.time_in_force,
            status: OrderRowStatus::PendingNew,
            executed_qty: Decimal::ZERO,
            cummulative_quote_qty: Decimal::ZERO,
            error: None,
            created_at: now,
            updated_at: now,
            filled_at: None,
            request_ts_ms,
        };
        self.raise_order_seq(&mut basket, seq);
        self.baskets.insert(basket.id, basket);
        self.put_order(row);
        self.order_row(row_id)
    }

    fn order_row(&self, id: i64) -> Result<OrderRow, Error> {
        self.orders
            .get(&id)
            .cloned()
            .ok_or_else(|| not_found(format!("order row {id}")))
    }

    /// `lock_order`: the row of `cid`, after its basket's lease check.
    fn lock_order(&self, writer: Writer<'_>, cid: &str) -> Result<OrderRow, Error> {
        let row = self
            .order_ids
            .get(cid)
            .and_then(|id| self.orders.get(id))
            .ok_or_else(|| not_found(format!("order {cid}")))?;
        self.lock_basket(writer, row.basket_id)?;
        Ok(row.clone())
    }

    /// `apply_state`: the row updated with what the exchange reports.
    fn apply_state(&self, row: &OrderRow, st: &ExchangeState) -> Result<OrderRow, Error> {
        if st.status.is_unconfirmed() {
            return Err(invalid(
                "status",
                format!("{} is not a status the exchange reports", st.status),
            ));
        }
        check_non_negative("executed_qty", st.executed_qty, Col::Exchange)?;
        check_non_negative(
            "cummulative_quote_qty",
            st.cummulative_quote_qty,
            Col::Exchange,
        )?;
        if let Some(known) = row.exchange_order_id {
            if known != st.exchange_order_id {
                return Err(Error::Conflict {
                    what: format!("order {}", row.client_order_id),
                    detail: format!(
                        "stored with exchange order id {known}, the exchange reports {}",
                        st.exchange_order_id
                    ),
                });
            }
        }
        let given_up = row.status == OrderRowStatus::Rejected && row.exchange_order_id.is_none();
        let status = if given_up {
            st.status
        } else {
            next_status(row.status, st.status)
        };
        let filled_at = if status == OrderRowStatus::Filled {
            row.filled_at.or_else(|| Some(self.now()))
        } else {
            row.filled_at
        };
        if self.exchange_id_taken(&row.symbol, st.exchange_order_id, Some(row.id)) {
            return Err(duplicate_exchange_id());
        }
        Ok(OrderRow {
            exchange_order_id: Some(st.exchange_order_id),
            status,
            executed_qty: row.executed_qty.max(st.executed_qty),
            cummulative_quote_qty: row.cummulative_quote_qty.max(st.cummulative_quote_qty),
            filled_at,
            updated_at: self.now(),
            ..row.clone()
        })
    }

    /// `mark_sent` (= `update_from_exchange`).
    pub(super) fn mark_sent(
        &mut self,
        writer: Writer<'_>,
        cid: &str,
        state: &ExchangeState,
    ) -> Result<OrderRow, Error> {
        let row = self.lock_order(writer, cid)?;
        let updated = self.apply_state(&row, state)?;
        self.put_order(updated);
        self.order_row(row.id)
    }

    pub(super) fn mark_unknown(
        &mut self,
        writer: Writer<'_>,
        cid: &str,
        why: &str,
    ) -> Result<OrderRow, Error> {
        let row = self.lock_order(writer, cid)?;
        if row.status != OrderRowStatus::PendingNew {
            return Ok(row);
        }
        let id = row.id;
        self.put_order(OrderRow {
            status: OrderRowStatus::Unknown,
            error: Some(why.to_string()),
            updated_at: self.now(),
            ..row
        });
        self.order_row(id)
    }

    pub(super) fn mark_rejected(
        &mut self,
        writer: Writer<'_>,
        cid: &str,
        why: &str,
    ) -> Result<OrderRow, Error> {
        let row = self.lock_order(writer, cid)?;
        if row.status == OrderRowStatus::Rejected {
            return Ok(row);
        }
        if !row.status.is_unconfirmed() {
            return Err(invalid(
                "status",
                format!(
                    "order {cid} is {} on the exchange; it cannot be marked rejected",
                    row.status
                ),
            ));
        }
        let id = row.id;
        self.put_order(OrderRow {
            status: OrderRowStatus::Rejected,
            error: Some(why.to_string()),
            updated_at: self.now(),
            ..row
        });
        self.order_row(id)
    }

    pub(super) fn upsert_from_exchange(
        &mut self,
        writer: Writer<'_>,
        order: &ExchangeReport,
    ) -> Result<OrderRow, Error> {
        let id = ClientOrderId::parse(&order.client_order_id)
            .map_err(|e| invalid("client_order_id", e.0))?;
        check_prices(order.price, order.orig_qty, order.stop_price)?;
        let trailing = trailing_i32(order.trailing_delta)?;
        let mut basket = self.lock_basket(writer, id.basket_id)?;
        check_id(&order.client_order_id, &basket, order.side)?;
        if let Some(row) = self
            .order_ids
            .get(&order.client_order_id)
            .and_then(|i| self.orders.get(i))
        {
            let updated = self.apply_state(row, &order.state)?;
            let row_id = updated.id;
            self.put_order(updated);
            return self.order_row(row_id);
        }
        let st = &order.state;
        if st.status.is_unconfirmed() {
            return Err(invalid(
                "status",
                format!("{} is not a status the exchange reports", st.status),
            ));
        }
        check_non_negative("executed_qty", st.executed_qty, Col::Exchange)?;
        check_non_negative(
            "cummulative_quote_qty",
            st.cummulative_quote_qty,
            Col::Exchange,
        )?;
        let row_id = self.next_order_id();
        if self.exchange_id_taken(&basket.symbol, st.exchange_order_id, None) {
            return Err(duplicate_exchange_id());
        }
        let seq = seq_i64(id.seq)?;
        let now = self.now();
        let row = OrderRow {
            id: row_id,
            basket_id: basket.id,
            symbol: basket.symbol.clone(),
            exchange_order_id: Some(st.exchange_order_id),
            client_order_id: order.client_order_id.clone(),
            role: id.role,
            side: order.side,
            order_type: order.order_type,
            price: order.price,
            quantity: order.orig_qty,
            stop_price: order.stop_price,
            trailing_delta: trailing,
            time_in_force: order.time_in_force,
            status: st.status,
            executed_qty: st.executed_qty,
            cummulative_quote_qty: st.cummulative_quote_qty,
            error: None,
            created_at: now,
            updated_at: now,
            filled_at: (st.status == OrderRowStatus::Filled).then_some(now),
            request_ts_ms: None,
        };
        self.raise_order_seq(&mut basket, seq);
        self.baskets.insert(basket.id, basket);
        self.put_order(row);
        self.order_row(row_id)
    }

    // ---- reads ----

    fn basket_orders(&self, basket: i64) -> impl Iterator<Item = &OrderRow> {
        self.orders_of
            .get(&basket)
            .into_iter()
            .flatten()
            .filter_map(|id| self.orders.get(id))
    }

    /// `list_open_for_basket`: the orders that are or may be live, by id.
    pub(super) fn open_orders_of(&self, basket: i64) -> Vec<OrderRow> {
        self.basket_orders(basket)
            .filter(|o| OrderRowStatus::OPEN.contains(&o.status))
            .cloned()
            .collect()
    }

    /// `executed_for_basket`, by order id.
    pub(super) fn executed_of(&self, basket: i64) -> Vec<(String, Decimal)> {
        self.basket_orders(basket)
            .filter(|o| o.executed_qty > Decimal::ZERO)
            .map(|o| (o.client_order_id.clone(), o.executed_qty))
            .collect()
    }

    pub(super) fn has_orders(&self, basket: i64) -> bool {
        self.basket_orders(basket).next().is_some()
    }

    pub(super) fn client_ids_by_exchange_id(
        &self,
        basket: i64,
        exchange_ids: &[i64],
    ) -> HashMap<i64, String> {
        self.basket_orders(basket)
            .filter_map(|o| {
                let x = o.exchange_order_id?;
                exchange_ids
                    .contains(&x)
                    .then(|| (x, o.client_order_id.clone()))
            })
            .collect()
    }
}
