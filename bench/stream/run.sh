#!/usr/bin/env bash
# Fill -> fill row latency with and without the user-data stream, in paper
# mode: the worker trades the shipped altcoin candles replayed 900x (as
# scripts/paper) for SECONDS seconds (default 120) with a 5 s cycle, once
# with BOT_USER_STREAM=on and once with off, each on a fresh database. The
# latency of a fill is fills.created_at (the row's commit, the database's
# clock) minus fills.executed_at (the simulator's trade time; both clocks are
# this machine's). Also buy fill -> its replacement order's request
# (orders.request_ts_ms, the signed timestamp). Prints p50 / p90 / p99 / max
# in ms and the counts of each run. Targets (issue 13), with the stream:
# fill row p99 < 100 ms, replacement order p99 < 200 ms.
#   bench/stream/run.sh [seconds]
# Needs PostgreSQL on 127.0.0.1:5432 (trust). Databases are dropped at the end.
set -euo pipefail
cd "$(dirname "$0")/../.."
secs="${1:-120}"
psql() { command psql -X -q -h 127.0.0.1 -U postgres "$@"; }
dbs=()
cleanup() {
  for d in "${dbs[@]}"; do psql -d postgres -c "DROP DATABASE IF EXISTS $d" || true; done
}
trap cleanup EXIT

cargo build -q --release -p bot-daemon --bins

run() {
  local mode="$1" db="stream_bench_${1}_$$"
  dbs+=("$db")
  local url="postgres://postgres@127.0.0.1:5432/$db"
  DATABASE_URL="$url" target/release/bot-daemon migrate >/dev/null 2>&1
  DATABASE_URL="$url" BOT_MODE=paper BOT_USER_STREAM="$mode" \
    BOT_PAPER_KLINES=data/klines/ALTBTC-1m-2017-11.csv BOT_PAPER_SPEED=900 \
    BOT_PAPER_CONFIG=data/paper-basket.json BOT_CHECK_INTERVAL_SECONDS=5 \
    BOT_WORKER_ID="bench-$mode" RUST_LOG=warn \
    timeout -s INT "$secs" target/release/bot-daemon run >/dev/null 2>&1 || true
  psql -d "$db" -At -F ' ' -c "
    WITH l AS (SELECT extract(epoch FROM created_at - executed_at) * 1000 AS ms FROM fills)
    SELECT '$mode', count(*),
           round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 1),
           round(percentile_cont(0.9) WITHIN GROUP (ORDER BY ms)::numeric, 1),
           round(percentile_cont(0.99) WITHIN GROUP (ORDER BY ms)::numeric, 1),
           round(max(ms)::numeric, 1)
    FROM l" > "$out.fill"
  # Fill -> replacement order sent: for each BUY fill, the basket's first
  # order whose request was signed after the trade (its take-profit), within
  # 10 s (a later order answers something else).
  psql -d "$db" -At -F ' ' -c "
    WITH r AS (
      SELECT (SELECT min(o.request_ts_ms) FROM orders o
              WHERE o.basket_id = f.basket_id
                AND o.request_ts_ms >= (extract(epoch FROM f.executed_at) * 1000)::bigint
                AND o.request_ts_ms < (extract(epoch FROM f.executed_at) * 1000)::bigint + 10000)
             - (extract(epoch FROM f.executed_at) * 1000) AS ms
      FROM fills f WHERE f.side = 'BUY')
    SELECT '$mode', count(ms),
           round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 1),
           round(percentile_cont(0.9) WITHIN GROUP (ORDER BY ms)::numeric, 1),
           round(percentile_cont(0.99) WITHIN GROUP (ORDER BY ms)::numeric, 1),
           round(max(ms)::numeric, 1)
    FROM r" > "$out.order"
}

out="$(mktemp)"
run on; cp "$out.fill" "$out.fill.on"; cp "$out.order" "$out.order.on"
run off
echo "fill -> fill row committed"
echo "stream fills p50_ms p90_ms p99_ms max_ms"
cat "$out.fill.on" "$out.fill"
echo "buy fill -> replacement order's request signed"
echo "stream buys p50_ms p90_ms p99_ms max_ms"
cat "$out.order.on" "$out.order"
rm -f "$out" "$out".*
