#!/usr/bin/env bash
# GET /metrics against a database with FILLS fills (default 1,000,000):
# the web benchmark's book (crates/web/examples/seed.rs: 100,000 orders and
# the fills over 1,000 closed baskets, plus the demo's live baskets), then
# 100 of those baskets (about a tenth of the fills) made live again with open
# orders, 3 workers with their metrics and pending commands — so the scrape
# lists ~100 baskets whose fills it must not count. Measures SCRAPES
# sequential scrapes (default 200, after 20 to warm up) with curl and the
# bearer token: p50, p99 and max of the total time (target: p99 < 20 ms).
# For comparison it times the count of the listed baskets' fills, which a
# scrape does not run.
#   bench/metrics/run.sh [fills] [scrapes]
# Needs PostgreSQL on 127.0.0.1:5432 (trust) and curl. The database is
# dropped at the end. Results: bench/metrics/README.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
fills="${1:-1000000}"; scrapes="${2:-200}"; orders=100000; port=18090
db="metrics_bench_$$"
url="postgres://postgres@127.0.0.1:5432/$db"
token=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
psql() { command psql -X -q -h 127.0.0.1 -U postgres "$@"; }
tmp=$(mktemp -d)
cleanup() {
  [ -n "${web:-}" ] && kill "$web" 2>/dev/null && wait "$web" 2>/dev/null
  psql -d postgres -c "DROP DATABASE IF EXISTS $db" || true
  rm -rf "$tmp"
}
trap cleanup EXIT

cargo build -q --release -p web -p bot-daemon --bins
cargo build -q --release -p web --example seed
psql -d postgres -c "CREATE DATABASE $db"
DATABASE_URL="$url" target/release/bot-daemon migrate >/dev/null
t0=$(date +%s)
DATABASE_URL="$url" target/release/examples/seed --orders "$orders" --fills "$fills" >/dev/null
psql -d "$db" <<'SQL'
-- 100 of the closed baskets trade again, with a position and open orders.
WITH l AS (SELECT id FROM baskets WHERE status = 'closed' ORDER BY id LIMIT 100)
UPDATE baskets b SET status = 'active', closed_at = NULL, closed_reason = NULL,
       pos = 3, cost = 416.25
FROM l WHERE b.id = l.id;
UPDATE orders SET status = 'NEW', executed_qty = 0, cummulative_quote_qty = 0
WHERE id % 40 = 0 AND basket_id IN (SELECT id FROM baskets WHERE status = 'active');
-- 3 workers with their metrics, and a few pending commands.
INSERT INTO bot_status (instance_id, mode, base_url, pid, started_at, heartbeat_at,
                        last_cycle_at, last_cycle_ms, weight_used, metrics)
SELECT 'bench-' || g, 'paper', 'http://127.0.0.1:1', g, now(), now(), now(), 40, 82,
       '{"cycle_ms": {"bounds_ms": [10,25,50,100,250,500,1000,2500,5000,10000,30000,60000],
                      "counts": [5,20,300,40,3,1,0,0,0,0,0,0,0], "sum_ms": 14210},
         "errors": {"exchange_transport": 2, "lease_lost": 1},
         "weight_limit": 6000, "stream": "polling"}'::jsonb
FROM generate_series(1, 3) g;
INSERT INTO commands (kind, basket_id, payload, idempotency_key)
SELECT 'pause', id, '{}'::jsonb, 'bench-' || id FROM baskets WHERE status = 'active' LIMIT 5;
VACUUM ANALYZE;
SQL
echo "seeded in $(( $(date +%s) - t0 )) s:"
psql -d "$db" -t -A -F ' ' -c "SELECT count(*) || ' fills, ' || (SELECT count(*) FROM orders) || ' orders, ' || (SELECT count(*) FROM baskets) || ' baskets (' || (SELECT count(*) FROM baskets WHERE status IN ('active','paused','stopping','closing','error')) || ' listed, holding ' || (SELECT count(*) FROM fills WHERE basket_id IN (SELECT id FROM baskets WHERE status IN ('active','paused','stopping','closing','error'))) || ' fills)' FROM fills"

DATABASE_URL="$url" WEB_BIND="127.0.0.1:$port" DASHBOARD_PASSWORD=bench-password \
  APP_SECRET=bench-secret-0123456789 WEB_METRICS_TOKEN="$token" RUST_LOG=warn \
  target/release/web >"$tmp/web.log" 2>&1 &
web=$!
base="http://127.0.0.1:$port"
for _ in $(seq 100); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.1; done

auth="Authorization: Bearer $token"
code=$(curl -s -o "$tmp/metrics.txt" -w '%{http_code}' -H "$auth" "$base/metrics")
[ "$code" = 200 ] || { echo "GET /metrics: HTTP $code" >&2; cat "$tmp/web.log" >&2; exit 1; }
echo "one scrape: $(wc -c <"$tmp/metrics.txt") bytes, $(grep -vc '^#' "$tmp/metrics.txt") samples"

for _ in $(seq 20); do curl -s -o /dev/null -H "$auth" "$base/metrics"; done
for _ in $(seq "$scrapes"); do
  curl -s -o /dev/null -w '%{time_total}\n' -H "$auth" "$base/metrics"
done | sort -n >"$tmp/times"
n=$(wc -l <"$tmp/times")
at() { sed -n "${1}p" "$tmp/times" | awk '{printf "%.1f", $1*1000}'; }
p50=$(( (n + 1) / 2 )); p99=$(( (n * 99 + 99) / 100 ))
echo
echo "== GET /metrics, $n sequential scrapes (curl time_total, ms)"
echo "p50 $(at "$p50")   p99 $(at "$p99")   max $(at "$n")"

echo
echo "== the scrape's queries alone (EXPLAIN ANALYZE execution time)"
listed="('active','paused','stopping','closing','error')"
explain() {
  printf '%-34s' "$1"
  psql -d "$db" -t -A -c "EXPLAIN ANALYZE $2" | sed -n 's/^Execution Time: //p'
}
explain "listed baskets + last prices" "SELECT b.id, b.symbol, b.pos, b.cost, b.realized, b.fees, b.fills_count, p.price FROM baskets b LEFT JOIN market_prices p ON p.symbol = b.symbol WHERE b.status IN $listed ORDER BY b.id DESC LIMIT 500"
explain "their open orders by role" "SELECT basket_id, role, count(*) FROM orders WHERE basket_id IN (SELECT id FROM baskets WHERE status IN $listed) AND status IN ('PENDING_NEW','NEW','PARTIALLY_FILLED','PENDING_CANCEL','UNKNOWN') GROUP BY 1, 2"
explain "listed baskets per status" "SELECT status, count(*) FROM baskets WHERE status IN $listed GROUP BY status"
explain "P&L of the last 24 hours" "SELECT b.quote_asset, sum(h.realized), sum(h.fees) FROM pnl_hourly h JOIN baskets b ON b.id = h.basket_id WHERE h.bucket_start >= date_trunc('hour', now()) - interval '23 hours' GROUP BY b.quote_asset"
explain "workers" "SELECT instance_id, metrics FROM bot_status ORDER BY heartbeat_at DESC LIMIT 50"
explain "pending commands" "SELECT status, count(*) FROM commands WHERE status IN ('pending','running') GROUP BY status"
explain "newest snapshot" "SELECT total_value FROM account_snapshots ORDER BY \"timestamp\" DESC, id DESC LIMIT 1"

echo
echo "== for comparison: counting the listed baskets' fills (not done by a scrape)"
psql -d "$db" -c '\timing on' -c "SELECT count(*) FROM fills WHERE basket_id IN (SELECT id FROM baskets WHERE status IN ('active','paused','stopping','closing','error'))" | grep -E "^Time"
