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
    /// `NEW`: accepted, on the book (or waiting for its trigger).
    New,
    /// `PENDING_NEW`: accepted as part of an order list, not yet working.
    PendingNew,
    /// `PARTIALLY_FILLED`: part of the quantity traded, the rest on the book.
    PartiallyFilled,
    /// `FILLED`: the whole quantity traded.
    Filled,
    /// `CANCELED`: canceled by the account.
    Canceled,
    /// `PENDING_CANCEL`: unused by Binance today; treated as open.
    PendingCancel,
    /// `REJECTED`: not accepted by the engine.
    Rejected,
    /// `EXPIRED`: removed by the exchange (IOC/FOK rules, maintenance).
    Expired,
    /// `EXPIRED_IN_MATCH`: expired by self-trade prevention.
    ExpiredInMatch,
}

impl OrderStatus {
    /// The wire spelling (`PARTIALLY_FILLED`).
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
    /// The wire spelling (`RESULT`).
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
    /// The symbol, e.g. `SOLUSDC`.
    pub symbol: String,
    /// `BUY` or `SELL`.
    pub side: Side,
    /// The order type; decides which other fields are required.
    pub order_type: OrderType,
    /// Base quantity; every type but a MARKET order by `quote_order_qty` needs it.
    pub quantity: Option<Decimal>,
    /// MARKET only: spend/receive this much quote asset instead of `quantity`.
    pub quote_order_qty: Option<Decimal>,
    /// Limit price in quote per base unit (LIMIT, LIMIT_MAKER and the `_LIMIT` stop types).
    pub price: Option<Decimal>,
    /// Time in force of LIMIT and the `_LIMIT` stop types (`GTC` when `None`); refused on other
    /// types.
    pub time_in_force: Option<TimeInForce>,
    /// Trigger price in quote per base unit (stop and take-profit types; optional with
    /// `trailing_delta`).
    pub stop_price: Option<Decimal>,
    /// BIPS (1 = 0.01 %).
    pub trailing_delta: Option<u32>,
    /// `newClientOrderId`, `^[a-zA-Z0-9-_]{1,36}$`; generated by the client when `None`.
    pub new_client_order_id: Option<String>,
    /// `newOrderRespType`; `None`: the client's [`crate::ClientConfig::default_resp_type`].
    pub resp_type: Option<OrderRespType>,
    /// The `timestamp` to sign the request with (exchange clock, epoch ms),
    /// from [`crate::Exchange::order_timestamp`]; `None`: stamped when sent.
    pub timestamp_ms: Option<i64>,
    /// `selfTradePreventionMode`; `None`: not sent (the symbol's default applies).
    pub self_trade_prevention: Option<crate::stp::StpMode>,
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
            self_trade_prevention: None,
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

    /// Sets `timeInForce`.
    pub fn time_in_force(mut self, tif: TimeInForce) -> Self {
        self.time_in_force = Some(tif);
        self
    }

    /// Sets `stopPrice`, the trigger price in quote per base unit.
    pub fn stop_price(mut self, p: Decimal) -> Self {
        self.stop_price = Some(p);
        self
    }

    /// Sets `trailingDelta`, in BIPS (1 = 0.01 %).
    pub fn trailing_delta(mut self, bips: u32) -> Self {
        self.trailing_delta = Some(bips);
        self
    }

    /// Sets `newOrderRespType`.
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
        if let Some(m) = self.self_trade_prevention {
            p.push(("selfTradePreventionMode", m.as_str().to_string()));
        }
        Ok(p)
    }
}

/// One fill of a FULL order response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderFill {
    /// Trade price, in quote per base unit.
    pub price: Decimal,
    /// Base quantity traded.
    pub qty: Decimal,
    /// Fee charged, in `commission_asset`.
    pub commission: Decimal,
    /// Asset the fee was paid in.
    pub commission_asset: String,
    /// The trade's id, when the exchange sends it.
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
    /// The symbol.
    pub symbol: String,
    /// The exchange's order id, unique within the symbol.
    pub order_id: i64,
    /// The order list id; -1 when not in a list.
    pub order_list_id: i64,
    /// The order's clientOrderId (see the type docs for cancel answers).
    pub client_order_id: String,
    /// The cancel request's clientOrderId, in a cancel answer.
    pub cancel_client_order_id: Option<String>,
    /// `BUY` or `SELL`.
    pub side: Side,
    /// The order type.
    pub order_type: OrderType,
    /// The order's status when the exchange answered.
    pub status: OrderStatus,
    /// Limit price in quote per base unit; 0 for an order without one.
    pub price: Decimal,
    /// Base quantity ordered.
    pub orig_qty: Decimal,
    /// Base quantity traded so far, <= `orig_qty`.
    pub executed_qty: Decimal,
    /// Negative on some historical orders, meaning "not available".
    pub cummulative_quote_qty: Decimal,
    /// Quote amount ordered, for a MARKET order by quote.
    pub orig_quote_order_qty: Option<Decimal>,
    /// `None` when absent or `0`.
    pub stop_price: Option<Decimal>,
    /// Trailing delta in BIPS; `None` when absent or `0`.
    pub trailing_delta: Option<u32>,
    /// Time in force, when the type has one.
    pub time_in_force: Option<TimeInForce>,
    /// Creation time (queries) or `transactTime` (placement/cancel), epoch ms.
    pub time: Option<i64>,
    /// Last change of the order, Unix milliseconds.
    pub update_time: Option<i64>,
    /// When the placement or cancel was executed, Unix milliseconds.
    pub transact_time: Option<i64>,
    /// `-1` for an untriggered stop.
    pub working_time: Option<i64>,
    /// Whether the order is on the book (false for an untriggered stop).
    pub is_working: Option<bool>,
    /// Why the order expired, when it did.
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
    /// The symbol.
    pub symbol: String,
    /// The trade's id, unique within the symbol.
    pub id: i64,
    /// The exchange's id of the order that traded.
    pub order_id: i64,
    /// The order list id; -1 when not in a list.
    pub order_list_id: i64,
    /// Trade price, in quote per base unit.
    pub price: Decimal,
    /// Base quantity traded.
    pub qty: Decimal,
    /// `price * qty`, in quote.
    pub quote_qty: Decimal,
    /// Fee charged, in `commission_asset`.
    pub commission: Decimal,
    /// Asset the fee was paid in.
    pub commission_asset: String,
    /// When the trade happened, Unix milliseconds.
    pub time: i64,
    /// Whether the account bought.
    pub is_buyer: bool,
    /// Whether the account's order was the resting one.
    pub is_maker: bool,
    /// Whether the trade was at the best price available, when sent.
    pub is_best_match: Option<bool>,
}

impl ExchangeTrade {
    /// `BUY` when the account bought, else `SELL`.
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
    /// The asset, e.g. `USDC`.
    pub asset: String,
    /// Available amount.
    pub free: Decimal,
    /// Reserved by open orders.
    pub locked: Decimal,
}

/// `commissionRates` of the account (decimal fractions, 0.001 = 0.1 %).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommissionRates {
    /// Fee rate of a maker trade.
    pub maker: Decimal,
    /// Fee rate of a taker trade.
    pub taker: Decimal,
    /// Extra fee rate of a buy (0 when absent).
    pub buyer: Decimal,
    /// Extra fee rate of a sell (0 when absent).
    pub seller: Decimal,
}

/// `GET /api/v3/account`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// Whether the account may trade (false when the exchange does not say).
    pub can_trade: bool,
    /// The fee rates, when the exchange sends them.
    pub commission_rates: Option<CommissionRates>,
    /// Last change of the account, Unix milliseconds.
    pub update_time: Option<i64>,
    /// `SPOT`, …
    pub account_type: Option<String>,
    /// The balances the exchange listed.
    pub balances: Vec<Balance>,
    /// The account's permissions (`SPOT`, …).
    pub permissions: Vec<String>,
}

impl Account {
    /// The balance of `asset`, when listed.
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
    /// `1s`.
    S1,
    /// `1m`.
    M1,
    /// `3m`.
    M3,
    /// `5m`.
    M5,
    /// `15m`.
    M15,
    /// `30m`.
    M30,
    /// `1h`.
    H1,
    /// `2h`.
    H2,
    /// `4h`.
    H4,
    /// `6h`.
    H6,
    /// `8h`.
    H8,
    /// `12h`.
    H12,
    /// `1d`.
    D1,
    /// `3d`.
    D3,
    /// `1w`.
    W1,
    /// `1M` (one month).
    Mo1,
}

impl KlineInterval {
    /// Every interval, shortest first.
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

    /// The wire spelling (`1m`, `1M`).
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
    /// Start of the interval, Unix milliseconds.
    pub open_time: i64,
    /// First trade price of the interval, in quote.
    pub open: Decimal,
    /// Highest trade price, in quote.
    pub high: Decimal,
    /// Lowest trade price, in quote.
    pub low: Decimal,
    /// Last trade price of the interval, in quote.
    pub close: Decimal,
    /// Base volume traded.
    pub volume: Decimal,
    /// End of the interval (inclusive), Unix milliseconds.
    pub close_time: i64,
    /// Quote volume traded.
    pub quote_volume: Decimal,
    /// Number of trades.
    pub trades: u64,
    /// Base volume bought by takers.
    pub taker_buy_base_volume: Decimal,
    /// Quote volume bought by takers.
    pub taker_buy_quote_volume: Decimal,
}

/// One `rateLimits` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimit {
    /// `REQUEST_WEIGHT`, `ORDERS` or `RAW_REQUESTS`.
    pub rate_limit_type: String,
    /// `SECOND`, `MINUTE` or `DAY`.
    pub interval: String,
    /// Number of `interval`s the window spans.
    pub interval_num: u32,
    /// The most allowed in the window.
    pub limit: u64,
}

/// A symbol of `exchangeInfo`, with its rules when they could be built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SymbolInfo {
    /// The symbol, e.g. `SOLUSDC`.
    pub symbol: String,
    /// The status as sent (`TRADING`, …; see [`crate::SymbolStatus`]).
    pub status: String,
    /// The traded asset (`SOL`).
    pub base_asset: String,
    /// The pricing asset (`USDC`).
    pub quote_asset: String,
    /// Decimals the base asset is shown with.
    pub base_asset_precision: Option<u32>,
    /// Decimals the quote asset is shown with.
    pub quote_asset_precision: Option<u32>,
    /// Order types the symbol accepts.
    pub order_types: Vec<String>,
    /// Whether `trailingDelta` orders are allowed (false when not sent).
    pub allow_trailing_stop: bool,
    /// Whether spot trading is allowed (true when not sent).
    pub is_spot_trading_allowed: bool,
    /// The grid-core rules, or why they could not be built (e.g. no LOT_SIZE).
    pub rules: Result<SymbolRules, String>,
    /// Self-trade prevention: the default mode and the allowed ones.
    pub stp: crate::stp::StpModes,
}

/// `GET /api/v3/exchangeInfo`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExchangeInfo {
    /// Timezone of the exchange's times (`UTC`).
    pub timezone: Option<String>,
    /// The exchange's clock when it answered, Unix milliseconds.
    pub server_time: Option<i64>,
    /// The limits in force.
    pub rate_limits: Vec<RateLimit>,
    /// The symbols described.
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

    /// The entry of `symbol`, when described.
    pub fn symbol(&self, symbol: &str) -> Option<&SymbolInfo> {
        self.symbols.iter().find(|s| s.symbol == symbol)
    }
}

/// Which symbols `exchangeInfo` should describe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SymbolFilter<'a> {
    /// Every symbol (a large answer).
    All,
    /// One symbol.
    One(&'a str),
    /// These symbols.
    Many(&'a [String]),
}

/// Maker/taker commission pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MakerTaker {
    /// Rate of a maker trade, a fraction.
    pub maker: Decimal,
    /// Rate of a taker trade, a fraction.
    pub taker: Decimal,
}

/// `POST /api/v3/order/test` result (commissions only with `computeCommissionRates`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TestOrderResult {
    /// The symbol's standard fee rates for this order.
    pub standard_commission: Option<MakerTaker>,
    /// Special fee rates for this order.
    pub special_commission: Option<MakerTaker>,
    /// Tax rates for this order.
    pub tax_commission: Option<MakerTaker>,
    /// The fee discount as a fraction of the standard fee (e.g. `0.25`), when sent.
    pub discount: Option<Decimal>,
    /// Asset the discounted fee is paid in (`BNB`).
    pub discount_asset: Option<String>,
}

#[cfg(test)]
#[path = "tests/types.rs"]
mod tests;
