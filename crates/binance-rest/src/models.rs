//! Wire structs: the JSON exactly as Binance sends it (binance-api.md §6).
//!
//! Decimals stay text here ([`NumStr`]); [`crate::parse`] turns them into
//! `Decimal`s and domain types, naming the field when a value is bad. Unknown
//! fields are ignored (Binance adds fields without notice); fields the bot
//! depends on are mandatory, others optional.

use serde::{Deserialize, Deserializer};

/// A numeric value as its text: accepts a JSON string (`"0.1"`) or a JSON number
/// (`5`), so a filter field sent either way decodes. Never goes through `f64`
/// for strings.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NumStr(pub String);

impl<'de> Deserialize<'de> for NumStr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match serde_json::Value::deserialize(d)? {
            serde_json::Value::String(s) => Ok(NumStr(s)),
            serde_json::Value::Number(n) => Ok(NumStr(n.to_string())),
            other => Err(serde::de::Error::custom(format!(
                "expected a number or a numeric string, got {other}"
            ))),
        }
    }
}

/// `{"code": -1121, "msg": "Invalid symbol."}` (cancelReplace adds `data`).
#[derive(Debug, Clone, Deserialize)]
pub struct ApiErrorBody {
    pub code: i64,
    #[serde(default)]
    pub msg: String,
}

/// `GET /api/v3/time`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerTimeDto {
    pub server_time: i64,
}

/// `GET /api/v3/exchangeInfo`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExchangeInfoDto {
    #[serde(default)]
    pub timezone: Option<String>,
    #[serde(default)]
    pub server_time: Option<i64>,
    #[serde(default)]
    pub rate_limits: Vec<RateLimitDto>,
    #[serde(default)]
    pub exchange_filters: Vec<serde_json::Value>,
    pub symbols: Vec<SymbolDto>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RateLimitDto {
    pub rate_limit_type: String,
    pub interval: String,
    pub interval_num: u32,
    pub limit: u64,
    #[serde(default)]
    pub count: Option<u64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SymbolDto {
    pub symbol: String,
    pub status: String,
    pub base_asset: String,
    #[serde(default)]
    pub base_asset_precision: Option<u32>,
    pub quote_asset: String,
    #[serde(default)]
    pub quote_asset_precision: Option<u32>,
    #[serde(default)]
    pub order_types: Vec<String>,
    #[serde(default)]
    pub iceberg_allowed: Option<bool>,
    #[serde(default)]
    pub oco_allowed: Option<bool>,
    #[serde(default)]
    pub allow_trailing_stop: Option<bool>,
    #[serde(default)]
    pub cancel_replace_allowed: Option<bool>,
    #[serde(default)]
    pub is_spot_trading_allowed: Option<bool>,
    #[serde(default)]
    pub filters: Vec<FilterDto>,
    #[serde(default)]
    pub default_self_trade_prevention_mode: Option<String>,
    #[serde(default)]
    pub allowed_self_trade_prevention_modes: Vec<String>,
}

/// One entry of `symbols[].filters` (§8). Filters the bot does not use decode as `Other`.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "filterType", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FilterDto {
    #[serde(rename_all = "camelCase")]
    PriceFilter {
        min_price: NumStr,
        max_price: NumStr,
        tick_size: NumStr,
    },
    #[serde(rename_all = "camelCase")]
    LotSize {
        min_qty: NumStr,
        max_qty: NumStr,
        step_size: NumStr,
    },
    #[serde(rename_all = "camelCase")]
    MarketLotSize {
        min_qty: NumStr,
        max_qty: NumStr,
        step_size: NumStr,
    },
    #[serde(rename_all = "camelCase")]
    MinNotional {
        min_notional: NumStr,
        #[serde(default)]
        apply_to_market: Option<bool>,
        #[serde(default)]
        avg_price_mins: Option<NumStr>,
    },
    #[serde(rename_all = "camelCase")]
    Notional {
        min_notional: NumStr,
        #[serde(default)]
        apply_min_to_market: Option<bool>,
        #[serde(default)]
        max_notional: Option<NumStr>,
        #[serde(default)]
        apply_max_to_market: Option<bool>,
        #[serde(default)]
        avg_price_mins: Option<NumStr>,
    },
    #[serde(rename_all = "camelCase")]
    TrailingDelta {
        min_trailing_above_delta: NumStr,
        max_trailing_above_delta: NumStr,
        min_trailing_below_delta: NumStr,
        max_trailing_below_delta: NumStr,
    },
    #[serde(rename_all = "camelCase")]
    MaxNumOrders { max_num_orders: NumStr },
    #[serde(rename_all = "camelCase")]
    MaxNumAlgoOrders { max_num_algo_orders: NumStr },
    #[serde(rename_all = "camelCase")]
    PercentPriceBySide {
        bid_multiplier_up: NumStr,
        bid_multiplier_down: NumStr,
        ask_multiplier_up: NumStr,
        ask_multiplier_down: NumStr,
        #[serde(default)]
        avg_price_mins: Option<NumStr>,
    },
    #[serde(rename_all = "camelCase")]
    PercentPrice {
        multiplier_up: NumStr,
        multiplier_down: NumStr,
        #[serde(default)]
        avg_price_mins: Option<NumStr>,
    },
    #[serde(other)]
    Other,
}

/// `GET /api/v3/ticker/price` element.
#[derive(Debug, Clone, Deserialize)]
pub struct TickerPriceDto {
    pub symbol: String,
    pub price: NumStr,
}

/// `GET /api/v3/ticker/price`: one object (with `symbol`) or an array.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum TickerPricesDto {
    One(TickerPriceDto),
    Many(Vec<TickerPriceDto>),
}

/// `GET /api/v3/account`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountDto {
    #[serde(default)]
    pub maker_commission: Option<i64>,
    #[serde(default)]
    pub taker_commission: Option<i64>,
    #[serde(default)]
    pub buyer_commission: Option<i64>,
    #[serde(default)]
    pub seller_commission: Option<i64>,
    #[serde(default)]
    pub commission_rates: Option<CommissionRatesDto>,
    #[serde(default)]
    pub can_trade: Option<bool>,
    #[serde(default)]
    pub can_withdraw: Option<bool>,
    #[serde(default)]
    pub can_deposit: Option<bool>,
    #[serde(default)]
    pub update_time: Option<i64>,
    #[serde(default)]
    pub account_type: Option<String>,
    pub balances: Vec<BalanceDto>,
    #[serde(default)]
    pub permissions: Vec<String>,
    #[serde(default)]
    pub uid: Option<i64>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CommissionRatesDto {
    pub maker: NumStr,
    pub taker: NumStr,
    #[serde(default)]
    pub buyer: Option<NumStr>,
    #[serde(default)]
    pub seller: Option<NumStr>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct BalanceDto {
    pub asset: String,
    pub free: NumStr,
    pub locked: NumStr,
}

/// An order as returned by `GET/POST/DELETE /api/v3/order`, `openOrders`,
/// `allOrders` and the elements of `DELETE openOrders`. ACK responses carry
/// only `symbol`, `orderId`, `orderListId`, `clientOrderId`, `transactTime`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderDto {
    pub symbol: String,
    pub order_id: i64,
    #[serde(default)]
    pub order_list_id: Option<i64>,
    pub client_order_id: String,
    #[serde(default)]
    pub orig_client_order_id: Option<String>,
    #[serde(default)]
    pub transact_time: Option<i64>,
    #[serde(default)]
    pub price: Option<NumStr>,
    #[serde(default)]
    pub orig_qty: Option<NumStr>,
    #[serde(default)]
    pub executed_qty: Option<NumStr>,
    #[serde(default)]
    pub cummulative_quote_qty: Option<NumStr>,
    #[serde(default)]
    pub orig_quote_order_qty: Option<NumStr>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub time_in_force: Option<String>,
    #[serde(default, rename = "type")]
    pub order_type: Option<String>,
    #[serde(default)]
    pub side: Option<String>,
    #[serde(default)]
    pub stop_price: Option<NumStr>,
    #[serde(default)]
    pub iceberg_qty: Option<NumStr>,
    #[serde(default)]
    pub trailing_delta: Option<NumStr>,
    #[serde(default)]
    pub trailing_time: Option<i64>,
    #[serde(default)]
    pub time: Option<i64>,
    #[serde(default)]
    pub update_time: Option<i64>,
    #[serde(default)]
    pub is_working: Option<bool>,
    #[serde(default)]
    pub working_time: Option<i64>,
    #[serde(default)]
    pub self_trade_prevention_mode: Option<String>,
    #[serde(default)]
    pub expiry_reason: Option<String>,
    #[serde(default)]
    pub fills: Option<Vec<OrderFillDto>>,
}

/// `fills[]` of a FULL order response.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderFillDto {
    pub price: NumStr,
    pub qty: NumStr,
    pub commission: NumStr,
    pub commission_asset: String,
    #[serde(default)]
    pub trade_id: Option<i64>,
}

/// `GET /api/v3/myTrades` element.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TradeDto {
    pub symbol: String,
    pub id: i64,
    pub order_id: i64,
    #[serde(default)]
    pub order_list_id: Option<i64>,
    pub price: NumStr,
    pub qty: NumStr,
    pub quote_qty: NumStr,
    pub commission: NumStr,
    pub commission_asset: String,
    pub time: i64,
    pub is_buyer: bool,
    pub is_maker: bool,
    #[serde(default)]
    pub is_best_match: Option<bool>,
}

/// `POST /api/v3/order/test` with `computeCommissionRates=true` (`{}` without).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TestOrderDto {
    #[serde(default)]
    pub standard_commission_for_order: Option<MakerTakerDto>,
    #[serde(default)]
    pub special_commission_for_order: Option<MakerTakerDto>,
    #[serde(default)]
    pub tax_commission_for_order: Option<MakerTakerDto>,
    #[serde(default)]
    pub discount: Option<DiscountDto>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct MakerTakerDto {
    pub maker: NumStr,
    pub taker: NumStr,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DiscountDto {
    pub enabled_for_account: bool,
    pub enabled_for_symbol: bool,
    pub discount_asset: String,
    pub discount: NumStr,
}
