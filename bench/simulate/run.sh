#!/usr/bin/env bash
# Speed of the deterministic simulation harness: basket-cycles per second on
# one core (release build). Usage: bench/simulate/run.sh [seeds] [cycles] [workers]
set -euo pipefail
cd "$(dirname "$0")/../.."
seeds=${1:-200}
cycles=${2:-500}
workers=${3:-1}
cargo build --release -q -p bot-daemon
# taskset keeps it on one core when available (the target is per core).
pin=()
if command -v taskset >/dev/null; then pin=(taskset -c 0); fi
"${pin[@]}" ./target/release/bot-daemon simulate --seeds "$seeds" --cycles "$cycles" --workers "$workers" 2>/dev/null | tail -n 1
