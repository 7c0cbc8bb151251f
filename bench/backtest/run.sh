#!/usr/bin/env bash
# Backtest speed on a year of generated one-minute candles (gen.py, seeded),
# the default basket with levels close enough to trade
# (data/backtest-example.json), the daemon's 5 s cycle.
#   1. one run, one core: wall time (reading the CSV included), peak RSS,
#      candles per second, cycles run and skipped, plan calls;
#   2. the replay alone on candles in memory, one core (9 runs minus 1);
#   3. a sweep of 256 configs (sweep256.json) over the same year on every
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
# The replay alone, on candles already in memory (how a sweep runs them):
# nine identical runs minus one, on one core, the candles read once each time.
printf '{"grid": {"k_next": [2]}}' > "$tmp/bench-s1.json"
printf '{"grid": {"k_next": [2, 2, 2, 2, 2, 2, 2, 2, 2]}}' > "$tmp/bench-s9.json"
secs() {
  /usr/bin/time -f "%e" "${pin[@]}" ./target/release/bot-daemon backtest --klines "$file" \
    --symbol SOLUSDC --config data/backtest-example.json --cycle-seconds "$cycle" \
    --sweep "$1" --jobs 1 2>&1 >/dev/null | tail -n 1
}
t1=$(secs "$tmp/bench-s1.json")
t9=$(secs "$tmp/bench-s9.json")
python3 - "$t1" "$t9" "$n" <<'PY'
import sys
t1, t9, n = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
run = (t9 - t1) / 8
print(f"replay in memory, one core: {run:.3f} s per run, candles/s {n / run:,.0f} (1 run {t1} s, 9 runs {t9} s)")
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
