#!/bin/sh
# Signed-order HTTP throughput against an in-process exchange-sim.
set -e
cd "$(dirname "$0")/../.."
exec cargo run --release -p exchange-sim --example loadgen -- "${1:-10}" "${2:-4}" ${3:+"$3"}
