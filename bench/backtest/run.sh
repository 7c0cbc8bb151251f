#!/usr/bin/env bash
# Backtest speed on a year of generated one-minute candles (gen.py, seeded),
# one core, the default basket with levels close enough to trade
# (data/backtest-example.json). Prints the run's table, wall time, peak RSS
# and candles per second. Usage: bench/backtest/run.sh [minutes=525600] [cycle_seconds=5]
# Measured (2026-11-26, this 2-core machine): 525,600 candles, wall 74.4 s,
# peak RSS 22,184 KiB, 7,063 candles/s, 1,810,822 cycles run, 4,496,379 skipped.
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${1:-525600}
cycle=${2:-5}
file=${TMPDIR:-/tmp}/bench-klines-$n.csv
[ -s "$file" ] || python3 bench/backtest/gen.py "$file" "$n" 1
cargo build --release -q -p bot-daemon
pin=()
if command -v taskset >/dev/null; then pin=(taskset -c 0); fi
/usr/bin/time -f "wall %e s, peak RSS %M KiB" "${pin[@]}" ./target/release/bot-daemon backtest \
  --klines "$file" --symbol SOLUSDC --config data/backtest-example.json \
  --cycle-seconds "$cycle" --json "${TMPDIR:-/tmp}/bench-backtest.json" 2>&1 | tee "${TMPDIR:-/tmp}/bench-backtest.txt"
wall=$(sed -n 's/^wall \([0-9.]*\) s.*/\1/p' "${TMPDIR:-/tmp}/bench-backtest.txt")
python3 - "$wall" <<'PY'
import json, sys, os
s = json.load(open(os.path.join(os.environ.get("TMPDIR", "/tmp"), "bench-backtest.json")))["summary"]
wall = float(sys.argv[1])
print(f"candles {s['candles']}, cycles run {s['cycles_run']}, skipped {s['cycles_skipped']}, plan calls {s['plan_calls']}")
print(f"candles/s {s['candles'] / wall:,.0f}")
PY
