//! Wire structs ([`crate::models`]) → domain types ([`crate::types`], grid-core).
//!
//! Every function here is pure and total: a bad value becomes
//! [`Error::Decode`] naming the field, never a panic.

use std::collections::HashMap;
use std::str::FromStr;

use grid_core::rules::MAX_MAGNITUDE;
use grid_core::{Decimal, OrderType, PercentPriceBySide, Side, SymbolRules, TimeInForce};
use serde::de::DeserializeOwned;

use crate::decimal::parse_decimal;
use crate::error::Error;
use crate::models::*;
use crate::types::*;

/// Decodes a JSON body into a wire struct.
///
/// # Errors
/// [`Error::Decode`] naming `what`.
pub fn from_json<T: DeserializeOwned>(what: &str, body: &str) -> Result<T, Error> {
    serde_json::from_str(body).map_err(|e| Error::Decode(format!("{what}: {e}")))
}

/// Parses `{"code":..,"msg":..}`, if the body is one.
pub fn api_error(body: &str) -> Option<ApiErrorBody> {
    serde_json::from_str::<ApiErrorBody>(body).ok()
}

fn dec(field: &str, v: &NumStr) -> Result<Decimal, Error> {
    parse_decimal(field, &v.0)
}

fn opt_dec(field: &str, v: &Option<NumStr>) -> Result<Option<Decimal>, Error> {
    v.as_ref().map(|v| dec(field, v)).transpose()
}

fn int<T: FromStr>(field: &str, v: &NumStr) -> Result<T, Error> {
    let t = v.0.trim();
    t.parse::<T>()
        .or_else(|_| {
            // "10.0" or "10.00000000": an integer written as a decimal.
            let d = Decimal::from_str(t).map_err(|_| ())?;
            if d.fract().is_zero() {
                d.trunc().to_string().parse::<T>().map_err(|_| ())
            } else {
                Err(())
            }
        })
        .map_err(|_| Error::Decode(format!("`{field}` is not an integer: {:?}", v.0)))
}

fn req<'a, T>(field: &str, v: &'a Option<T>) -> Result<&'a T, Error> {
    v.as_ref()
        .ok_or_else(|| Error::Decode(format!("missing field `{field}`")))
}

fn enum_field<T: FromStr>(field: &str, v: &str) -> Result<T, Error> {
    v.parse::<T>()
        .map_err(|_| Error::Decode(format!("`{field}` has an unknown value {v:?}")))
}

/// `GET /api/v3/time` → server time (epoch ms).
pub fn server_time(dto: &ServerTimeDto) -> i64 {
    dto.server_time
}

/// Builds grid-core [`SymbolRules`] from a symbol's filters: PRICE_FILTER and
/// LOT_SIZE are required; NOTIONAL (or legacy MIN_NOTIONAL, the larger minimum
/// wins), TRAILING_DELTA, MAX_NUM_ORDERS, MAX_NUM_ALGO_ORDERS and
/// PERCENT_PRICE_BY_SIDE are used when present.
///
/// - A disabled maximum (`0`) or one above grid-core's `MAX_MAGNITUDE` becomes
///   `MAX_MAGNITUDE` (a bound the bot can never reach anyway).
/// - TRAILING_DELTA: the range valid for *both* directions (above and below),
///   so any delta inside it is accepted for every stop type; without the
///   filter, `0..=u32::MAX` (the exchange imposes no range).
/// - MAX_NUM_ORDERS absent: 200 (the production value).
///
/// # Errors
/// A message naming the missing or unusable filter (the rules are then not
/// safe to trade with).
pub fn symbol_rules(s: &SymbolDto) -> Result<SymbolRules, String> {
    symbol_rules_inner(s).map_err(|e| match e {
        Error::Decode(m) => format!("{}: {m}", s.symbol),
        other => format!("{}: {other}", s.symbol),
    })
}

fn clamp_max(v: Decimal) -> Decimal {
    if v <= Decimal::ZERO || v > MAX_MAGNITUDE {
        MAX_MAGNITUDE
    } else {
        v
    }
}

fn symbol_rules_inner(s: &SymbolDto) -> Result<SymbolRules, Error> {
    let mut price = None;
    let mut lot = None;
    let mut min_notional = Decimal::ZERO;
    let mut max_notional = None;
    let mut trailing = None;
    let mut max_num_orders = None;
    let mut max_num_algo_orders = None;
    let mut ppbs = None;
    for f in &s.filters {
        match f {
            FilterDto::PriceFilter {
                min_price,
                max_price,
                tick_size,
            } => {
                price = Some((
                    dec("PRICE_FILTER.minPrice", min_price)?,
                    dec("PRICE_FILTER.maxPrice", max_price)?,
                    dec("PRICE_FILTER.tickSize", tick_size)?,
                ))
            }
            FilterDto::LotSize {
                min_qty,
                max_qty,
                step_size,
            } => {
                lot = Some((
                    dec("LOT_SIZE.minQty", min_qty)?,
                    dec("LOT_SIZE.maxQty", max_qty)?,
                    dec("LOT_SIZE.stepSize", step_size)?,
                ))
            }
            FilterDto::MinNotional {
                min_notional: m, ..
            } => {
                min_notional = min_notional.max(dec("MIN_NOTIONAL.minNotional", m)?);
            }
            FilterDto::Notional {
                min_notional: m,
                max_notional: mx,
                ..
            } => {
                min_notional = min_notional.max(dec("NOTIONAL.minNotional", m)?);
                max_notional = opt_dec("NOTIONAL.maxNotional", mx)?
                    .filter(|v| *v > Decimal::ZERO)
                    .map(clamp_max);
            }
            FilterDto::TrailingDelta {
                min_trailing_above_delta,
                max_trailing_above_delta,
                min_trailing_below_delta,
                max_trailing_below_delta,
            } => {
                let a_min: u32 = int(
                    "TRAILING_DELTA.minTrailingAboveDelta",
                    min_trailing_above_delta,
                )?;
                let a_max: u32 = int(
                    "TRAILING_DELTA.maxTrailingAboveDelta",
                    max_trailing_above_delta,
                )?;
                let b_min: u32 = int(
                    "TRAILING_DELTA.minTrailingBelowDelta",
                    min_trailing_below_delta,
                )?;
                let b_max: u32 = int(
                    "TRAILING_DELTA.maxTrailingBelowDelta",
                    max_trailing_below_delta,
                )?;
                trailing = Some((a_min.max(b_min), a_max.min(b_max)));
            }
            FilterDto::MaxNumOrders { max_num_orders: m } => {
                max_num_orders = Some(int::<u32>("MAX_NUM_ORDERS.maxNumOrders", m)?)
            }
            FilterDto::MaxNumAlgoOrders {
                max_num_algo_orders: m,
            } => max_num_algo_orders = Some(int::<u32>("MAX_NUM_ALGO_ORDERS.maxNumAlgoOrders", m)?),
            FilterDto::PercentPriceBySide {
                bid_multiplier_up,
                bid_multiplier_down,
                ask_multiplier_up,
                ask_multiplier_down,
                avg_price_mins,
            } => {
                ppbs = Some(PercentPriceBySide {
                    bid_multiplier_up: dec(
                        "PERCENT_PRICE_BY_SIDE.bidMultiplierUp",
                        bid_multiplier_up,
                    )?,
                    bid_multiplier_down: dec(
                        "PERCENT_PRICE_BY_SIDE.bidMultiplierDown",
                        bid_multiplier_down,
                    )?,
                    ask_multiplier_up: dec(
                        "PERCENT_PRICE_BY_SIDE.askMultiplierUp",
                        ask_multiplier_up,
                    )?,
                    ask_multiplier_down: dec(
                        "PERCENT_PRICE_BY_SIDE.askMultiplierDown",
                        ask_multiplier_down,
                    )?,
                    avg_price_mins: avg_price_mins
                        .as_ref()
                        .map(|v| int::<u32>("PERCENT_PRICE_BY_SIDE.avgPriceMins", v))
                        .transpose()?
                        .unwrap_or(0),
                })
            }
            FilterDto::MarketLotSize { .. } | FilterDto::PercentPrice { .. } | FilterDto::Other => {
            }
        }
    }
    let (min_price, max_price, tick_size) =
        price.ok_or_else(|| Error::Decode("no PRICE_FILTER".into()))?;
    let (min_qty, max_qty, step_size) = lot.ok_or_else(|| Error::Decode("no LOT_SIZE".into()))?;
    let (trailing_delta_min, trailing_delta_max) = trailing.unwrap_or((0, u32::MAX));
    SymbolRules {
        base_asset: s.base_asset.clone(),
        quote_asset: s.quote_asset.clone(),
        tick_size,
        step_size,
        min_qty,
        max_qty: clamp_max(max_qty),
        min_price,
        max_price: clamp_max(max_price),
        min_notional,
        max_notional,
        trailing_delta_min,
        trailing_delta_max,
        max_num_orders: max_num_orders.unwrap_or(200),
        max_num_algo_orders,
        percent_price_by_side: ppbs,
    }
    .validate()
    .map_err(|e| Error::Decode(e.to_string()))
}

/// `GET /api/v3/exchangeInfo`.
pub fn exchange_info(dto: &ExchangeInfoDto) -> ExchangeInfo {
    ExchangeInfo {
        timezone: dto.timezone.clone(),
        server_time: dto.server_time,
        rate_limits: dto
            .rate_limits
            .iter()
            .map(|r| RateLimit {
                rate_limit_type: r.rate_limit_type.clone(),
                interval: r.interval.clone(),
                interval_num: r.interval_num,
                limit: r.limit,
            })
            .collect(),
        symbols: dto
            .symbols
            .iter()
            .map(|s| SymbolInfo {
                symbol: s.symbol.clone(),
                status: s.status.clone(),
                base_asset: s.base_asset.clone(),
                quote_asset: s.quote_asset.clone(),
                base_asset_precision: s.base_asset_precision,
                quote_asset_precision: s.quote_asset_precision,
                order_types: s.order_types.clone(),
                allow_trailing_stop: s.allow_trailing_stop.unwrap_or(false),
                is_spot_trading_allowed: s.is_spot_trading_allowed.unwrap_or(true),
                rules: symbol_rules(s),
                stp: crate::stp::StpModes::from_info(
                    s.default_self_trade_prevention_mode.as_deref(),
                    &s.allowed_self_trade_prevention_modes,
                ),
            })
            .collect(),
    }
}

/// `GET /api/v3/ticker/price` → symbol → last price.
///
/// # Errors
/// [`Error::Decode`] for a bad price.
pub fn ticker_prices(dto: &TickerPricesDto) -> Result<HashMap<String, Decimal>, Error> {
    let list: &[TickerPriceDto] = match dto {
        TickerPricesDto::One(t) => std::slice::from_ref(t),
        TickerPricesDto::Many(v) => v,
    };
    list.iter()
        .map(|t| {
            Ok((
                t.symbol.clone(),
                dec(&format!("{}.price", t.symbol), &t.price)?,
            ))
        })
        .collect()
}

/// `GET /api/v3/klines` (array of 12-element arrays).
///
/// # Errors
/// [`Error::Decode`] for a row that is not 12 (or at least 11) well-typed values.
pub fn klines(rows: &[Vec<serde_json::Value>]) -> Result<Vec<Kline>, Error> {
    rows.iter()
        .enumerate()
        .map(|(i, r)| {
            if r.len() < 11 {
                return Err(Error::Decode(format!(
                    "kline {i} has {} fields, expected 12",
                    r.len()
                )));
            }
            let d = |j: usize, name: &str| -> Result<Decimal, Error> {
                match r.get(j) {
                    Some(serde_json::Value::String(s)) => {
                        parse_decimal(&format!("kline[{i}].{name}"), s)
                    }
                    Some(serde_json::Value::Number(n)) => {
                        parse_decimal(&format!("kline[{i}].{name}"), &n.to_string())
                    }
                    _ => Err(Error::Decode(format!("kline[{i}].{name} is not a decimal"))),
                }
            };
            let n = |j: usize, name: &str| -> Result<i64, Error> {
                r.get(j)
                    .and_then(serde_json::Value::as_i64)
                    .ok_or_else(|| Error::Decode(format!("kline[{i}].{name} is not an integer")))
            };
            Ok(Kline {
                open_time: n(0, "openTime")?,
                open: d(1, "open")?,
                high: d(2, "high")?,
                low: d(3, "low")?,
                close: d(4, "close")?,
                volume: d(5, "volume")?,
                close_time: n(6, "closeTime")?,
                quote_volume: d(7, "quoteVolume")?,
                trades: u64::try_from(n(8, "trades")?)
                    .map_err(|_| Error::Decode(format!("kline[{i}].trades is negative")))?,
                taker_buy_base_volume: d(9, "takerBuyBaseVolume")?,
                taker_buy_quote_volume: d(10, "takerBuyQuoteVolume")?,
            })
        })
        .collect()
}

/// `GET /api/v3/account`.
///
/// # Errors
/// [`Error::Decode`] for a bad balance or rate.
pub fn account(dto: &AccountDto) -> Result<Account, Error> {
    let commission_rates = dto
        .commission_rates
        .as_ref()
        .map(|c| -> Result<CommissionRates, Error> {
            Ok(CommissionRates {
                maker: dec("commissionRates.maker", &c.maker)?,
                taker: dec("commissionRates.taker", &c.taker)?,
                buyer: opt_dec("commissionRates.buyer", &c.buyer)?.unwrap_or(Decimal::ZERO),
                seller: opt_dec("commissionRates.seller", &c.seller)?.unwrap_or(Decimal::ZERO),
            })
        })
        .transpose()?;
    let balances = dto
        .balances
        .iter()
        .map(|b| {
            Ok(Balance {
                asset: b.asset.clone(),
                free: dec(&format!("balances.{}.free", b.asset), &b.free)?,
                locked: dec(&format!("balances.{}.locked", b.asset), &b.locked)?,
            })
        })
        .collect::<Result<Vec<_>, Error>>()?;
    Ok(Account {
        can_trade: dto.can_trade.unwrap_or(false),
        commission_rates,
        update_time: dto.update_time,
        account_type: dto.account_type.clone(),
        balances,
        permissions: dto.permissions.clone(),
    })
}

/// An order object. `request` is the placed order, used only to complete an
/// ACK response (which carries no state); every other response must be complete.
///
/// # Errors
/// [`Error::Decode`] for a missing or malformed field.
pub fn order(dto: &OrderDto, request: Option<&NewOrder>) -> Result<ExchangeOrder, Error> {
    let is_ack = dto.status.is_none() && dto.side.is_none() && dto.order_type.is_none();
    if is_ack {
        let Some(r) = request else {
            return Err(Error::Decode(format!(
                "order {} carries no status/side/type",
                dto.order_id
            )));
        };
        return Ok(ExchangeOrder {
            symbol: dto.symbol.clone(),
            order_id: dto.order_id,
            order_list_id: dto.order_list_id.unwrap_or(-1),
            client_order_id: dto.client_order_id.clone(),
            cancel_client_order_id: None,
            side: r.side,
            order_type: r.order_type,
            status: OrderStatus::New,
            price: r.price.unwrap_or(Decimal::ZERO),
            orig_qty: r.quantity.unwrap_or(Decimal::ZERO),
            executed_qty: Decimal::ZERO,
            cummulative_quote_qty: Decimal::ZERO,
            orig_quote_order_qty: r.quote_order_qty,
            stop_price: r.stop_price,
            trailing_delta: r.trailing_delta,
            time_in_force: r.time_in_force,
            time: dto.transact_time,
            update_time: dto.transact_time,
            transact_time: dto.transact_time,
            working_time: None,
            is_working: None,
            expiry_reason: None,
            fills: Vec::new(),
            is_ack: true,
        });
    }
    let status: OrderStatus = enum_field("status", req("status", &dto.status)?)?;
    let side: Side = enum_field("side", req("side", &dto.side)?)?;
    let order_type: OrderType = enum_field("type", req("type", &dto.order_type)?)?;
    let time_in_force: Option<TimeInForce> = dto
        .time_in_force
        .as_deref()
        .map(|t| enum_field("timeInForce", t))
        .transpose()?;
    let stop_price = opt_dec("stopPrice", &dto.stop_price)?.filter(|p| !p.is_zero());
    let trailing_delta = dto
        .trailing_delta
        .as_ref()
        .map(|v| int::<u32>("trailingDelta", v))
        .transpose()?
        .filter(|d| *d != 0);
    let fills = dto
        .fills
        .as_deref()
        .unwrap_or_default()
        .iter()
        .map(|f| {
            Ok(OrderFill {
                price: dec("fills.price", &f.price)?,
                qty: dec("fills.qty", &f.qty)?,
                commission: dec("fills.commission", &f.commission)?,
                commission_asset: f.commission_asset.clone(),
                trade_id: f.trade_id,
            })
        })
        .collect::<Result<Vec<_>, Error>>()?;
    // In a cancel report `clientOrderId` names the cancel; the order is `origClientOrderId`.
    let (client_order_id, cancel_client_order_id) = match &dto.orig_client_order_id {
        Some(orig) => (orig.clone(), Some(dto.client_order_id.clone())),
        None => (dto.client_order_id.clone(), None),
    };
    Ok(ExchangeOrder {
        symbol: dto.symbol.clone(),
        order_id: dto.order_id,
        order_list_id: dto.order_list_id.unwrap_or(-1),
        client_order_id,
        cancel_client_order_id,
        side,
        order_type,
        status,
        price: dec("price", req("price", &dto.price)?)?,
        orig_qty: dec("origQty", req("origQty", &dto.orig_qty)?)?,
        executed_qty: dec("executedQty", req("executedQty", &dto.executed_qty)?)?,
        cummulative_quote_qty: opt_dec("cummulativeQuoteQty", &dto.cummulative_quote_qty)?
            .unwrap_or(Decimal::ZERO),
        orig_quote_order_qty: opt_dec("origQuoteOrderQty", &dto.orig_quote_order_qty)?,
        stop_price,
        trailing_delta,
        time_in_force,
        time: dto.time.or(dto.transact_time),
        update_time: dto.update_time.or(dto.transact_time),
        transact_time: dto.transact_time,
        working_time: dto.working_time,
        is_working: dto.is_working,
        expiry_reason: dto.expiry_reason.clone(),
        fills,
        is_ack: false,
    })
}

/// `DELETE /api/v3/openOrders`: cancel reports, where an order list appears as
/// an object with `orderReports`; its reports are flattened in.
///
/// # Errors
/// [`Error::Decode`] for an element that is neither.
pub fn cancel_all(items: &[serde_json::Value]) -> Result<Vec<ExchangeOrder>, Error> {
    let mut out = Vec::new();
    for item in items {
        if let Some(reports) = item.get("orderReports").and_then(|r| r.as_array()) {
            for r in reports {
                let dto: OrderDto = serde_json::from_value(r.clone())
                    .map_err(|e| Error::Decode(format!("cancel report: {e}")))?;
                out.push(order(&dto, None)?);
            }
        } else {
            let dto: OrderDto = serde_json::from_value(item.clone())
                .map_err(|e| Error::Decode(format!("cancel report: {e}")))?;
            out.push(order(&dto, None)?);
        }
    }
    Ok(out)
}

/// `GET /api/v3/myTrades` element.
///
/// # Errors
/// [`Error::Decode`] for a bad decimal.
pub fn trade(dto: &TradeDto) -> Result<ExchangeTrade, Error> {
    Ok(ExchangeTrade {
        symbol: dto.symbol.clone(),
        id: dto.id,
        order_id: dto.order_id,
        order_list_id: dto.order_list_id.unwrap_or(-1),
        price: dec("price", &dto.price)?,
        qty: dec("qty", &dto.qty)?,
        quote_qty: dec("quoteQty", &dto.quote_qty)?,
        commission: dec("commission", &dto.commission)?,
        commission_asset: dto.commission_asset.clone(),
        time: dto.time,
        is_buyer: dto.is_buyer,
        is_maker: dto.is_maker,
        is_best_match: dto.is_best_match,
    })
}

/// `POST /api/v3/order/test`.
///
/// # Errors
/// [`Error::Decode`] for a bad decimal.
pub fn test_order(dto: &TestOrderDto) -> Result<TestOrderResult, Error> {
    let mt = |name: &str, v: &Option<MakerTakerDto>| -> Result<Option<MakerTaker>, Error> {
        v.as_ref()
            .map(|m| {
                Ok(MakerTaker {
                    maker: dec(&format!("{name}.maker"), &m.maker)?,
                    taker: dec(&format!("{name}.taker"), &m.taker)?,
                })
            })
            .transpose()
    };
    Ok(TestOrderResult {
        standard_commission: mt(
            "standardCommissionForOrder",
            &dto.standard_commission_for_order,
        )?,
        special_commission: mt(
            "specialCommissionForOrder",
            &dto.special_commission_for_order,
        )?,
        tax_commission: mt("taxCommissionForOrder", &dto.tax_commission_for_order)?,
        discount: dto
            .discount
            .as_ref()
            .map(|d| dec("discount.discount", &d.discount))
            .transpose()?,
        discount_asset: dto.discount.as_ref().map(|d| d.discount_asset.clone()),
    })
}
