//! The store's fill recording (`store::fills::record_fills`) on
//! [`super::tables::Db`], check for check.
//!
//! Invariants (the store's): a trade is stored at most once per
//! `(symbol, trade id)`; the basket's aggregates, the SELLs' realized P&L and
//! the hourly buckets are the walk of [`store::money::apply_fill`] over the
//! basket's fills in trade-id order — incrementally when the new trades come
//! after the last applied one, by a full re-walk when one is older; a batch
//! the walk cannot account for stores nothing. The arithmetic is the store's
//! own (`apply_fill`, `check`, `check_totals`); only the bookkeeping around
//! it is repeated here.

use std::collections::BTreeMap;

use chrono::{DateTime, DurationRound, TimeDelta, TimeZone, Utc};
use diesel::result::DatabaseErrorKind;
use grid_core::{ClientOrderId, Fill, PnlTotals, Role, Side};
use rust_decimal::{Decimal, RoundingStrategy};
use store::baskets::BasketRow;
use store::fills::{FillRow, NewFill};
use store::money::{apply_fill, check, check_non_negative, check_totals, Col, QUOTE_SCALE};
use store::{Error, Writer};

use super::tables::{db_error, ex, invalid, quote, quote_fits, scaled_basket, Bucket, Db};

/// Largest price, quantity or commission accepted (the store's bound): 1e12.
const MAX_INPUT: Decimal = Decimal::from_parts(0xD4A5_1000, 0xE8, 0, false, 0);

/// `pnl_hourly` rows to store, keyed by (basket, hour).
type HourlyRows = Vec<((i64, DateTime<Utc>), Bucket)>;

/// A validated fill ready to insert.
struct Prepared<'a> {
    input: &'a NewFill,
    role: Role,
    quote_qty: Decimal,
    commission_quote: Decimal,
}

fn prepare<'a>(basket: &BasketRow, f: &'a NewFill) -> Result<Prepared<'a>, Error> {
    let fill = &f.fill;
    let field = |name: &str| format!("fill {} {name}", fill.trade_id);
    if fill.trade_id < 0 {
        return Err(invalid(field("trade_id"), "is negative"));
    }
    let id = ClientOrderId::parse(&fill.client_order_id)
        .map_err(|e| invalid(field("client_order_id"), e.0))?;
    if id.basket_id != basket.id || id.symbol != basket.symbol {
        return Err(invalid(
            field("client_order_id"),
            format!(
                "`{}` is not an order of basket {} ({})",
                fill.client_order_id, basket.id, basket.symbol
            ),
        ));
    }
    let expected = if id.role.is_buy() {
        Side::Buy
    } else {
        Side::Sell
    };
    if fill.side != expected {
        return Err(invalid(
            field("side"),
            format!("role {} cannot {}", id.role, fill.side),
        ));
    }
    for (name, v, positive) in [
        ("price", fill.price, true),
        ("qty", fill.qty, true),
        ("commission", fill.commission, false),
    ] {
        check_non_negative(&field(name), v, Col::Exchange)?;
        if (positive && v <= Decimal::ZERO) || v > MAX_INPUT {
            return Err(invalid(field(name), format!("{v} is out of range")));
        }
    }
    if fill.commission_asset.is_empty() || fill.commission_asset.len() > 20 {
        return Err(invalid(
            field("commission_asset"),
            "must be 1 to 20 characters",
        ));
    }
    let commission_quote = fill
        .commission_quote
        .round_dp_with_strategy(QUOTE_SCALE, RoundingStrategy::MidpointNearestEven);
    check_non_negative(&field("commission_quote"), commission_quote, Col::Quote)?;
    let quote_qty = f.quote_qty.unwrap_or(fill.price * fill.qty);
    check_non_negative(&field("quote_qty"), quote_qty, Col::Quote)?;
    Ok(Prepared {
        input: f,
        role: id.role,
        quote_qty,
        commission_quote,
    })
}

fn hour(t: DateTime<Utc>) -> DateTime<Utc> {
    t.duration_trunc(TimeDelta::hours(1)).unwrap_or(t)
}

fn add_to_bucket(
    buckets: &mut BTreeMap<DateTime<Utc>, Bucket>,
    at: DateTime<Utc>,
    side: Side,
    realized: Option<Decimal>,
    fee: Decimal,
) {
    let b = buckets.entry(hour(at)).or_default();
    b.fees += fee;
    if side == Side::Sell {
        b.sells += 1;
        b.realized += realized.unwrap_or_default();
    }
}

/// A `TIMESTAMPTZ` as diesel sends it: whole microseconds since 2000-01-01
/// (truncated toward that epoch).
fn pg_timestamp(t: DateTime<Utc>) -> DateTime<Utc> {
    let Some(epoch) = Utc.with_ymd_and_hms(2000, 1, 1, 0, 0, 0).single() else {
        return t;
    };
    (t - epoch)
        .num_microseconds()
        .map(TimeDelta::microseconds)
        .and_then(|d| epoch.checked_add_signed(d))
        .unwrap_or(t)
}

fn counter(v: u64, what: &str) -> Result<i64, Error> {
    i64::try_from(v).map_err(|_| invalid(what, "counter overflow"))
}

/// The fill row with its decimals at their column's scale — as the re-walk
/// reads the rows back (`sells 1.00010000`, not `1.0001`).
fn scaled(mut row: FillRow) -> FillRow {
    row.price = ex(row.price);
    row.quantity = ex(row.quantity);
    row.commission = ex(row.commission);
    row.quote_qty = quote(row.quote_qty);
    row.commission_quote = quote(row.commission_quote);
    row.realized_pnl = row.realized_pnl.map(quote);
    row
}

impl Db {
    /// Stores a fill row (new or updated) and indexes it.
    fn put_fill(&mut self, row: FillRow) {
        let row = scaled(row);
        self.trades
            .insert((row.symbol.clone(), row.exchange_trade_id), row.id);
        self.fills_of
            .entry(row.basket_id)
            .or_default()
            .insert(row.exchange_trade_id, row.id);
        self.fills.insert(row.id, row);
    }

    fn basket_fills(&self, basket: i64) -> impl Iterator<Item = &FillRow> {
        self.fills_of
            .get(&basket)
            .into_iter()
            .flat_map(|m| m.values())
            .filter_map(|id| self.fills.get(id))
    }

    /// `fills_for_basket`, as grid-core's fills.
    pub(super) fn fills_of(&self, basket: i64) -> Vec<Fill> {
        self.basket_fills(basket).map(FillRow::to_core).collect()
    }

    /// `upsert_buckets`' checks: each bucket's realized P&L fits its column,
    /// and so do the sums the upsert writes (`merged`: the stored bucket
    /// plus this one). Returns the rows to store.
    fn checked_buckets(
        &self,
        basket_id: i64,
        buckets: &BTreeMap<DateTime<Utc>, Bucket>,
        merge: bool,
    ) -> Result<HourlyRows, Error> {
        let mut out = Vec::with_capacity(buckets.len());
        for (at, b) in buckets {
            check(
                &format!("hourly realized of basket {basket_id}"),
                b.realized,
                Col::Quote,
            )?;
            quote_fits(b.fees)?;
            let mut merged = b.clone();
            if merge {
                if let Some(old) = self.hourly.get(&(basket_id, *at)) {
                    merged.realized += old.realized;
                    merged.fees += old.fees;
                    merged.sells += old.sells;
                }
            }
            quote_fits(merged.realized)?;
            quote_fits(merged.fees)?;
            merged.realized = quote(merged.realized);
            merged.fees = quote(merged.fees);
            out.push(((basket_id, *at), merged));
        }
        Ok(out)
    }

    /// `write_totals` on a copy of the basket row.
    fn write_totals(&self, basket: &mut BasketRow, t: &PnlTotals) -> Result<(), Error> {
        check_totals(t)?;
        basket.pos = t.pos;
        basket.cost = t.cost;
        basket.realized = t.realized;
        basket.fees = t.fees;
        basket.bought_qty = t.bought_qty;
        basket.bought_quote = t.bought_quote;
        basket.sold_qty = t.sold_qty;
        basket.sold_quote = t.sold_quote;
        basket.sells = counter(t.sells, "sells")?;
        basket.wins = counter(t.wins, "wins")?;
        basket.losses = counter(t.losses, "losses")?;
        basket.sum_wins = t.sum_wins;
        basket.sum_losses = t.sum_losses;
        basket.last_trade_id = t.last_trade_id;
        basket.updated_at = self.now();
        if t.pos < Decimal::ZERO {
            return Err(db_error(
                DatabaseErrorKind::CheckViolation,
                "new row for relation \"baskets\" violates check constraint \"baskets_pos_check\"",
            ));
        }
        Ok(())
    }

    pub(super) fn record_fills(
        &mut self,
        writer: Writer<'_>,
        basket_id: i64,
        base_asset: &str,
        new_fills: &[NewFill],
    ) -> Result<usize, Error> {
        if new_fills.is_empty() {
            return Ok(0);
        }
        let mut basket = self.lock_basket(writer, basket_id)?;
        let mut prepared = new_fills
            .iter()
            .map(|f| prepare(&basket, f))
            .collect::<Result<Vec<_>, _>>()?;
        prepared.sort_by_key(|p| p.input.fill.trade_id);
        // Duplicates inside the batch must be the same trade.
        let mut unique: Vec<Prepared<'_>> = Vec::with_capacity(prepared.len());
        for p in prepared {
            if let Some(last) = unique.last() {
                if last.input.fill.trade_id == p.input.fill.trade_id {
                    if last.input != p.input {
                        return Err(invalid(
                            format!("fill {}", p.input.fill.trade_id),
                            "given twice with different contents",
                        ));
                    }
                    continue;
                }
            }
            unique.push(p);
        }
        let stored_in = |tid: i64| {
            self.trades
                .get(&(basket.symbol.clone(), tid))
                .and_then(|id| self.fills.get(id))
                .map(|f| f.basket_id)
        };
        if let Some((t, b)) = unique
            .iter()
            .filter_map(|p| stored_in(p.input.fill.trade_id).map(|b| (p.input.fill.trade_id, b)))
            .find(|(_, b)| *b != basket_id)
        {
            return Err(Error::Conflict {
                what: format!("trade {t} of {}", basket.symbol),
                detail: format!(
                    "it is stored for basket {b}, not {basket_id}; check the clientOrderIds"
                ),
            });
        }
        let fresh: Vec<Prepared<'_>> = unique
            .into_iter()
            .filter(|p| stored_in(p.input.fill.trade_id).is_none())
            .collect();
        if fresh.is_empty() {
            return Ok(0);
        }

        let mut totals = basket.totals()?;
        let late = matches!((totals.last_trade_id, fresh.first()),
            (Some(last), Some(first)) if first.input.fill.trade_id <= last);
        let mut realized: Vec<Option<Decimal>> = Vec::with_capacity(fresh.len());
        let mut buckets = BTreeMap::new();
        if !late {
            for p in &fresh {
                let r = apply_fill(&mut totals, &p.input.fill, base_asset)
                    .map_err(|source| Error::Pnl { basket_id, source })?;
                add_to_bucket(
                    &mut buckets,
                    p.input.executed_at,
                    p.input.fill.side,
                    r,
                    p.commission_quote,
                );
                realized.push(r);
            }
        } else {
            // Placeholders; the full re-walk below computes the real values.
            realized = fresh
                .iter()
                .map(|p| (p.input.fill.side == Side::Sell).then_some(Decimal::ZERO))
                .collect();
        }

        // The INSERT: ids are drawn (and consumed) before any row is checked.
        let now = self.now();
        let mut rows: Vec<FillRow> = Vec::with_capacity(fresh.len());
        for (p, r) in fresh.iter().zip(&realized) {
            let f = &p.input.fill;
            rows.push(scaled(FillRow {
                id: self.next_fill_id(),
                order_id: self.order_ids.get(&f.client_order_id).copied(),
                basket_id,
                symbol: basket.symbol.clone(),
                exchange_trade_id: f.trade_id,
                exchange_order_id: f.exchange_order_id,
                client_order_id: f.client_order_id.clone(),
                role: p.role,
                side: f.side,
                price: f.price,
                quantity: f.qty,
                quote_qty: p.quote_qty,
                commission: f.commission,
                commission_asset: f.commission_asset.clone(),
                commission_quote: p.commission_quote,
                is_maker: p.input.is_maker,
                realized_pnl: *r,
                executed_at: pg_timestamp(p.input.executed_at),
                created_at: now,
            }));
        }
        for r in rows.iter().filter_map(|r| r.realized_pnl) {
            quote_fits(r)?;
        }

        let (rewalked, hourly) = if late {
            // Every fill of the basket, the new ones included, re-walked.
            let mut all: Vec<FillRow> = self.basket_fills(basket_id).cloned().collect();
            all.extend(rows);
            all.sort_by_key(|f| f.exchange_trade_id);
            totals = PnlTotals::default();
            let mut buckets = BTreeMap::new();
            for row in &mut all {
                let r = apply_fill(&mut totals, &row.to_core(), base_asset)
                    .map_err(|source| Error::Pnl { basket_id, source })?;
                if r != row.realized_pnl {
                    if let Some(v) = r {
                        quote_fits(v)?;
                    }
                    row.realized_pnl = r;
                }
                add_to_bucket(
                    &mut buckets,
                    row.executed_at,
                    row.side,
                    r,
                    row.commission_quote,
                );
            }
            (all, self.checked_buckets(basket_id, &buckets, false)?)
        } else {
            (rows, self.checked_buckets(basket_id, &buckets, true)?)
        };
        self.write_totals(&mut basket, &totals)?;

        // Commit.
        if late {
            self.hourly.retain(|(b, _), _| *b != basket_id);
        }
        self.hourly.extend(hourly);
        for row in rewalked {
            self.put_fill(row);
        }
        self.baskets.insert(basket_id, scaled_basket(basket));
        Ok(fresh.len())
    }
}
