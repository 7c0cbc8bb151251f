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
    /// Binance's error code (negative).
    pub code: i64,
    /// Binance's message; empty when absent.
    #[serde(default)]
    pub msg: String,
}

/// `GET /api/v3/time`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerTimeDto {
    /// The exchange's clock, Unix milliseconds.
    pub server_time: i64,
}

/// `GET /api/v3/exchangeInfo`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExchangeInfoDto {
    /// Timezone of the exchange's times (`UTC`).
    #[serde(default)]
    pub timezone: Option<String>,
    /// The exchange's clock when it answered, Unix milliseconds.
    #[serde(default)]
    pub server_time: Option<i64>,
    /// The limits in force (request weight, orders per interval).
    #[serde(default)]
    pub rate_limits: Vec<RateLimitDto>,
    /// Exchange-wide filters, kept as JSON (the bot reads none).
    #[serde(default)]
    pub exchange_filters: Vec<serde_json::Value>,
    /// One entry per symbol asked for (every symbol when none was named).
    pub symbols: Vec<SymbolDto>,
}

/// One entry of `rateLimits`: at most `limit` of `rate_limit_type` per `interval_num` `interval`s.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RateLimitDto {
    /// `REQUEST_WEIGHT`, `ORDERS` or `RAW_REQUESTS`.
    pub rate_limit_type: String,
    /// `SECOND`, `MINUTE` or `DAY`.
    pub interval: String,
    /// Number of `interval`s the window spans.
    pub interval_num: u32,
    /// The most allowed in the window.
    pub limit: u64,
    /// Used so far in the window, when the exchange says.
    #[serde(default)]
    pub count: Option<u64>,
}

/// One entry of `symbols`: a symbol's status, assets, permissions and filters.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SymbolDto {
    /// The symbol, e.g. `SOLUSDC`.
    pub symbol: String,
    /// `TRADING`, `HALT`, `BREAK`, … (see [`crate::SymbolStatus`]).
    pub status: String,
    /// The traded asset (`SOL`).
    pub base_asset: String,
    /// Decimals the base asset is shown with.
    #[serde(default)]
    pub base_asset_precision: Option<u32>,
    /// The pricing asset (`USDC`).
    pub quote_asset: String,
    /// Decimals the quote asset is shown with.
    #[serde(default)]
    pub quote_asset_precision: Option<u32>,
    /// Order types the symbol accepts (`LIMIT`, `TAKE_PROFIT_LIMIT`, …).
    #[serde(default)]
    pub order_types: Vec<String>,
    /// Whether iceberg orders are allowed.
    #[serde(default)]
    pub iceberg_allowed: Option<bool>,
    /// Whether OCO order lists are allowed.
    #[serde(default)]
    pub oco_allowed: Option<bool>,
    /// Whether `trailingDelta` orders are allowed.
    #[serde(default)]
    pub allow_trailing_stop: Option<bool>,
    /// Whether `order/cancelReplace` is allowed.
    #[serde(default)]
    pub cancel_replace_allowed: Option<bool>,
    /// Whether spot trading is allowed on the symbol.
    #[serde(default)]
    pub is_spot_trading_allowed: Option<bool>,
    /// The symbol's filters; an unknown filter decodes as [`FilterDto::Other`].
    #[serde(default)]
    pub filters: Vec<FilterDto>,
    /// Self-trade prevention mode used when an order names none.
    #[serde(default)]
    pub default_self_trade_prevention_mode: Option<String>,
    /// Self-trade prevention modes an order may name.
    #[serde(default)]
    pub allowed_self_trade_prevention_modes: Vec<String>,
}

/// One entry of `symbols[].filters` (§8). Filters the bot does not use decode as `Other`.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "filterType", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FilterDto {
    /// `PRICE_FILTER`: the price's range and tick.
    #[serde(rename_all = "camelCase")]
    PriceFilter {
        /// Least price, in quote; 0 when disabled.
        min_price: NumStr,
        /// Largest price, in quote; 0 when disabled.
        max_price: NumStr,
        /// Every price is a multiple of it; 0 when disabled.
        tick_size: NumStr,
    },
    /// `LOT_SIZE`: the quantity's range and step.
    #[serde(rename_all = "camelCase")]
    LotSize {
        /// Least quantity, in base.
        min_qty: NumStr,
        /// Largest quantity, in base.
        max_qty: NumStr,
        /// Every quantity is a multiple of it.
        step_size: NumStr,
    },
    /// `MARKET_LOT_SIZE`: as `LOT_SIZE`, for MARKET orders.
    #[serde(rename_all = "camelCase")]
    MarketLotSize {
        /// Least quantity of a MARKET order, in base.
        min_qty: NumStr,
        /// Largest quantity of a MARKET order, in base.
        max_qty: NumStr,
        /// Step of a MARKET order's quantity; 0 when disabled.
        step_size: NumStr,
    },
    /// `MIN_NOTIONAL` (legacy): the least `price * quantity`.
    #[serde(rename_all = "camelCase")]
    MinNotional {
        /// Least `price * quantity`, in quote.
        min_notional: NumStr,
        /// Whether MARKET orders are checked too.
        #[serde(default)]
        apply_to_market: Option<bool>,
        /// Minutes of the average price MARKET orders are valued at (0: last price).
        #[serde(default)]
        avg_price_mins: Option<NumStr>,
    },
    /// `NOTIONAL`: the range of `price * quantity`.
    #[serde(rename_all = "camelCase")]
    Notional {
        /// Least `price * quantity`, in quote.
        min_notional: NumStr,
        /// Whether MARKET orders are checked against the minimum.
        #[serde(default)]
        apply_min_to_market: Option<bool>,
        /// Largest `price * quantity`, in quote.
        #[serde(default)]
        max_notional: Option<NumStr>,
        /// Whether MARKET orders are checked against the maximum.
        #[serde(default)]
        apply_max_to_market: Option<bool>,
        /// Minutes of the average price MARKET orders are valued at (0: last price).
        #[serde(default)]
        avg_price_mins: Option<NumStr>,
    },
    /// `TRAILING_DELTA`: the range of `trailingDelta`, in BIPS.
    #[serde(rename_all = "camelCase")]
    TrailingDelta {
        /// Least delta of a TAKE_PROFIT SELL or STOP_LOSS BUY (BIPS).
        min_trailing_above_delta: NumStr,
        /// Largest delta of a TAKE_PROFIT SELL or STOP_LOSS BUY (BIPS).
        max_trailing_above_delta: NumStr,
        /// Least delta of a STOP_LOSS SELL or TAKE_PROFIT BUY (BIPS).
        min_trailing_below_delta: NumStr,
        /// Largest delta of a STOP_LOSS SELL or TAKE_PROFIT BUY (BIPS).
        max_trailing_below_delta: NumStr,
    },
    /// `MAX_NUM_ORDERS`: open orders per account on the symbol.
    #[serde(rename_all = "camelCase")]
    MaxNumOrders {
        /// Most open orders.
        max_num_orders: NumStr,
    },
    /// `MAX_NUM_ALGO_ORDERS`: open stop and take-profit orders per account on the symbol.
    #[serde(rename_all = "camelCase")]
    MaxNumAlgoOrders {
        /// Most open algo orders.
        max_num_algo_orders: NumStr,
    },
    /// `PERCENT_PRICE_BY_SIDE`: price bounds around the average price, per side.
    #[serde(rename_all = "camelCase")]
    PercentPriceBySide {
        /// A BUY's price is at most `average * bidMultiplierUp`.
        bid_multiplier_up: NumStr,
        /// A BUY's price is at least `average * bidMultiplierDown`.
        bid_multiplier_down: NumStr,
        /// A SELL's price is at most `average * askMultiplierUp`.
        ask_multiplier_up: NumStr,
        /// A SELL's price is at least `average * askMultiplierDown`.
        ask_multiplier_down: NumStr,
        /// Minutes the average price is taken over (0: last price).
        #[serde(default)]
        avg_price_mins: Option<NumStr>,
    },
    /// `PERCENT_PRICE`: price bounds around the average price, both sides.
    #[serde(rename_all = "camelCase")]
    PercentPrice {
        /// A price is at most `average * multiplierUp`.
        multiplier_up: NumStr,
        /// A price is at least `average * multiplierDown`.
        multiplier_down: NumStr,
        /// Minutes the average price is taken over (0: last price).
        #[serde(default)]
        avg_price_mins: Option<NumStr>,
    },
    /// A filter the bot does not use.
    #[serde(other)]
    Other,
}

/// `GET /api/v3/ticker/price` element.
#[derive(Debug, Clone, Deserialize)]
pub struct TickerPriceDto {
    /// The symbol.
    pub symbol: String,
    /// Last trade price, in quote.
    pub price: NumStr,
}

/// `GET /api/v3/ticker/price`: one object (with `symbol`) or an array.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum TickerPricesDto {
    /// The answer for one `symbol`.
    One(TickerPriceDto),
    /// The answer for several symbols (or all).
    Many(Vec<TickerPriceDto>),
}

/// `GET /api/v3/account`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountDto {
    /// Maker fee in basis points (legacy; see `commission_rates`).
    #[serde(default)]
    pub maker_commission: Option<i64>,
    /// Taker fee in basis points (legacy).
    #[serde(default)]
    pub taker_commission: Option<i64>,
    /// Buyer fee in basis points (legacy).
    #[serde(default)]
    pub buyer_commission: Option<i64>,
    /// Seller fee in basis points (legacy).
    #[serde(default)]
    pub seller_commission: Option<i64>,
    /// The account's fee rates as fractions.
    #[serde(default)]
    pub commission_rates: Option<CommissionRatesDto>,
    /// Whether the account may trade.
    #[serde(default)]
    pub can_trade: Option<bool>,
    /// Whether the account may withdraw.
    #[serde(default)]
    pub can_withdraw: Option<bool>,
    /// Whether the account may deposit.
    #[serde(default)]
    pub can_deposit: Option<bool>,
    /// Last change of the account, Unix milliseconds.
    #[serde(default)]
    pub update_time: Option<i64>,
    /// `SPOT`, …
    #[serde(default)]
    pub account_type: Option<String>,
    /// Every asset's balance (zero balances may be left out with `omitZeroBalances`).
    pub balances: Vec<BalanceDto>,
    /// The account's permissions (`SPOT`, …).
    #[serde(default)]
    pub permissions: Vec<String>,
    /// The account's user id.
    #[serde(default)]
    pub uid: Option<i64>,
}

/// `commissionRates` of the account: fee rates as fractions (`0.00100000` = 0.1 %).
#[derive(Debug, Clone, Deserialize)]
pub struct CommissionRatesDto {
    /// Fee rate of a maker trade.
    pub maker: NumStr,
    /// Fee rate of a taker trade.
    pub taker: NumStr,
    /// Fee rate of a buy, on top of maker/taker.
    #[serde(default)]
    pub buyer: Option<NumStr>,
    /// Fee rate of a sell, on top of maker/taker.
    #[serde(default)]
    pub seller: Option<NumStr>,
}

/// One entry of `balances`.
#[derive(Debug, Clone, Deserialize)]
pub struct BalanceDto {
    /// The asset (`USDC`).
    pub asset: String,
    /// Available amount.
    pub free: NumStr,
    /// Amount held by open orders.
    pub locked: NumStr,
}

/// An order as returned by `GET/POST/DELETE /api/v3/order`, `openOrders`,
/// `allOrders` and the elements of `DELETE openOrders`. ACK responses carry
/// only `symbol`, `orderId`, `orderListId`, `clientOrderId`, `transactTime`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderDto {
    /// The symbol.
    pub symbol: String,
    /// The exchange's order id, unique within the symbol.
    pub order_id: i64,
    /// The order list id; -1 when not in a list.
    #[serde(default)]
    pub order_list_id: Option<i64>,
    /// The order's clientOrderId (in a cancel answer: the cancel's own id).
    pub client_order_id: String,
    /// In a cancel answer: the canceled order's clientOrderId.
    #[serde(default)]
    pub orig_client_order_id: Option<String>,
    /// When the request was executed, Unix milliseconds (placement and cancel answers).
    #[serde(default)]
    pub transact_time: Option<i64>,
    /// Limit price, in quote (0 for an order without one).
    #[serde(default)]
    pub price: Option<NumStr>,
    /// Quantity ordered, in base.
    #[serde(default)]
    pub orig_qty: Option<NumStr>,
    /// Quantity traded so far, in base.
    #[serde(default)]
    pub executed_qty: Option<NumStr>,
    /// Quote amount traded so far (Binance's spelling).
    #[serde(default)]
    pub cummulative_quote_qty: Option<NumStr>,
    /// Quote amount ordered, for a MARKET order by quote.
    #[serde(default)]
    pub orig_quote_order_qty: Option<NumStr>,
    /// `NEW`, `PARTIALLY_FILLED`, `FILLED`, `CANCELED`, `EXPIRED`, …; absent in ACK answers.
    #[serde(default)]
    pub status: Option<String>,
    /// `GTC`, `IOC` or `FOK`.
    #[serde(default)]
    pub time_in_force: Option<String>,
    /// `LIMIT`, `TAKE_PROFIT_LIMIT`, …
    #[serde(default, rename = "type")]
    pub order_type: Option<String>,
    /// `BUY` or `SELL`.
    #[serde(default)]
    pub side: Option<String>,
    /// Trigger price of a stop or take-profit order, in quote (0 or absent: none).
    #[serde(default)]
    pub stop_price: Option<NumStr>,
    /// Visible quantity of an iceberg order.
    #[serde(default)]
    pub iceberg_qty: Option<NumStr>,
    /// Trailing delta in BIPS (0 or absent: none).
    #[serde(default)]
    pub trailing_delta: Option<NumStr>,
    /// When the trailing stop started tracking, Unix milliseconds.
    #[serde(default)]
    pub trailing_time: Option<i64>,
    /// When the order was created, Unix milliseconds (queries).
    #[serde(default)]
    pub time: Option<i64>,
    /// Last change of the order, Unix milliseconds.
    #[serde(default)]
    pub update_time: Option<i64>,
    /// Whether the order is on the book (false for an untriggered stop).
    #[serde(default)]
    pub is_working: Option<bool>,
    /// When the order entered the book, Unix milliseconds.
    #[serde(default)]
    pub working_time: Option<i64>,
    /// The order's self-trade prevention mode.
    #[serde(default)]
    pub self_trade_prevention_mode: Option<String>,
    /// Why the order expired, when it did.
    #[serde(default)]
    pub expiry_reason: Option<String>,
    /// The trades of the placement itself (FULL responses).
    #[serde(default)]
    pub fills: Option<Vec<OrderFillDto>>,
}

/// `fills[]` of a FULL order response.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderFillDto {
    /// Trade price, in quote.
    pub price: NumStr,
    /// Quantity traded, in base.
    pub qty: NumStr,
    /// Fee charged, in `commission_asset`.
    pub commission: NumStr,
    /// Asset the fee was paid in.
    pub commission_asset: String,
    /// The trade's id.
    #[serde(default)]
    pub trade_id: Option<i64>,
}

/// `GET /api/v3/myTrades` element.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TradeDto {
    /// The symbol.
    pub symbol: String,
    /// The trade's id, unique within the symbol.
    pub id: i64,
    /// The exchange's id of the order that traded.
    pub order_id: i64,
    /// The order list id; -1 when not in a list.
    #[serde(default)]
    pub order_list_id: Option<i64>,
    /// Trade price, in quote.
    pub price: NumStr,
    /// Quantity traded, in base.
    pub qty: NumStr,
    /// `price * qty`, in quote.
    pub quote_qty: NumStr,
    /// Fee charged, in `commission_asset`.
    pub commission: NumStr,
    /// Asset the fee was paid in.
    pub commission_asset: String,
    /// When the trade happened, Unix milliseconds.
    pub time: i64,
    /// Whether the account bought.
    pub is_buyer: bool,
    /// Whether the account's order was the resting one.
    pub is_maker: bool,
    /// Whether the trade was at the best price available.
    #[serde(default)]
    pub is_best_match: Option<bool>,
}

/// `POST /api/v3/order/test` with `computeCommissionRates=true` (`{}` without).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TestOrderDto {
    /// The symbol's standard fee rates for this order.
    #[serde(default)]
    pub standard_commission_for_order: Option<MakerTakerDto>,
    /// Special fee rates for this order.
    #[serde(default)]
    pub special_commission_for_order: Option<MakerTakerDto>,
    /// Tax rates for this order.
    #[serde(default)]
    pub tax_commission_for_order: Option<MakerTakerDto>,
    /// The fee discount (e.g. paying in BNB).
    #[serde(default)]
    pub discount: Option<DiscountDto>,
}

/// A pair of fee rates as fractions.
#[derive(Debug, Clone, Deserialize)]
pub struct MakerTakerDto {
    /// Rate of a maker trade.
    pub maker: NumStr,
    /// Rate of a taker trade.
    pub taker: NumStr,
}

/// The fee discount of `order/test`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DiscountDto {
    /// Whether the account has the discount on.
    pub enabled_for_account: bool,
    /// Whether the symbol has it.
    pub enabled_for_symbol: bool,
    /// Asset the discounted fee is paid in (`BNB`).
    pub discount_asset: String,
    /// The discount as a fraction of the standard fee (`0.25`).
    pub discount: NumStr,
}
