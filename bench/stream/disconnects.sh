#!/usr/bin/env bash
# Soak: no fill lost across forced disconnects of the user-data stream.
# The real daemon (paper, 5 s cycle, streams on) trades 5 tight-grid baskets
# (3 SOLUSDC, 2 ETHUSDC) against a standalone simulator whose prices random-walk
# (VOL_BPS, default 15 bp max per second). DROPS times (default 100): wait
# until the stream is subscribed again, then SECONDS_BETWEEN (default 3,
# jittered x0.5-1.5; before every 20th drop 65 s instead, so that the daemon's
# reconnect back-off, which only resets after 60 s up, starts again from
# 0.5 s), then POST /sim/ws/drop (every 10th: /sim/ws/terminate; every 7th
# also /sim/market/drop). Drops 34-66 run with WS faults (delay 300 ms,
# duplicates and swaps at 10 %). Then the symbols are halted (BREAK: no price
# move, no trade), the daemon gets the safety sweep (BOT_SWEEP_INTERVAL_SECONDS,
# default 60) + 2 cycles, and is stopped with SIGINT. Every trade of a BOT_
# order in /sim/state is compared with the fills table by trade id.
# Pass: none missing, duplicated, extra or different (price/qty), every drop
# hit a subscribed session, and at least MIN_TRADES (default 50) trades.
#   bench/stream/disconnects.sh [drops] [seconds_between]
# Needs PostgreSQL on 127.0.0.1:5432 (trust); the database is dropped at exit.
# The logs are kept (path printed) when the run fails.
set -euo pipefail
cd "$(dirname "$0")/../.."
drops="${1:-100}"; gap="${2:-3}"
sweep="${BOT_SWEEP_INTERVAL_SECONDS:-60}"; vol="${VOL_BPS:-15}"; min_trades="${MIN_TRADES:-50}"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
db="stream_soak_$$"
tmp="$(mktemp -d)"; keep=1
psql() { command psql -X -q -h 127.0.0.1 -U postgres "$@"; }
post() { curl -sf -X POST "$base$1" -H 'Content-Type: application/json' -d "${2:-}" >/dev/null; }
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  psql -d postgres -c "DROP DATABASE IF EXISTS $db" || true
  if [ "$keep" = 0 ]; then rm -rf "$tmp"; else echo "logs kept in $tmp" >&2; fi
}
trap cleanup EXIT

cargo build -q --release -p bot-daemon -p exchange-sim --bins

cat >"$tmp/sim.json" <<EOF
{"symbols": [
  {"symbol": "SOLUSDC", "base": "SOL", "quote": "USDC", "price": "150.00",
   "filters": {"min_price": "0.01", "tick_size": "0.01", "min_qty": "0.001", "step_size": "0.001"}},
  {"symbol": "ETHUSDC", "base": "ETH", "quote": "USDC", "price": "3000.00",
   "filters": {"min_price": "0.01", "tick_size": "0.01", "min_qty": "0.0001", "step_size": "0.0001"}}],
 "balances": {"USDC": "1000000", "BNB": "100"},
 "price_path": {"kind": "random_walk", "step_ms": 1000, "volatility_bps": $vol,
                "auto_advance_ms": 1000, "speed": "1"}}
EOF
# 20 levels 0.2 % apart, take-profits 0.2-0.3 % over the average, reanchor
# soon: the grid trades every few seconds.
python3 - "$tmp/basket.json" <<'EOF'
import json, sys
json.dump({"zone_bottom_pct": "0.04", "levels_pct": ["%.3f" % (0.002 * i) for i in range(1, 21)],
           "alloc_weights": ["0.05"] * 20, "tp_start_pct": "0.003", "tp_step_pct": "0.0001",
           "tp_min_pct": "0.002", "tp2_delta_pct": "0.002", "trailing_callback_pct": "0.003",
           "reanchor_rules": {"up_pct": "0.004", "time_ttl_s": 120}}, open(sys.argv[1], "w"))
EOF

target/release/exchange-sim --bind "127.0.0.1:$port" --config "$tmp/sim.json" >"$tmp/sim.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 50); do curl -sf "$base/api/v3/ping" >/dev/null && break; sleep 0.2; done
export DATABASE_URL="postgres://postgres@127.0.0.1:5432/$db" BOT_MODE=paper BINANCE_BASE_URL="$base"
RUST_LOG=warn target/release/bot-daemon migrate >/dev/null
for s in SOLUSDC SOLUSDC SOLUSDC ETHUSDC ETHUSDC; do
  RUST_LOG=warn target/release/bot-daemon basket create --symbol "$s" --config "$tmp/basket.json" >/dev/null
done
BOT_CHECK_INTERVAL_SECONDS=5 BOT_SWEEP_INTERVAL_SECONDS="$sweep" BOT_WORKER_ID=soak RUST_LOG=info \
  target/release/bot-daemon run >"$tmp/daemon.log" 2>&1 &
daemon=$!; pids+=("$daemon")

# The newest session with a subscription (0: none).
subscribed() {
  curl -sf "$base/sim/ws" | python3 -c 'import json, sys
print(max([s["session"] for s in json.load(sys.stdin)["sessions"] if s["subscriptions"]] or [0]))'
}
last=0; done_drops=0; start=$(date +%s)
for i in $(seq 1 "$drops"); do
  for _ in $(seq 1 300); do s="$(subscribed)"; [ "$s" -gt "$last" ] && break; sleep 0.2; done
  if [ "$s" -le "$last" ]; then echo "drop $i: stream not subscribed again within 60 s" >&2; break; fi
  echo "$(date +%s.%N) up $s" >>"$tmp/timeline"
  if [ "$i" = 34 ]; then post /sim/ws/faults '{"seed": 7, "delay_ms": 300, "duplicate_rate": 0.1, "reorder_rate": 0.1}'; fi
  if [ "$i" = 67 ]; then post /sim/ws/faults '{}'; fi
  if [ $((i % 20)) = 0 ]; then sleep 65; else
    sleep "$(python3 -c "import random; print(round($gap * random.uniform(0.5, 1.5), 2))")"; fi
  if [ "$(subscribed)" != "$s" ]; then echo "drop $i: session $s gone before the drop" >&2; break; fi
  echo "$(date +%s.%N) down $s" >>"$tmp/timeline"
  if [ $((i % 10)) = 0 ]; then post /sim/ws/terminate; else post /sim/ws/drop; fi
  if [ $((i % 7)) = 0 ]; then post /sim/market/drop; fi
  last="$s"; done_drops=$i
  if [ $((i % 10)) = 0 ]; then echo "drops=$i elapsed=$(( $(date +%s) - start ))s" >&2; fi
done
for _ in $(seq 1 300); do s="$(subscribed)"; [ "$s" -gt "$last" ] && break; sleep 0.2; done
echo "$(date +%s.%N) up $s" >>"$tmp/timeline"
for s in SOLUSDC ETHUSDC; do post /sim/symbol "{\"symbol\": \"$s\", \"status\": \"BREAK\"}"; done
sleep $((sweep + 10))
kill -INT "$daemon"; rc=0; wait "$daemon" || rc=$?
echo "soak: $(( $(date +%s) - start )) s"
curl -sf "$base/sim/state" >"$tmp/state.json"
curl -sf "$base/sim/ws" >"$tmp/ws.json"
psql -d "$db" -At -F ' ' -c "SELECT symbol, exchange_trade_id, price, quantity,
  extract(epoch FROM executed_at) FROM fills" >"$tmp/fills.txt"

set +e
python3 - "$tmp" "$drops" "$done_drops" "$min_trades" "$rc" <<'EOF'
import collections, json, re, sys
from decimal import Decimal
tmp, want, done, min_trades, rc = sys.argv[1], *map(int, sys.argv[2:])
st = json.load(open(f"{tmp}/state.json")); ws = json.load(open(f"{tmp}/ws.json"))
ex = {(t["symbol"], int(t["id"])): t for t in st["trades"] if t["clientOrderId"].startswith("BOT_")}
rows = [l.split() for l in open(f"{tmp}/fills.txt") if l.strip()]
count = collections.Counter((r[0], int(r[1])) for r in rows)
fills = {(r[0], int(r[1])): r for r in rows}
missing = sorted(set(ex) - set(fills)); extra = sorted(set(fills) - set(ex))
dup = sorted(k for k, n in count.items() if n > 1)
diff = sorted(k for k in set(ex) & set(fills) if Decimal(ex[k]["price"]) != Decimal(fills[k][2])
              or Decimal(ex[k]["qty"]) != Decimal(fills[k][3]))
# Outages as the script saw them: from a drop to the next subscribed session.
tl = [l.split() for l in open(f"{tmp}/timeline")]
gaps = [(float(a[0]), float(b[0])) for a, b in zip(tl, tl[1:]) if a[1] == "down" and b[1] == "up"]
down = sum(1 for r in rows if any(a <= float(r[4]) <= b for a, b in gaps))
log = open(f"{tmp}/daemon.log", errors="replace").read()
outage = sorted(b - a for a, b in gaps)
print(f"trades on the exchange (BOT_ orders): {len(ex)}")
print(f"fills recorded:                       {len(rows)}  (during an outage {down}, stream up {len(rows) - down})")
print(f"missing: {len(missing)}  duplicated: {len(dup)}  extra: {len(extra)}  price/qty differ: {len(diff)}")
for name, ks in (("missing", missing), ("duplicated", dup), ("extra", extra), ("differ", diff)):
    if ks: print(f"  {name}: {ks[:20]}")
print(f"drops done: {done} of {want} (terminate: {done // 10}, market drops: {done // 7})")
print(f"daemon: 'state=streaming' lines {log.count('User-data stream state=streaming')}, "
      f"'stream lost' {log.count('User-data stream lost')}, ERROR lines {len(re.findall(r' ERROR ', log))}, "
      f"'duplicate key' {log.count('duplicate key')}, exit code {rc}")
if outage:
    print(f"outage drop -> subscribed again: min {outage[0]:.1f} s, median {outage[len(outage) // 2]:.1f} s, max {outage[-1]:.1f} s")
s = ws["stats"]
print(f"sim ws: connections {s['connections']}, dropped {s['dropped']}, terminated {s['terminated_by_fault']}, "
      f"lagged {s['terminated_lagged']}, duplicated {s['duplicated']}, reordered {s['reordered']}")
ok = not (missing or dup or extra or diff) and done == want and len(ex) >= min_trades
print("PASS" if ok else "FAIL")
sys.exit(0 if ok else 1)
EOF
res=$?
set -e
if [ "$res" = 0 ]; then keep=0; fi
exit "$res"
