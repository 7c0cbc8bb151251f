#!/usr/bin/env bash
# Backtest speed on a year of generated one-minute candles (gen.py, seeded),
# the default basket with levels close enough to trade
# (data/backtest-example.json), the daemon's 5 s cycle.
#   1. one run, one core: wall time (reading the CSV included), peak RSS,
#      candles per second, cycles run and skipped, plan calls;
#   2. a sweep of 256 configs (sweep256.json) over the same year on every
#      core (--jobs = nproc): its wall time; the candles are read once.
# Usage: bench/backtest/run.sh [minutes=525600] [cycle_seconds=5] [sweep=1]
# Measured: see docs/design.md "Backtests" (Speed).
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${1:-525600}
cycle=${2:-5}
sweep=${3:-1}
tmp=${TMPDIR:-/tmp}
file=$tmp/bench-klines-$n.csv
[ -s "$file" ] || python3 bench/backtest/gen.py "$file" "$n" 1
cargo build --release -q -p bot-daemon
pin=()
if command -v taskset >/dev/null; then pin=(taskset -c 0); fi
/usr/bin/time -f "wall %e s, peak RSS %M KiB" "${pin[@]}" ./target/release/bot-daemon backtest \
  --klines "$file" --symbol SOLUSDC --config data/backtest-example.json \
  --cycle-seconds "$cycle" --json "$tmp/bench-backtest.json" 2>&1 | tee "$tmp/bench-backtest.txt"
wall=$(sed -n 's/^wall \([0-9.]*\) s.*/\1/p' "$tmp/bench-backtest.txt")
python3 - "$wall" "$tmp/bench-backtest.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[2]))["summary"]
wall = float(sys.argv[1])
print(f"candles {s['candles']}, cycles run {s['cycles_run']}, skipped {s['cycles_skipped']}, plan calls {s['plan_calls']}")
print(f"one run: candles/s {s['candles'] / wall:,.0f}")
PY
if [ "$sweep" = 1 ]; then
  jobs=$(nproc)
  /usr/bin/time -f "sweep wall %e s, peak RSS %M KiB" ./target/release/bot-daemon backtest \
    --klines "$file" --symbol SOLUSDC --config data/backtest-example.json \
    --cycle-seconds "$cycle" --sweep bench/backtest/sweep256.json --jobs "$jobs" \
    --json "$tmp/bench-sweep.json" 2>&1 | tail -n 3
  python3 - "$tmp/bench-sweep.json" "$n" <<'PY'
import json, sys
runs = json.load(open(sys.argv[1]))["runs"]
bad = [r for r in runs if r.get("error")]
print(f"sweep: {len(runs)} configs, {len(bad)} refused, {len(runs) * int(sys.argv[2]):,} candles replayed")
PY
fi
