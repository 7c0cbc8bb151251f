//! The user-data stream's events, typed (binance-ws.md §2, Binance's
//! `user-data-stream.md`), and the frames of the WebSocket API they come in.
//!
//! Invariants:
//! - every decimal is an exact [`Decimal`] parsed from the wire text, never a float;
//! - a field the bot relies on that is missing or malformed is an
//!   [`Error::Decode`] naming it, never a default;
//! - an event type this client does not know is [`UserEvent::Unknown`] with the
//!   event's JSON text, never an error and never dropped.

use grid_core::{Decimal, Fill, OrderType, Side};
use serde::Deserialize;

use crate::decimal::parse_decimal;
use crate::error::Error;
use crate::models::NumStr;
use crate::types::{Balance, ExchangeTrade, OrderStatus};

/// One event of the user-data stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserEvent {
    /// `executionReport`: an order changed (placed, traded, canceled, expired, …).
    ExecutionReport(Box<ExecutionReport>),
    /// `outboundAccountPosition`: the balances an account change touched.
    OutboundAccountPosition(AccountPosition),
    /// `balanceUpdate`: a deposit, withdrawal or transfer.
    BalanceUpdate(BalanceUpdate),
    /// `eventStreamTerminated`: the subscription ended (unsubscribe, logout).
    /// No more events come on it: reconnect and sweep.
    EventStreamTerminated {
        /// `E`, Unix milliseconds.
        event_time: i64,
    },
    /// `serverShutdown`: the server is about to close the connection:
    /// reconnect (a new connection) and sweep.
    ServerShutdown {
        /// `E`, Unix milliseconds.
        event_time: i64,
    },
    /// An event type this client does not know (`listStatus`,
    /// `externalLockUpdate`, anything new): the event object's JSON text.
    Unknown(String),
}

impl UserEvent {
    /// The wire name of the event type (`executionReport`, …); for
    /// [`UserEvent::Unknown`] the `e` of the JSON, or `?` without one.
    pub fn kind(&self) -> String {
        match self {
            UserEvent::ExecutionReport(_) => "executionReport".into(),
            UserEvent::OutboundAccountPosition(_) => "outboundAccountPosition".into(),
            UserEvent::BalanceUpdate(_) => "balanceUpdate".into(),
            UserEvent::EventStreamTerminated { .. } => "eventStreamTerminated".into(),
            UserEvent::ServerShutdown { .. } => "serverShutdown".into(),
            UserEvent::Unknown(raw) => serde_json::from_str::<serde_json::Value>(raw)
                .ok()
                .and_then(|v| v.get("e").and_then(|e| e.as_str()).map(str::to_string))
                .unwrap_or_else(|| "?".into()),
        }
    }
}

/// `x`, the execution type of an [`ExecutionReport`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ExecutionType {
    /// `NEW`: accepted by the engine.
    New,
    /// `CANCELED`: canceled by the account.
    Canceled,
    /// `REPLACED`: amended (order.amend.keepPriority).
    Replaced,
    /// `REJECTED`: rejected (cancel-replace whose new order failed).
    Rejected,
    /// `TRADE`: part or all of the order traded: a fill.
    Trade,
    /// `EXPIRED`: canceled by the order type's rules or by the exchange.
    Expired,
    /// `TRADE_PREVENTION`: expired by self-trade prevention (status `EXPIRED_IN_MATCH`).
    TradePrevention,
    /// A value this client does not know, as sent (the order's status `X` still tells its state).
    Other(String),
}

impl ExecutionType {
    fn parse(s: &str) -> ExecutionType {
        match s {
            "NEW" => ExecutionType::New,
            "CANCELED" => ExecutionType::Canceled,
            "REPLACED" => ExecutionType::Replaced,
            "REJECTED" => ExecutionType::Rejected,
            "TRADE" => ExecutionType::Trade,
            "EXPIRED" => ExecutionType::Expired,
            "TRADE_PREVENTION" => ExecutionType::TradePrevention,
            other => ExecutionType::Other(other.to_string()),
        }
    }

    /// The wire spelling.
    pub fn as_str(&self) -> &str {
        match self {
            ExecutionType::New => "NEW",
            ExecutionType::Canceled => "CANCELED",
            ExecutionType::Replaced => "REPLACED",
            ExecutionType::Rejected => "REJECTED",
            ExecutionType::Trade => "TRADE",
            ExecutionType::Expired => "EXPIRED",
            ExecutionType::TradePrevention => "TRADE_PREVENTION",
            ExecutionType::Other(s) => s,
        }
    }
}

/// `executionReport`, field by field (wire key in brackets).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecutionReport {
    /// `E` event time, Unix ms.
    pub event_time: i64,
    /// `s`.
    pub symbol: String,
    /// `c` client order id: the order's own id, **except** on a cancel, where
    /// it is the cancel request's id and the order's is
    /// [`ExecutionReport::orig_client_order_id`]; see [`ExecutionReport::order_client_id`].
    pub client_order_id: String,
    /// `S`.
    pub side: Side,
    /// `o`.
    pub order_type: OrderType,
    /// `f` time in force, as sent (`GTC`, …).
    pub time_in_force: String,
    /// `q` base quantity ordered.
    pub orig_qty: Decimal,
    /// `p` limit price (0 for a MARKET order).
    pub price: Decimal,
    /// `P` stop price (0 without one).
    pub stop_price: Decimal,
    /// `F` iceberg quantity (0 when absent).
    pub iceberg_qty: Decimal,
    /// `g` order list id, -1 outside a list.
    pub order_list_id: i64,
    /// `C` original client order id: the order a cancel canceled; `None` when empty.
    pub orig_client_order_id: Option<String>,
    /// `x`.
    pub execution_type: ExecutionType,
    /// `X` the order's status after this event.
    pub status: OrderStatus,
    /// `r` reject reason (`NONE` when none).
    pub reject_reason: String,
    /// `i` the exchange's order id.
    pub order_id: i64,
    /// `l` base quantity of this trade (0 unless `x` is TRADE).
    pub last_qty: Decimal,
    /// `z` base quantity traded so far.
    pub cumulative_qty: Decimal,
    /// `L` price of this trade.
    pub last_price: Decimal,
    /// `n` commission of this trade, in `commission_asset`.
    pub commission: Decimal,
    /// `N` the commission's asset (`None` when no trade).
    pub commission_asset: Option<String>,
    /// `T` transaction time, Unix ms.
    pub transaction_time: i64,
    /// `t` trade id; `None` when -1 (no trade).
    pub trade_id: Option<i64>,
    /// `v` prevented match id (self-trade prevention).
    pub prevented_match_id: Option<i64>,
    /// `I` execution id.
    pub execution_id: Option<i64>,
    /// `w` whether the order is on the book.
    pub is_working: bool,
    /// `m` whether this trade was the maker side.
    pub is_maker: bool,
    /// `O` order creation time, Unix ms.
    pub order_creation_time: i64,
    /// `Z` cumulative quote quantity.
    pub cumulative_quote_qty: Decimal,
    /// `Y` quote quantity of this trade (`L * l`).
    pub last_quote_qty: Decimal,
    /// `Q` quote order quantity (0 when not ordered by quote).
    pub quote_order_qty: Decimal,
    /// `W` working time, when placed on the book.
    pub working_time: Option<i64>,
    /// `V` self-trade prevention mode, as sent.
    pub stp_mode: Option<String>,
    /// `A` prevented quantity (self-trade prevention): base quantity that will never trade.
    pub prevented_qty: Option<Decimal>,
    /// `B` last prevented quantity.
    pub last_prevented_qty: Option<Decimal>,
    /// `eR` expiry reason.
    pub expiry_reason: Option<String>,
}

impl ExecutionReport {
    /// The client order id of the order this event is about: `C` on a cancel
    /// (when sent), else `c`.
    pub fn order_client_id(&self) -> &str {
        match (&self.execution_type, &self.orig_client_order_id) {
            (ExecutionType::Canceled, Some(orig)) => orig,
            _ => &self.client_order_id,
        }
    }

    /// For a `TRADE`, the trade as `myTrades` reports it, so a fill from the
    /// stream is recorded by the same path (and deduplicated by trade id).
    /// `None` for any other execution type.
    pub fn trade(&self) -> Option<ExchangeTrade> {
        if self.execution_type != ExecutionType::Trade {
            return None;
        }
        Some(ExchangeTrade {
            symbol: self.symbol.clone(),
            id: self.trade_id?,
            order_id: self.order_id,
            order_list_id: self.order_list_id,
            price: self.last_price,
            qty: self.last_qty,
            quote_qty: self.last_quote_qty,
            commission: self.commission,
            commission_asset: self.commission_asset.clone()?,
            time: self.transaction_time,
            is_buyer: self.side == Side::Buy,
            is_maker: self.is_maker,
            is_best_match: None,
        })
    }

    /// For a `TRADE`, the grid-core fill (client order id `c`);
    /// `commission_quote` as for [`ExchangeTrade::to_fill`].
    pub fn to_fill(&self, commission_quote: Decimal) -> Option<Fill> {
        self.trade()
            .map(|t| t.to_fill(&self.client_order_id, commission_quote))
    }
}

/// `outboundAccountPosition`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountPosition {
    /// `E` event time, Unix ms.
    pub event_time: i64,
    /// `u` time of the last account update, Unix ms.
    pub last_update_time: i64,
    /// `B` the balances that may have changed (free and locked).
    pub balances: Vec<Balance>,
}

/// `balanceUpdate`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BalanceUpdate {
    /// `E` event time, Unix ms.
    pub event_time: i64,
    /// `a`.
    pub asset: String,
    /// `d` signed change of the balance.
    pub delta: Decimal,
    /// `T` clear time, Unix ms.
    pub clear_time: i64,
}

#[derive(Deserialize)]
struct ExecutionReportDto {
    #[serde(rename = "E")]
    event_time: i64,
    #[serde(rename = "s")]
    symbol: String,
    #[serde(rename = "c")]
    client_order_id: String,
    #[serde(rename = "S")]
    side: String,
    #[serde(rename = "o")]
    order_type: String,
    #[serde(rename = "f", default)]
    time_in_force: Option<String>,
    #[serde(rename = "q")]
    orig_qty: NumStr,
    #[serde(rename = "p")]
    price: NumStr,
    #[serde(rename = "P", default)]
    stop_price: Option<NumStr>,
    #[serde(rename = "F", default)]
    iceberg_qty: Option<NumStr>,
    #[serde(rename = "g")]
    order_list_id: i64,
    #[serde(rename = "C", default)]
    orig_client_order_id: Option<String>,
    #[serde(rename = "x")]
    execution_type: String,
    #[serde(rename = "X")]
    status: String,
    #[serde(rename = "r", default)]
    reject_reason: Option<String>,
    #[serde(rename = "i")]
    order_id: i64,
    #[serde(rename = "l")]
    last_qty: NumStr,
    #[serde(rename = "z")]
    cumulative_qty: NumStr,
    #[serde(rename = "L")]
    last_price: NumStr,
    #[serde(rename = "n")]
    commission: NumStr,
    #[serde(rename = "N", default)]
    commission_asset: Option<String>,
    #[serde(rename = "T")]
    transaction_time: i64,
    #[serde(rename = "t")]
    trade_id: i64,
    #[serde(rename = "v", default)]
    prevented_match_id: Option<i64>,
    #[serde(rename = "I", default)]
    execution_id: Option<i64>,
    #[serde(rename = "w")]
    is_working: bool,
    #[serde(rename = "m")]
    is_maker: bool,
    #[serde(rename = "O")]
    order_creation_time: i64,
    #[serde(rename = "Z")]
    cumulative_quote_qty: NumStr,
    #[serde(rename = "Y")]
    last_quote_qty: NumStr,
    #[serde(rename = "Q", default)]
    quote_order_qty: Option<NumStr>,
    #[serde(rename = "W", default)]
    working_time: Option<i64>,
    #[serde(rename = "V", default)]
    stp_mode: Option<String>,
    #[serde(rename = "A", default)]
    prevented_qty: Option<NumStr>,
    #[serde(rename = "B", default)]
    last_prevented_qty: Option<NumStr>,
    #[serde(rename = "eR", default)]
    expiry_reason: Option<String>,
}

#[derive(Deserialize)]
struct BalanceDto {
    a: String,
    f: NumStr,
    l: NumStr,
}

#[derive(Deserialize)]
struct AccountPositionDto {
    #[serde(rename = "E")]
    event_time: i64,
    u: i64,
    #[serde(rename = "B")]
    balances: Vec<BalanceDto>,
}

#[derive(Deserialize)]
struct BalanceUpdateDto {
    #[serde(rename = "E")]
    event_time: i64,
    a: String,
    d: NumStr,
    #[serde(rename = "T")]
    clear_time: i64,
}

#[derive(Deserialize)]
struct TimeOnlyDto {
    #[serde(rename = "E")]
    event_time: i64,
}

fn dec(what: &str, field: &str, v: &NumStr) -> Result<Decimal, Error> {
    parse_decimal(&format!("{what}.{field}"), &v.0)
}

fn opt_dec(what: &str, field: &str, v: &Option<NumStr>) -> Result<Option<Decimal>, Error> {
    v.as_ref().map(|v| dec(what, field, v)).transpose()
}

fn decode<T: serde::de::DeserializeOwned>(what: &str, v: serde_json::Value) -> Result<T, Error> {
    serde_json::from_value(v).map_err(|e| Error::Decode(format!("{what}: {e}")))
}

const ER: &str = "executionReport";

fn enum_field<T: std::str::FromStr>(field: &str, v: &str) -> Result<T, Error> {
    v.parse()
        .map_err(|_| Error::Decode(format!("{ER}.{field} has an unknown value {v:?}")))
}

fn execution_report(d: ExecutionReportDto) -> Result<ExecutionReport, Error> {
    let side: Side = enum_field("S", &d.side)?;
    let order_type: OrderType = enum_field("o", &d.order_type)?;
    let status: OrderStatus = enum_field("X", &d.status)?;
    let execution_type = ExecutionType::parse(&d.execution_type);
    let trade_id = (d.trade_id >= 0).then_some(d.trade_id);
    let commission_asset = d.commission_asset.filter(|a| !a.is_empty());
    if execution_type == ExecutionType::Trade {
        // A fill without these cannot be recorded; never invent them.
        if trade_id.is_none() {
            return Err(Error::Decode(format!(
                "{ER} TRADE for order {} has no trade id (t = {})",
                d.order_id, d.trade_id
            )));
        }
        if commission_asset.is_none() {
            return Err(Error::Decode(format!(
                "{ER} TRADE {} for order {} has no commission asset (N)",
                d.trade_id, d.order_id
            )));
        }
    }
    let zero_if_absent = |field: &str, v: &Option<NumStr>| -> Result<Decimal, Error> {
        Ok(opt_dec(ER, field, v)?.unwrap_or(Decimal::ZERO))
    };
    Ok(ExecutionReport {
        event_time: d.event_time,
        symbol: d.symbol,
        client_order_id: d.client_order_id,
        side,
        order_type,
        time_in_force: d.time_in_force.unwrap_or_default(),
        orig_qty: dec(ER, "q", &d.orig_qty)?,
        price: dec(ER, "p", &d.price)?,
        stop_price: zero_if_absent("P", &d.stop_price)?,
        iceberg_qty: zero_if_absent("F", &d.iceberg_qty)?,
        order_list_id: d.order_list_id,
        orig_client_order_id: d.orig_client_order_id.filter(|c| !c.is_empty()),
        execution_type,
        status,
        reject_reason: d.reject_reason.unwrap_or_else(|| "NONE".into()),
        order_id: d.order_id,
        last_qty: dec(ER, "l", &d.last_qty)?,
        cumulative_qty: dec(ER, "z", &d.cumulative_qty)?,
        last_price: dec(ER, "L", &d.last_price)?,
        commission: dec(ER, "n", &d.commission)?,
        commission_asset,
        transaction_time: d.transaction_time,
        trade_id,
        prevented_match_id: d.prevented_match_id,
        execution_id: d.execution_id,
        is_working: d.is_working,
        is_maker: d.is_maker,
        order_creation_time: d.order_creation_time,
        cumulative_quote_qty: dec(ER, "Z", &d.cumulative_quote_qty)?,
        last_quote_qty: dec(ER, "Y", &d.last_quote_qty)?,
        quote_order_qty: zero_if_absent("Q", &d.quote_order_qty)?,
        working_time: d.working_time,
        stp_mode: d.stp_mode,
        prevented_qty: opt_dec(ER, "A", &d.prevented_qty)?,
        last_prevented_qty: opt_dec(ER, "B", &d.last_prevented_qty)?,
        expiry_reason: d.expiry_reason,
    })
}

/// Parses one event object (the `event` of the envelope).
///
/// # Errors
/// [`Error::Decode`] naming the field when a known event is malformed; an
/// unknown event type is `Ok(UserEvent::Unknown)`.
pub fn parse_event(event: serde_json::Value) -> Result<UserEvent, Error> {
    let kind = event.get("e").and_then(|e| e.as_str()).map(str::to_string);
    Ok(match kind.as_deref() {
        Some("executionReport") => {
            UserEvent::ExecutionReport(Box::new(execution_report(decode(ER, event)?)?))
        }
        Some("outboundAccountPosition") => {
            let d: AccountPositionDto = decode("outboundAccountPosition", event)?;
            let balances = d
                .balances
                .iter()
                .map(|b| {
                    Ok(Balance {
                        asset: b.a.clone(),
                        free: dec("outboundAccountPosition", "f", &b.f)?,
                        locked: dec("outboundAccountPosition", "l", &b.l)?,
                    })
                })
                .collect::<Result<Vec<_>, Error>>()?;
            UserEvent::OutboundAccountPosition(AccountPosition {
                event_time: d.event_time,
                last_update_time: d.u,
                balances,
            })
        }
        Some("balanceUpdate") => {
            let d: BalanceUpdateDto = decode("balanceUpdate", event)?;
            UserEvent::BalanceUpdate(BalanceUpdate {
                event_time: d.event_time,
                delta: dec("balanceUpdate", "d", &d.d)?,
                asset: d.a,
                clear_time: d.clear_time,
            })
        }
        Some("eventStreamTerminated") => {
            let d: TimeOnlyDto = decode("eventStreamTerminated", event)?;
            UserEvent::EventStreamTerminated {
                event_time: d.event_time,
            }
        }
        Some("serverShutdown") => {
            let d: TimeOnlyDto = decode("serverShutdown", event)?;
            UserEvent::ServerShutdown {
                event_time: d.event_time,
            }
        }
        _ => UserEvent::Unknown(event.to_string()),
    })
}

/// A text frame of the WebSocket API.
#[derive(Debug, Clone, PartialEq)]
pub enum Frame {
    /// `{"subscriptionId":N,"event":{…}}` (`subscriptionId` absent on `serverShutdown`).
    Event {
        /// The subscription it belongs to, when sent.
        subscription_id: Option<i64>,
        /// The event.
        event: UserEvent,
    },
    /// `{"id":…,"status":…,"result"|"error":…}`, the answer to a request.
    Response {
        /// The request's `id` as sent back (`null` for an unsolicited error).
        id: serde_json::Value,
        /// HTTP-like status (200 on success).
        status: u16,
        /// `result` on success.
        result: Option<serde_json::Value>,
        /// `error.code`, `error.msg` and `error.data` on failure.
        error: Option<ResponseError>,
    },
}

/// `error` of a WebSocket API response.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ResponseError {
    /// Binance's error code.
    pub code: i64,
    /// Binance's message.
    #[serde(default)]
    pub msg: String,
    /// Extra data (`retryAfter`, `serverTime` on 418/429).
    #[serde(default)]
    pub data: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct ResponseDto {
    #[serde(default)]
    id: serde_json::Value,
    status: u16,
    #[serde(default)]
    result: Option<serde_json::Value>,
    #[serde(default)]
    error: Option<ResponseError>,
}

/// Parses a text frame: an event envelope or a response.
///
/// # Errors
/// [`Error::Decode`] when the text is not JSON, is neither shape, or holds a
/// malformed known event.
pub fn parse_frame(text: &str) -> Result<Frame, Error> {
    let mut v: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| Error::Decode(format!("WebSocket API frame is not JSON: {e}")))?;
    if let Some(event) = v.get_mut("event").map(serde_json::Value::take) {
        let subscription_id = v.get("subscriptionId").and_then(|s| s.as_i64());
        return Ok(Frame::Event {
            subscription_id,
            event: parse_event(event)?,
        });
    }
    if v.get("status").is_some() {
        let d: ResponseDto = decode("WebSocket API response", v)?;
        return Ok(Frame::Response {
            id: d.id,
            status: d.status,
            result: d.result,
            error: d.error,
        });
    }
    Err(Error::Decode(
        "WebSocket API frame is neither an event nor a response".into(),
    ))
}

#[cfg(test)]
#[path = "tests_event.rs"]
mod tests;
