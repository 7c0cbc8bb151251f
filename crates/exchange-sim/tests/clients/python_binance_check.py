#!/usr/bin/env python3
"""Checks that python-binance talks to exchange-sim unchanged.

Usage: start `cargo run -p exchange-sim -- --bind 127.0.0.1:8900`, then
`python3 crates/exchange-sim/tests/clients/python_binance_check.py [BASE_URL]`.
Exits 0 with "SKIP" when python-binance is not installed.
"""
import sys

try:
    from binance.client import Client
except ImportError:
    print("SKIP: python-binance not installed (pip install python-binance)")
    sys.exit(0)

base = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8900"
client = Client("sim-key", "sim-secret", ping=False)
client.API_URL = base + "/api"

assert client.get_server_time()["serverTime"] > 0
info = client.get_symbol_info("SOLUSDC")
assert info["symbol"] == "SOLUSDC", info
price = float(client.get_symbol_ticker(symbol="SOLUSDC")["price"])
order = client.create_order(symbol="SOLUSDC", side="BUY", type="LIMIT", timeInForce="GTC",
                            quantity="0.100", price=f"{price * 0.9:.2f}", newClientOrderId="py-check-1")
assert order["status"] == "NEW", order
got = client.get_order(symbol="SOLUSDC", origClientOrderId="py-check-1")
assert got["orderId"] == order["orderId"], got
assert any(o["orderId"] == order["orderId"] for o in client.get_open_orders(symbol="SOLUSDC"))
canceled = client.cancel_order(symbol="SOLUSDC", orderId=order["orderId"])
assert canceled["status"] == "CANCELED", canceled
m = client.create_order(symbol="SOLUSDC", side="BUY", type="MARKET", quantity="0.100")
assert m["status"] == "FILLED" and m["fills"], m
assert client.get_my_trades(symbol="SOLUSDC")
acct = client.get_account()
assert any(b["asset"] == "SOL" for b in acct["balances"])
print("OK: python-binance works against", base)
