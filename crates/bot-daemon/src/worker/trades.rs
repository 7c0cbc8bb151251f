//! Trade sync: the basket's trades since its cursor, each recorded once.

use std::collections::HashMap;

use binance_rest::Exchange;
use chrono::DateTime;
use executor::fees::{commission_in_quote, Commission, Fee};
use rust_decimal::Decimal;
use serde_json::json;
use store::baskets::BasketRow;
use store::events::NewEvent;
use store::EventLevel;

use super::Worker;
use crate::error::DaemonError;
use crate::ledger::Ledger;

/// Trades asked per page (the exchange's maximum).
const PAGE: u32 = 1000;

impl<E: Exchange> Worker<E> {
    /// Trades since the basket's last synced trade id, recorded in one commit.
    ///
    /// The cursor is exact: before a basket's first order is written, its
    /// `last_trade_id` is set to the symbol's latest trade id on the exchange
    /// (`-1` when the account never traded it), so every later trade —
    /// however busy the account — is read by paging forward with `fromId`.
    /// A basket with orders but no cursor (created by an older version) pages
    /// from the account's first trade of the symbol.
    ///
    /// `None` (nothing read) while an order of the basket has no known
    /// exchange id ([`executor::view::unidentified`]): its trades could not be
    /// told apart, and the cursor would move past them.
    pub(super) fn sync_trades(
        &self,
        ledger: &mut impl Ledger,
        b: &BasketRow,
        prices: &HashMap<String, Decimal>,
    ) -> Result<Option<usize>, DaemonError> {
        let rows = ledger.open_orders_of(b.id)?;
        let ids = rows
            .iter()
            .map(|r| (r.client_order_id.as_str(), r.exchange_order_id));
        if let Some(cid) = executor::view::unidentified(ids) {
            log::info!(
                "Trade sync waits: {cid} has no exchange id yet basket={}",
                b.id
            );
            return Ok(None);
        }
        let mut from = match b.last_trade_id {
            Some(t) => t + 1,
            None if ledger.has_orders(b.id)? => 0,
            None => {
                let latest = self
                    .exchange
                    .my_trades(&b.symbol, None, 1)?
                    .iter()
                    .map(|t| t.id)
                    .max()
                    .unwrap_or(-1);
                ledger.set_trade_cursor(&self.cfg.worker_id, b.id, latest)?;
                log::info!(
                    "Trade cursor set basket={} symbol={} last_trade_id={latest}",
                    b.id,
                    b.symbol
                );
                return Ok(Some(0));
            }
        };
        let mut new_fills = Vec::new();
        let mut extra_prices: HashMap<String, Option<Decimal>> = HashMap::new();
        loop {
            let page = self.exchange.my_trades(&b.symbol, Some(from), PAGE)?;
            let ids: Vec<i64> = page.iter().map(|t| t.order_id).collect();
            let mine = ledger.client_ids_by_exchange_id(b.id, &ids)?;
            for t in &page {
                let Some(cid) = mine.get(&t.order_id) else {
                    continue;
                };
                let fee = Fee {
                    amount: t.commission,
                    asset: &t.commission_asset,
                    trade_price: t.price,
                };
                let valued = commission_in_quote(fee, &b.base_asset, &b.quote_asset, |pair| {
                    match prices.get(pair) {
                        Some(p) => Some(*p),
                        None => *extra_prices
                            .entry(pair.to_string())
                            .or_insert_with(|| self.third_asset_price(pair)),
                    }
                });
                if let Commission::Unvalued { pair } = &valued {
                    log::warn!(
                        "Commission valued 0: no {pair} price basket={} trade={} commission={} {}",
                        b.id,
                        t.id,
                        t.commission,
                        t.commission_asset
                    );
                    ledger.insert_event(
                        &NewEvent::new(
                            Some(b.id),
                            EventLevel::Warn,
                            "commission_unvalued",
                            format!(
                                "Commission of trade {} ({} {}) valued 0: no {pair} price",
                                t.id, t.commission, t.commission_asset
                            ),
                        )
                        .with_data(Some(json!({
                            "trade_id": t.id,
                            "commission": t.commission,
                            "asset": t.commission_asset,
                        }))),
                    )?;
                }
                let executed_at = DateTime::from_timestamp_millis(t.time).ok_or_else(|| {
                    DaemonError::Exchange(binance_rest::Error::Decode(format!(
                        "trade {} of {} has a time out of range: {}",
                        t.id, b.symbol, t.time
                    )))
                })?;
                new_fills.push(store::fills::NewFill {
                    fill: t.to_fill(cid, valued.quote()),
                    quote_qty: Some(t.quote_qty),
                    is_maker: t.is_maker,
                    executed_at,
                });
            }
            match page.last() {
                Some(t) if u32::try_from(page.len()).is_ok_and(|n| n >= PAGE) => from = t.id + 1,
                _ => break,
            }
        }
        let n = ledger.record_fills(self.lease(), b.id, &b.base_asset, &new_fills)?;
        if n > 0 {
            log::info!("Fills recorded basket={} new={n}", b.id);
        }
        Ok(Some(n))
    }

    /// The price of a commission asset in the quote asset (`BNBUSDC`), when
    /// the exchange lists that pair; asked only when such a fee appears.
    fn third_asset_price(&self, pair: &str) -> Option<Decimal> {
        match self.exchange.ticker_prices(&[pair.to_string()]) {
            Ok(p) => p.get(pair).copied(),
            Err(e) => {
                log::warn!("No price for {pair}: {e}");
                None
            }
        }
    }
}
