//! The client's domain-side types: what callers get back and send, with exact
//! `Decimal`s and enums. Built from the wire structs in [`crate::models`] by
//! [`crate::parse`].

use std::fmt;
use std::str::FromStr;

use grid_core::{Decimal, Fill, OpenOrder, OrderType, Side, SymbolRules, TimeInForce};

use crate::decimal::format_param;
use crate::error::Error;

/// Order status (binance-api.md §10).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrderStatus {
    New,
    PendingNew,
    PartiallyFilled,
    Filled,
    Canceled,
    PendingCancel,
    Rejected,
    Expired,
    ExpiredInMatch,
}

impl OrderStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::New => "NEW",
            OrderStatus::PendingNew => "PENDING_NEW",
            OrderStatus::PartiallyFilled => "PARTIALLY_FILLED",
            OrderStatus::Filled => "FILLED",
            OrderStatus::Canceled => "CANCELED",
            OrderStatus::PendingCancel => "PENDING_CANCEL",
            OrderStatus::Rejected => "REJECTED",
            OrderStatus::Expired => "EXPIRED",
            OrderStatus::ExpiredInMatch => "EXPIRED_IN_MATCH",
        }
    }

    /// Still on the book (may still trade): NEW, PENDING_NEW, PARTIALLY_FILLED, PENDING_CANCEL.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            OrderStatus::New
                | OrderStatus::PendingNew
                | OrderStatus::PartiallyFilled
                | OrderStatus::PendingCancel
        )
    }

    /// Final: its `executed_qty` will not change any more.
    pub fn is_final(self) -> bool {
        !self.is_open()
    }
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for OrderStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "NEW" => OrderStatus::New,
            "PENDING_NEW" => OrderStatus::PendingNew,
            "PARTIALLY_FILLED" => OrderStatus::PartiallyFilled,
            "FILLED" => OrderStatus::Filled,
            "CANCELED" => OrderStatus::Canceled,
            "PENDING_CANCEL" => OrderStatus::PendingCancel,
            "REJECTED" => OrderStatus::Rejected,
            "EXPIRED" => OrderStatus::Expired,
            "EXPIRED_IN_MATCH" => OrderStatus::ExpiredInMatch,
            other => return Err(format!("unknown order status `{other}`")),
        })
    }
}

/// `newOrderRespType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrderRespType {
    /// Ids and `transactTime` only.
    Ack,
    /// Order state, no fills.
    Result,
    /// Order state and fills.
    Full,
}

impl OrderRespType {
    pub fn as_str(self) -> &'static str {
        match self {
            OrderRespType::Ack => "ACK",
            OrderRespType::Result => "RESULT",
            OrderRespType::Full => "FULL",
        }
    }
}

/// How an order is named in a lookup or cancel.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum OrderRef {
    /// The exchange's `orderId`.
    Id(i64),
    /// The `clientOrderId` given at placement (`origClientOrderId` parameter).
    Client(String),
}

impl OrderRef {
    pub(crate) fn param(&self) -> (&'static str, String) {
        match self {
            OrderRef::Id(id) => ("orderId", id.to_string()),
            OrderRef::Client(c) => ("origClientOrderId", c.clone()),
        }
    }
}

impl From<i64> for OrderRef {
    fn from(id: i64) -> Self {
        OrderRef::Id(id)
    }
}

impl From<&str> for OrderRef {
    fn from(c: &str) -> Self {
        OrderRef::Client(c.to_string())
    }
}

/// Whether a client order id matches `^[a-zA-Z0-9-_]{1,36}$` (binance-api.md §7.2).
pub fn is_valid_client_order_id(id: &str) -> bool {
    (1..=36).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

pub(crate) fn check_symbol(symbol: &str) -> Result<(), Error> {
    let ok = !symbol.is_empty()
        && symbol.len() <= 50
        && symbol.chars().all(|c| {
            !c.is_lowercase() && !c.is_whitespace() && !c.is_control() && c != '&' && c != '='
        });
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidRequest(format!("invalid symbol {symbol:?}")))
    }
}

/// A new order (`POST /api/v3/order` / `order/test`). Build it with one of the
/// constructors, then chain options:
///
/// ```
/// use binance_rest::NewOrder;
/// use grid_core::Side;
/// use rust_decimal_macros::dec;
/// let o = NewOrder::limit("SOLUSDC", Side::Buy, dec!(0.05), dec!(140.25))
///     .client_order_id("grid-1-b-0001");
/// assert!(o.to_params().is_ok());
/// ```
///
/// [`NewOrder::to_params`] sends only what the exchange accepts for the type
/// (no `timeInForce` on LIMIT_MAKER/MARKET, no `price` on MARKET, …) and refuses
/// combinations it would reject, so a bad order is never sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOrder {
    pub symbol: String,
    pub side: Side,
    pub order_type: OrderType,
    pub quantity: Option<Decimal>,
    /// MARKET only: spend/receive this much quote asset instead of `quantity`.
    pub quote_order_qty: Option<Decimal>,
    pub price: Option<Decimal>,
    pub time_in_force: Option<TimeInForce>,
    pub stop_price: Option<Decimal>,
    /// BIPS (1 = 0.01 %).
    pub trailing_delta: Option<u32>,
    pub new_client_order_id: Option<String>,
    pub resp_type: Option<OrderRespType>,
    /// The `timestamp` to sign the request with (exchange clock, epoch ms),
    /// from [`crate::Exchange::order_timestamp`]; `None`: stamped when sent.
    pub timestamp_ms: Option<i64>,
}

impl NewOrder {
    fn base(symbol: &str, side: Side, order_type: OrderType) -> Self {
        NewOrder {
            symbol: symbol.to_string(),
            side,
            order_type,
            quantity: None,
            quote_order_qty: None,
            price: None,
            time_in_force: None,
            stop_price: None,
            trailing_delta: None,
            new_client_order_id: None,
            resp_type: None,
            timestamp_ms: None,
        }
    }

    /// LIMIT, GTC.
    pub fn limit(symbol: &str, side: Side, quantity: Decimal, price: Decimal) -> Self {
        NewOrder {
            quantity: Some(quantity),
            price: Some(price),
            time_in_force: Some(TimeInForce::Gtc),
            ..Self::base(symbol, side, OrderType::Limit)
        }
    }

    /// LIMIT_MAKER (post-only): rejected with `-2010` if it would take.
    pub fn limit_maker(symbol: &str, side: Side, quantity: Decimal, price: Decimal) -> Self {
        NewOrder {
            quantity: Some(quantity),
            price: Some(price),
            ..Self::base(symbol, side, OrderType::LimitMaker)
        }
    }

    /// MARKET by base quantity.
    pub fn market(symbol: &str, side: Side, quantity: Decimal) -> Self {
        NewOrder {
            quantity: Some(quantity),
            ..Self::base(symbol, side, OrderType::Market)
        }
    }

    /// MARKET by quote amount (`quoteOrderQty`).
    pub fn market_quote(symbol: &str, side: Side, quote_qty: Decimal) -> Self {
        NewOrder {
            quote_order_qty: Some(quote_qty),
            ..Self::base(symbol, side, OrderType::Market)
        }
    }

    /// STOP_LOSS_LIMIT, GTC: needs `stop_price` and/or `trailing_delta`.
    pub fn stop_loss_limit(
        symbol: &str,
        side: Side,
        quantity: Decimal,
        price: Decimal,
        stop_price: Option<Decimal>,
        trailing_delta: Option<u32>,
    ) -> Self {
        NewOrder {
            quantity: Some(quantity),
            price: Some(price),
            time_in_force: Some(TimeInForce::Gtc),
            stop_price,
            trailing_delta,
            ..Self::base(symbol, side, OrderType::StopLossLimit)
        }
    }

    /// TAKE_PROFIT_LIMIT, GTC: needs `stop_price` and/or `trailing_delta`.
    pub fn take_profit_limit(
        symbol: &str,
        side: Side,
        quantity: Decimal,
        price: Decimal,
        stop_price: Option<Decimal>,
        trailing_delta: Option<u32>,
    ) -> Self {
        NewOrder {
            quantity: Some(quantity),
            price: Some(price),
            time_in_force: Some(TimeInForce::Gtc),
            stop_price,
            trailing_delta,
            ..Self::base(symbol, side, OrderType::TakeProfitLimit)
        }
    }

    /// STOP_LOSS (market when triggered): needs `stop_price` and/or `trailing_delta`.
    pub fn stop_loss(
        symbol: &str,
        side: Side,
        quantity: Decimal,
        stop_price: Option<Decimal>,
        trailing_delta: Option<u32>,
    ) -> Self {
        NewOrder {
            quantity: Some(quantity),
            stop_price,
            trailing_delta,
            ..Self::base(symbol, side, OrderType::StopLoss)
        }
    }

    /// TAKE_PROFIT (market when triggered): needs `stop_price` and/or `trailing_delta`.
    pub fn take_profit(
        symbol: &str,
        side: Side,
        quantity: Decimal,
        stop_price: Option<Decimal>,
        trailing_delta: Option<u32>,
    ) -> Self {
        NewOrder {
            quantity: Some(quantity),
            stop_price,
            trailing_delta,
            ..Self::base(symbol, side, OrderType::TakeProfit)
        }
    }

    /// Sets `newClientOrderId` (`^[a-zA-Z0-9-_]{1,36}$`). Without one the client
    /// generates an id, so an unknown outcome can always be looked up.
    pub fn client_order_id(mut self, id: impl Into<String>) -> Self {
        self.new_client_order_id = Some(id.into());
        self
    }

    pub fn time_in_force(mut self, tif: TimeInForce) -> Self {
        self.time_in_force = Some(tif);
        self
    }

    pub fn stop_price(mut self, p: Decimal) -> Self {
        self.stop_price = Some(p);
        self
    }

    pub fn trailing_delta(mut self, bips: u32) -> Self {
        self.trailing_delta = Some(bips);
        self
    }

    pub fn resp_type(mut self, r: OrderRespType) -> Self {
        self.resp_type = Some(r);
        self
    }

    /// The request parameters (without `recvWindow`/`timestamp`/`signature`), in
    /// the documented order.
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] when the order lacks a parameter its type needs
    /// (§7.1), carries one the exchange would reject for its type, has a
    /// negative/zero amount or a malformed client order id.
    pub fn to_params(&self) -> Result<Vec<(&'static str, String)>, Error> {
        check_symbol(&self.symbol)?;
        let invalid = |m: String| Err(Error::InvalidRequest(m));
        let t = self.order_type;
        let is_limit_priced = matches!(
            t,
            OrderType::Limit
                | OrderType::LimitMaker
                | OrderType::StopLossLimit
                | OrderType::TakeProfitLimit
        );
        let needs_tif = matches!(
            t,
            OrderType::Limit | OrderType::StopLossLimit | OrderType::TakeProfitLimit
        );
        let is_stop = matches!(
            t,
            OrderType::StopLoss
                | OrderType::StopLossLimit
                | OrderType::TakeProfit
                | OrderType::TakeProfitLimit
        );

        match (t, self.quantity, self.quote_order_qty) {
            (OrderType::Market, Some(_), Some(_)) => {
                return invalid("MARKET takes quantity or quoteOrderQty, not both".into())
            }
            (OrderType::Market, None, None) => {
                return invalid("MARKET needs quantity or quoteOrderQty".into())
            }
            (OrderType::Market, _, _) => {}
            (_, None, _) => return invalid(format!("{t} needs a quantity")),
            (_, Some(_), Some(_)) => {
                return invalid(format!("quoteOrderQty is for MARKET only, not {t}"))
            }
            (_, Some(_), None) => {}
        }
        if is_limit_priced && self.price.is_none() {
            return invalid(format!("{t} needs a price"));
        }
        if !is_limit_priced && self.price.is_some() {
            return invalid(format!("{t} takes no price"));
        }
        if !needs_tif && self.time_in_force.is_some() {
            return invalid(format!("{t} takes no timeInForce"));
        }
        if is_stop && self.stop_price.is_none() && self.trailing_delta.is_none() {
            return invalid(format!("{t} needs a stopPrice or a trailingDelta"));
        }
        if !is_stop && (self.stop_price.is_some() || self.trailing_delta.is_some()) {
            return invalid(format!("{t} takes no stopPrice/trailingDelta"));
        }
        if self.trailing_delta == Some(0) {
            return invalid("trailingDelta must be >= 1".into());
        }
        for (name, v) in [
            ("quantity", self.quantity),
            ("quoteOrderQty", self.quote_order_qty),
            ("price", self.price),
            ("stopPrice", self.stop_price),
        ] {
            if let Some(v) = v {
                if v <= Decimal::ZERO {
                    return invalid(format!("{name} must be > 0, got {v}"));
                }
            }
        }
        if let Some(c) = &self.new_client_order_id {
            if !is_valid_client_order_id(c) {
                return invalid(format!(
                    "newClientOrderId {c:?} must match ^[a-zA-Z0-9-_]{{1,36}}$"
                ));
            }
        }

        let mut p: Vec<(&'static str, String)> = vec![
            ("symbol", self.symbol.clone()),
            ("side", self.side.as_str().to_string()),
            ("type", t.as_str().to_string()),
        ];
        if needs_tif {
            let tif = self.time_in_force.unwrap_or(TimeInForce::Gtc);
            p.push(("timeInForce", tif.as_str().to_string()));
        }
        if let Some(q) = self.quantity {
            p.push(("quantity", format_param("quantity", q)?));
        }
        if let Some(q) = self.quote_order_qty {
            p.push(("quoteOrderQty", format_param("quoteOrderQty", q)?));
        }
        if let Some(v) = self.price {
            p.push(("price", format_param("price", v)?));
        }
        if let Some(v) = self.stop_price {
            p.push(("stopPrice", format_param("stopPrice", v)?));
        }
        if let Some(d) = self.trailing_delta {
            p.push(("trailingDelta", d.to_string()));
        }
        if let Some(c) = &self.new_client_order_id {
            p.push(("newClientOrderId", c.clone()));
        }
        if let Some(r) = self.resp_type {
            p.push(("newOrderRespType", r.as_str().to_string()));
        }
        Ok(p)
    }
}

/// One fill of a FULL order response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderFill {
    pub price: Decimal,
    pub qty: Decimal,
    pub commission: Decimal,
    pub commission_asset: String,
    pub trade_id: Option<i64>,
}

/// An order as the exchange reports it (lookup, open orders, placement, cancel).
///
/// For a cancel response, `client_order_id` is the **order's** id (the wire's
/// `origClientOrderId`) and `cancel_client_order_id` the id of the cancel request.
/// For an ACK placement response (`is_ack`), only ids and `transact_time` come
/// from the exchange; price/quantities/type/side/tif are copied from the request,
/// `status` is `NEW` and `executed_qty` 0 by assumption — query the order for
/// its real state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExchangeOrder {
    pub symbol: String,
    pub order_id: i64,
    pub order_list_id: i64,
    pub client_order_id: String,
    pub cancel_client_order_id: Option<String>,
    pub side: Side,
    pub order_type: OrderType,
    pub status: OrderStatus,
    pub price: Decimal,
    pub orig_qty: Decimal,
    pub executed_qty: Decimal,
    /// Negative on some historical orders, meaning "not available".
    pub cummulative_quote_qty: Decimal,
    pub orig_quote_order_qty: Option<Decimal>,
    /// `None` when absent or `0`.
    pub stop_price: Option<Decimal>,
    pub trailing_delta: Option<u32>,
    pub time_in_force: Option<TimeInForce>,
    /// Creation time (queries) or `transactTime` (placement/cancel), epoch ms.
    pub time: Option<i64>,
    pub update_time: Option<i64>,
    pub transact_time: Option<i64>,
    /// `-1` for an untriggered stop.
    pub working_time: Option<i64>,
    pub is_working: Option<bool>,
    pub expiry_reason: Option<String>,
    /// FULL responses only.
    pub fills: Vec<OrderFill>,
    /// Built from an ACK response (see the type docs).
    pub is_ack: bool,
}

impl ExchangeOrder {
    /// The grid-core view of this order.
    pub fn to_open_order(&self) -> OpenOrder {
        OpenOrder {
            exchange_order_id: self.order_id,
            client_order_id: self.client_order_id.clone(),
            side: self.side,
            order_type: self.order_type,
            price: self.price,
            orig_qty: self.orig_qty,
            executed_qty: self.executed_qty,
            stop_price: self.stop_price,
            trailing_delta: self.trailing_delta,
        }
    }

    /// Quantity still to fill (0 once final).
    pub fn remaining_qty(&self) -> Decimal {
        if self.status.is_final() {
            Decimal::ZERO
        } else {
            (self.orig_qty - self.executed_qty).max(Decimal::ZERO)
        }
    }
}

/// One of the account's trades (`myTrades`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExchangeTrade {
    pub symbol: String,
    pub id: i64,
    pub order_id: i64,
    pub order_list_id: i64,
    pub price: Decimal,
    pub qty: Decimal,
    pub quote_qty: Decimal,
    pub commission: Decimal,
    pub commission_asset: String,
    pub time: i64,
    pub is_buyer: bool,
    pub is_maker: bool,
    pub is_best_match: Option<bool>,
}

impl ExchangeTrade {
    pub fn side(&self) -> Side {
        if self.is_buyer {
            Side::Buy
        } else {
            Side::Sell
        }
    }

    /// The grid-core fill of this trade, for the order with `client_order_id`;
    /// `commission_quote` is the commission valued in the quote asset (0 when unknown).
    pub fn to_fill(&self, client_order_id: &str, commission_quote: Decimal) -> Fill {
        Fill {
            trade_id: self.id,
            exchange_order_id: self.order_id,
            client_order_id: client_order_id.to_string(),
            side: self.side(),
            price: self.price,
            qty: self.qty,
            commission: self.commission,
            commission_asset: self.commission_asset.clone(),
            commission_quote,
        }
    }
}

/// One asset of the account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Balance {
    pub asset: String,
    pub free: Decimal,
    /// Reserved by open orders.
    pub locked: Decimal,
}

/// `commissionRates` of the account (decimal fractions, 0.001 = 0.1 %).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommissionRates {
    pub maker: Decimal,
    pub taker: Decimal,
    pub buyer: Decimal,
    pub seller: Decimal,
}

/// `GET /api/v3/account`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub can_trade: bool,
    pub commission_rates: Option<CommissionRates>,
    pub update_time: Option<i64>,
    pub account_type: Option<String>,
    pub balances: Vec<Balance>,
    pub permissions: Vec<String>,
}

impl Account {
    pub fn balance(&self, asset: &str) -> Option<&Balance> {
        self.balances.iter().find(|b| b.asset == asset)
    }

    /// Free balance of `asset` (0 when the account has none).
    pub fn free(&self, asset: &str) -> Decimal {
        self.balance(asset).map(|b| b.free).unwrap_or(Decimal::ZERO)
    }

    /// Locked balance of `asset` (0 when the account has none).
    pub fn locked(&self, asset: &str) -> Decimal {
        self.balance(asset)
            .map(|b| b.locked)
            .unwrap_or(Decimal::ZERO)
    }
}

/// Kline interval (case-sensitive on the wire).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KlineInterval {
    S1,
    M1,
    M3,
    M5,
    M15,
    M30,
    H1,
    H2,
    H4,
    H6,
    H8,
    H12,
    D1,
    D3,
    W1,
    Mo1,
}

impl KlineInterval {
    pub const ALL: [KlineInterval; 16] = [
        KlineInterval::S1,
        KlineInterval::M1,
        KlineInterval::M3,
        KlineInterval::M5,
        KlineInterval::M15,
        KlineInterval::M30,
        KlineInterval::H1,
        KlineInterval::H2,
        KlineInterval::H4,
        KlineInterval::H6,
        KlineInterval::H8,
        KlineInterval::H12,
        KlineInterval::D1,
        KlineInterval::D3,
        KlineInterval::W1,
        KlineInterval::Mo1,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            KlineInterval::S1 => "1s",
            KlineInterval::M1 => "1m",
            KlineInterval::M3 => "3m",
            KlineInterval::M5 => "5m",
            KlineInterval::M15 => "15m",
            KlineInterval::M30 => "30m",
            KlineInterval::H1 => "1h",
            KlineInterval::H2 => "2h",
            KlineInterval::H4 => "4h",
            KlineInterval::H6 => "6h",
            KlineInterval::H8 => "8h",
            KlineInterval::H12 => "12h",
            KlineInterval::D1 => "1d",
            KlineInterval::D3 => "3d",
            KlineInterval::W1 => "1w",
            KlineInterval::Mo1 => "1M",
        }
    }
}

impl FromStr for KlineInterval {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        KlineInterval::ALL
            .into_iter()
            .find(|i| i.as_str() == s)
            .ok_or_else(|| Error::InvalidRequest(format!("invalid kline interval {s:?}")))
    }
}

/// One kline (candlestick).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kline {
    pub open_time: i64,
    pub open: Decimal,
    pub high: Decimal,
    pub low: Decimal,
    pub close: Decimal,
    pub volume: Decimal,
    pub close_time: i64,
    pub quote_volume: Decimal,
    pub trades: u64,
    pub taker_buy_base_volume: Decimal,
    pub taker_buy_quote_volume: Decimal,
}

/// One `rateLimits` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimit {
    pub rate_limit_type: String,
    pub interval: String,
    pub interval_num: u32,
    pub limit: u64,
}

/// A symbol of `exchangeInfo`, with its rules when they could be built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SymbolInfo {
    pub symbol: String,
    pub status: String,
    pub base_asset: String,
    pub quote_asset: String,
    pub base_asset_precision: Option<u32>,
    pub quote_asset_precision: Option<u32>,
    pub order_types: Vec<String>,
    pub allow_trailing_stop: bool,
    pub is_spot_trading_allowed: bool,
    /// The grid-core rules, or why they could not be built (e.g. no LOT_SIZE).
    pub rules: Result<SymbolRules, String>,
}

/// `GET /api/v3/exchangeInfo`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExchangeInfo {
    pub timezone: Option<String>,
    pub server_time: Option<i64>,
    pub rate_limits: Vec<RateLimit>,
    pub symbols: Vec<SymbolInfo>,
}

impl ExchangeInfo {
    /// The `REQUEST_WEIGHT` limit per 1 MINUTE, if listed.
    pub fn request_weight_per_minute(&self) -> Option<u64> {
        self.rate_limits
            .iter()
            .find(|r| {
                r.rate_limit_type == "REQUEST_WEIGHT"
                    && r.interval == "MINUTE"
                    && r.interval_num == 1
            })
            .map(|r| r.limit)
    }

    pub fn symbol(&self, symbol: &str) -> Option<&SymbolInfo> {
        self.symbols.iter().find(|s| s.symbol == symbol)
    }
}

/// Which symbols `exchangeInfo` should describe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SymbolFilter<'a> {
    All,
    One(&'a str),
    Many(&'a [String]),
}

/// Maker/taker commission pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MakerTaker {
    pub maker: Decimal,
    pub taker: Decimal,
}

/// `POST /api/v3/order/test` result (commissions only with `computeCommissionRates`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TestOrderResult {
    pub standard_commission: Option<MakerTaker>,
    pub special_commission: Option<MakerTaker>,
    pub tax_commission: Option<MakerTaker>,
    pub discount: Option<Decimal>,
    pub discount_asset: Option<String>,
}

#[cfg(test)]
#[path = "tests/types.rs"]
mod tests;
