#!/usr/bin/env bash
# Signed order requests per second against the exchange-sim binary, measured
# with wrk (Debian package) from a second process. Each request is a distinct,
# validly signed LIMIT IOC BUY below the market (it expires at once, so no
# balance or open-order limit is reached); wrk replays them round-robin.
#   bench/exchange-sim/wrk.sh [seconds] [connections]
set -euo pipefail
cd "$(dirname "$0")/../.."
secs="${1:-10}"; conns="${2:-32}"; port=18901
command -v wrk >/dev/null || { echo "apt-get install -y wrk" >&2; exit 1; }
cargo build -q --release -p exchange-sim
tmp=$(mktemp -d); trap 'kill "$sim" 2>/dev/null; rm -rf "$tmp"' EXIT
# Order-rate limits raised: this measures the server, not the limiter.
cat > "$tmp/sim.json" <<'JSON'
{"limits": {"weight_per_minute": 100000000, "orders_per_10s": 100000000, "orders_per_day": 1000000000}}
JSON
target/release/exchange-sim --bind "127.0.0.1:$port" --config "$tmp/sim.json" >"$tmp/sim.log" 2>&1 &
sim=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/api/v3/ping" >/dev/null && break; sleep 0.1; done
python3 - "$tmp/requests.txt" <<'PY'
import hashlib, hmac, sys, time
ts = int(time.time() * 1000)
with open(sys.argv[1], "w") as out:
    for i in range(200_000):
        q = (f"symbol=SOLUSDC&side=BUY&type=LIMIT&timeInForce=IOC&quantity=0.100&price=100.00"
             f"&newClientOrderId=wrk{i}&recvWindow=60000&timestamp={ts}")
        sig = hmac.new(b"sim-secret", q.encode(), hashlib.sha256).hexdigest()
        out.write(f"/api/v3/order?{q}&signature={sig}\n")
PY
cat > "$tmp/orders.lua" <<LUA
local paths = {}
for line in io.lines("$tmp/requests.txt") do paths[#paths + 1] = line end
local n = 0
local counter = 0
function setup(thread) counter = counter + 1; thread:set("offset", counter * 100000) end
function init(args) n = offset or 0 end
request = function()
  n = n + 1
  return wrk.format("POST", paths[(n % #paths) + 1], {["X-MBX-APIKEY"] = "sim-key"})
end
LUA
wrk -t2 -c"$conns" -d"${secs}s" --latency -s "$tmp/orders.lua" "http://127.0.0.1:$port" | grep -E "Requests/sec|Latency|99%|Non-2xx|requests in|Socket errors"
# wrk prints "Non-2xx or 3xx responses: N" only when there were any.
