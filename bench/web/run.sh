#!/usr/bin/env bash
# The dashboard under the issue's load: 100,000 orders and 1,000,000 fills
# (crates/web/examples/seed.rs) in a fresh database, the release `web` binary,
# then:
#   - GET / with wrk at 32 connections (target: >= 1,000 req/s, p99 < 50 ms);
#   - every kind of history page alone, first and last (target: < 50 ms),
#     as the median and the worst of 20 curl requests each;
#   - the first and last orders page with wrk at 32 connections (p99).
#   bench/web/run.sh [orders] [fills] [seconds]
# Needs PostgreSQL on 127.0.0.1:5432 (trust), wrk and curl. The database is
# dropped at the end.
set -euo pipefail
cd "$(dirname "$0")/../.."
orders="${1:-100000}"; fills="${2:-1000000}"; secs="${3:-10}"; port=18080
command -v wrk >/dev/null || { echo "apt-get install -y wrk" >&2; exit 1; }
db="web_bench_$$"
url="postgres://postgres@127.0.0.1:5432/$db"
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
echo "seeded $orders orders and $fills fills in $(( $(date +%s) - t0 )) s"
psql -d "$db" -c "VACUUM ANALYZE"

DATABASE_URL="$url" WEB_BIND="127.0.0.1:$port" DASHBOARD_PASSWORD=bench-password \
  APP_SECRET=bench-secret-0123456789 RUST_LOG=warn target/release/web >"$tmp/web.log" 2>&1 &
web=$!
base="http://127.0.0.1:$port"
for _ in $(seq 100); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.1; done

# Log in like a browser: the login form's CSRF token, then the session cookie.
token=$(curl -sf "$base/login" | sed -n 's/.*name="_token" value="\([^"]*\)".*/\1/p' | head -1)
cookie=$(curl -s -o /dev/null -D - "$base/login" \
  --data-urlencode "_token=$token" --data-urlencode "username=admin" \
  --data-urlencode "password=bench-password" \
  | sed -n 's/^[Ss]et-[Cc]ookie: \(gt_session=[^;]*\).*/\1/p')
[ -n "$cookie" ] || { echo "login failed" >&2; cat "$tmp/web.log" >&2; exit 1; }

# Cursors of the last pages (50 rows per page): the 51st oldest row.
last_order=$(psql -d "$db" -t -A -c "SELECT (extract(epoch FROM created_at)*1000000)::bigint || '-' || id FROM orders ORDER BY created_at, id OFFSET 50 LIMIT 1")
last_fill=$(psql -d "$db" -t -A -c "SELECT (extract(epoch FROM executed_at)*1000000)::bigint || '-' || id FROM fills ORDER BY executed_at, id OFFSET 50 LIMIT 1")
basket=$(psql -d "$db" -t -A -c "SELECT basket_id FROM orders GROUP BY basket_id ORDER BY count(*) DESC LIMIT 1")

echo
echo "== GET / at 32 connections, ${secs} s"
wrk -t2 -c32 -d"${secs}s" --latency -H "Cookie: $cookie" "$base/" \
  | grep -E "Requests/sec|Latency  |  (50|99)%|Non-2xx|Socket errors"

echo
echo "== history pages alone (20 requests each): median / worst, ms"
page() {
  local name="$1" path="$2" code times
  code=$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: $cookie" "$base$path")
  [ "$code" = 200 ] || { echo "$name: HTTP $code for $path" >&2; exit 1; }
  times=$(for _ in $(seq 20); do
    curl -s -o /dev/null -w '%{time_total}\n' -H "Cookie: $cookie" "$base$path"
  done | sort -n)
  printf '%-28s %6.1f / %6.1f\n' "$name" \
    "$(echo "$times" | sed -n 10p | awk '{print $1*1000}')" \
    "$(echo "$times" | tail -1 | awk '{print $1*1000}')"
}
page "orders, first page" "/orders/history"
page "orders, last page" "/orders/history?before=$last_order"
page "orders, basket filter" "/orders/history?basket=$basket"
page "orders, side+status filter" "/orders/history?side=SELL&status=FILLED"
page "fills, first page" "/orders/history?view=fills"
page "fills, last page" "/orders/history?view=fills&before=$last_fill"
page "basket page" "/baskets/$basket"

echo
for p in "/orders/history" "/orders/history?before=$last_order"; do
  echo "== GET $p at 32 connections, ${secs} s"
  wrk -t2 -c32 -d"${secs}s" --latency -H "Cookie: $cookie" "$base$p" \
    | grep -E "Requests/sec|  (50|99)%|Non-2xx|Socket errors"
done
