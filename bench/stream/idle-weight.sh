#!/usr/bin/env bash
# Idle request weight: 50 baskets on 10 symbols, the real daemon against a
# standalone simulator whose prices wander 1 bp a second (nothing fills),
# 5 s cycle. The weight is the simulator's `weight_total` (every request's
# weight, as Binance counts it) read from /sim/state after a warm-up and
# again SECONDS later (default 600). Runs once with the streams (user-data +
# market-data, sweep every 60 s) and, for comparison, once polling
# (BOT_USER_STREAM=off) for POLL_SECONDS (default 120). Prints weight/min.
# Target (issue 13): <= 60 per minute with the streams.
#   bench/stream/idle-weight.sh [seconds] [poll_seconds]
# Needs PostgreSQL on 127.0.0.1:5432 (trust). Databases are dropped at the end.
set -euo pipefail
cd "$(dirname "$0")/../.."
secs="${1:-600}"
poll_secs="${2:-120}"
warmup=60
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
psql() { command psql -X -q -h 127.0.0.1 -U postgres "$@"; }
tmp="$(mktemp -d)"
pids=()
dbs=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  for d in "${dbs[@]}"; do psql -d postgres -c "DROP DATABASE IF EXISTS $d" || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT

cargo build -q --release -p bot-daemon -p exchange-sim --bins

python3 - "$tmp/sim.json" <<'EOF'
import json, sys
names = ["SOL", "BTC", "ETH", "BNB", "XRP", "ADA", "DOGE", "AVAX", "LINK", "DOT"]
prices = ["150.00", "60000.00", "3000.00", "600.00", "0.5000", "0.4000", "0.1000", "30.000", "15.000", "7.000"]
ticks = ["0.01", "0.01", "0.01", "0.01", "0.0001", "0.0001", "0.0001", "0.001", "0.001", "0.001"]
steps = ["0.001", "0.00001", "0.0001", "0.001", "0.1", "0.1", "1", "0.01", "0.01", "0.01"]
cfg = {
    "symbols": [
        {"symbol": n + "USDC", "base": n, "quote": "USDC", "price": p,
         "filters": {"min_price": t, "tick_size": t, "min_qty": s, "step_size": s}}
        for n, p, t, s in zip(names, prices, ticks, steps)
    ],
    "balances": {"USDC": "100000000", "BNB": "100"},
    "price_path": {"kind": "random_walk", "step_ms": 1000, "volatility_bps": 1,
                   "auto_advance_ms": 1000, "speed": "1"},
}
json.dump(cfg, open(sys.argv[1], "w"))
EOF

weight() { curl -s "$base/sim/state" | python3 -c 'import json,sys; print(json.load(sys.stdin)["weight_total"])'; }

run() {
  local mode="$1" measure="$2" db="idle_weight_${1}_$$"
  dbs+=("$db")
  local url="postgres://postgres@127.0.0.1:5432/$db"
  target/release/exchange-sim --bind "127.0.0.1:$port" --config "$tmp/sim.json" >"$tmp/sim-$mode.log" 2>&1 &
  local sim=$!
  pids+=("$sim")
  for _ in $(seq 1 50); do curl -sf "$base/api/v3/ping" >/dev/null && break; sleep 0.2; done
  kill -0 "$sim" || { cat "$tmp/sim-$mode.log"; exit 1; }
  export DATABASE_URL="$url" BOT_MODE=paper BINANCE_BASE_URL="$base" RUST_LOG=warn
  target/release/bot-daemon migrate >/dev/null
  for s in SOL BTC ETH BNB XRP ADA DOGE AVAX LINK DOT; do
    for _ in 1 2 3 4 5; do
      target/release/bot-daemon basket create --symbol "${s}USDC" >/dev/null
    done
  done
  BOT_USER_STREAM="$mode" BOT_CHECK_INTERVAL_SECONDS=5 BOT_WORKER_ID="idle-$mode" \
    target/release/bot-daemon run >"$tmp/daemon-$mode.log" 2>&1 &
  local daemon=$!
  pids+=("$daemon")
  sleep "$warmup"
  local w0 w1
  w0="$(weight)"
  sleep "$measure"
  w1="$(weight)"
  local fills
  fills="$(psql -d "$db" -At -c 'SELECT count(*) FROM fills')"
  kill -INT "$daemon"; wait "$daemon" || true
  kill "$sim"; wait "$sim" 2>/dev/null || true
  python3 -c "print('$mode', $measure, $w1 - $w0, round(($w1 - $w0) * 60 / $measure, 1), $fills)"
  unset DATABASE_URL BOT_MODE BINANCE_BASE_URL
}

echo "streams seconds weight weight_per_min fills"
run on "$secs"
run off "$poll_secs"
