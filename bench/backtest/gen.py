#!/usr/bin/env python3
"""A year of generated one-minute candles (Binance kline CSV, no header).

Seeded geometric random walk: 0.05 % standard deviation per minute
(about 60 % a year annualised, crypto-like), with a slow regime change
every week so the grid sees trends and ranges. Same seed, same file.
Usage: gen.py OUT [minutes=525600] [seed=1]
"""
import math
import random
import sys

out = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 525_600
rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 1)
t = 1_672_531_200_000  # 2023-01-01
price = 150.0
drift = 0.0
with open(out, "w") as f:
    for i in range(n):
        if i % 10_080 == 0:
            drift = rng.gauss(0.0, 0.00002)
        o = price
        c = o * math.exp(drift + rng.gauss(0.0, 0.0005))
        h = max(o, c) * (1 + abs(rng.gauss(0.0, 0.0003)))
        l = min(o, c) * (1 - abs(rng.gauss(0.0, 0.0003)))
        f.write(f"{t},{o:.2f},{h:.2f},{l:.2f},{c:.2f},1,{t + 59_999},0,0,0,0,0\n")
        price = c
        t += 60_000
