#!/usr/bin/env python3
"""Binance's own Python connector (binance-connector, unmodified) against
exchange-sim: the everyday calls of a trading client, with their answers
checked.

Usage: check.py BASE_URL API_KEY API_SECRET
(crates/exchange-sim/tests/client_library.rs starts a simulator and runs it;
by hand: `cargo run -p exchange-sim`, then
`.ci/venv/bin/python check.py http://127.0.0.1:8900 sim-key sim-secret`).
The account must hold USDC and no SOL order may be open. Prints one line
per call and "OK" at the end; any wrong answer raises (exit status 1).
"""
import sys
from decimal import Decimal

from binance.error import ClientError
from binance.spot import Spot

BASE, KEY, SECRET = sys.argv[1], sys.argv[2], sys.argv[3]
SYMBOL = "SOLUSDC"

client = Spot(api_key=KEY, api_secret=SECRET, base_url=BASE, timeout=10)
with_usage = Spot(api_key=KEY, api_secret=SECRET, base_url=BASE, timeout=10,
                  show_limit_usage=True)


def step(name, value):
    print(f"{name}: {str(value)[:160]}")
    return value


def dec(s):
    return Decimal(s)


# Connectivity.
assert step("ping", client.ping()) == {}
assert step("time", client.time())["serverTime"] > 1_500_000_000_000

# Rules.
info = step("exchange_info", client.exchange_info(symbol=SYMBOL))
sym = info["symbols"][0]
assert sym["symbol"] == SYMBOL and sym["status"] == "TRADING", sym
filters = {f["filterType"]: f for f in sym["filters"]}
tick = dec(filters["PRICE_FILTER"]["tickSize"])
step_size = dec(filters["LOT_SIZE"]["stepSize"])
assert tick > 0 and step_size > 0
assert any(r["rateLimitType"] == "REQUEST_WEIGHT" for r in info["rateLimits"])

# Prices.
price = dec(step("ticker_price", client.ticker_price(SYMBOL))["price"])
assert price > 0
prices = client.ticker_price(symbols=[SYMBOL, "BTCUSDC"])
assert [p["symbol"] for p in prices] == [SYMBOL, "BTCUSDC"], prices

t24 = step("ticker_24hr", client.ticker_24hr(SYMBOL))
for k in ("priceChange", "priceChangePercent", "weightedAvgPrice", "prevClosePrice",
          "lastPrice", "lastQty", "bidPrice", "bidQty", "askPrice", "askQty", "openPrice",
          "highPrice", "lowPrice", "volume", "quoteVolume", "openTime", "closeTime",
          "firstId", "lastId", "count"):
    assert k in t24, (k, t24)
assert dec(t24["lastPrice"]) == price
assert dec(t24["bidPrice"]) < price < dec(t24["askPrice"]), t24
assert dec(t24["lowPrice"]) <= price <= dec(t24["highPrice"]), t24
minis = step("ticker_24hr MINI", client.ticker_24hr(symbols=[SYMBOL, "BTCUSDC"], type="MINI"))
assert [m["symbol"] for m in minis] == [SYMBOL, "BTCUSDC"]
assert "bidPrice" not in minis[0] and "lastPrice" in minis[0]

rolling = step("rolling_window_ticker", client.rolling_window_ticker(SYMBOL, windowSize="1h"))
assert dec(rolling["lastPrice"]) == price and rolling["openTime"] % 60_000 == 0, rolling

book = step("book_ticker", client.book_ticker(SYMBOL))
assert book["symbol"] == SYMBOL
bid, ask = dec(book["bidPrice"]), dec(book["askPrice"])
assert bid < price < ask and dec(book["bidQty"]) > 0 and dec(book["askQty"]) > 0, book

depth = step("depth", client.depth(SYMBOL, limit=10))
assert len(depth["bids"]) == 10 and len(depth["asks"]) == 10, depth
bid_prices = [dec(p) for p, _ in depth["bids"]]
ask_prices = [dec(p) for p, _ in depth["asks"]]
assert bid_prices == sorted(bid_prices, reverse=True) and ask_prices == sorted(ask_prices)
assert bid_prices[0] == bid and ask_prices[0] == ask

klines = step("klines", client.klines(SYMBOL, "1m", limit=5))
assert klines and all(len(k) == 12 for k in klines)
assert step("ui_klines", client.ui_klines(SYMBOL, "1m", limit=5)) == klines
avg = step("avg_price", client.avg_price(SYMBOL))
assert avg["mins"] == 5 and dec(avg["price"]) > 0

usage = with_usage.ticker_24hr(SYMBOL)
assert int(step("limit_usage", usage["limit_usage"])["x-mbx-used-weight-1m"]) >= 2

# Balances.
acct = step("account", client.account())
balances = {b["asset"]: b for b in acct["balances"]}
usdc_before = dec(balances["USDC"]["free"])
assert usdc_before > 0 and acct["canTrade"] is True

# A LIMIT order a few ticks under the price: placed, seen, on the book, canceled.
level = price - 3 * tick
qty = Decimal("0.100")
before = dict(client.depth(SYMBOL, limit=5)["bids"])
order = step("new_order LIMIT", client.new_order(
    symbol=SYMBOL, side="BUY", type="LIMIT", timeInForce="GTC",
    quantity=str(qty), price=str(level), newClientOrderId="client-lib-check-1"))
assert order["status"] == "NEW" and order["clientOrderId"] == "client-lib-check-1", order
oid = order["orderId"]
got = step("get_order", client.get_order(SYMBOL, orderId=oid))
assert got["orderId"] == oid and got["status"] == "NEW" and dec(got["price"]) == level
got = client.get_order(SYMBOL, origClientOrderId="client-lib-check-1")
assert got["orderId"] == oid
opens = step("get_open_orders", client.get_open_orders(SYMBOL))
assert [o["orderId"] for o in opens] == [oid], opens
after = dict(client.depth(SYMBOL, limit=5)["bids"])
key = next(p for p in after if dec(p) == level)
assert dec(after[key]) - dec(before[key]) == qty, (before, after)
locked = {b["asset"]: b for b in client.account()["balances"]}["USDC"]
assert dec(locked["locked"]) == level * qty, locked
canceled = step("cancel_order", client.cancel_order(SYMBOL, orderId=oid))
assert canceled["status"] == "CANCELED" and canceled["orderId"] == oid, canceled
assert client.get_open_orders(SYMBOL) == []

# A MARKET order fills: my trades, the public trades and the ticker show it.
market = step("new_order MARKET", client.new_order(
    symbol=SYMBOL, side="BUY", type="MARKET", quantity=str(qty)))
assert market["status"] == "FILLED" and market["fills"], market
mine = step("my_trades", client.my_trades(SYMBOL))
trade = next(t for t in mine if t["orderId"] == market["orderId"])
assert dec(trade["qty"]) == qty and trade["isBuyer"] is True, trade
public = step("trades", client.trades(SYMBOL, limit=10))
pub_trade = next(t for t in public if t["id"] == trade["id"])
assert dec(pub_trade["qty"]) == qty and pub_trade["isBuyerMaker"] is False, pub_trade
t24 = client.ticker_24hr(SYMBOL)
assert int(t24["count"]) >= 1 and t24["lastId"] == trade["id"], t24
assert dec(t24["volume"]) >= qty
orders = step("get_orders", client.get_orders(SYMBOL))
assert {oid, market["orderId"]} <= {o["orderId"] for o in orders}
balances = {b["asset"]: b for b in client.account()["balances"]}
assert dec(balances["SOL"]["free"]) > 0 and dec(balances["USDC"]["free"]) < usdc_before

# Errors arrive as the library's ClientError with Binance's code.
try:
    client.ticker_24hr("NOPEUSDC")
    raise AssertionError("an unknown symbol was accepted")
except ClientError as e:
    assert (e.status_code, e.error_code) == (400, -1121), e
try:
    client.get_order(SYMBOL, orderId=999_999_999)
    raise AssertionError("an unknown order was found")
except ClientError as e:
    assert e.error_code == -2013, e

print("OK: binance-connector works against", BASE)
