#!/usr/bin/env bash
# Container health: the dashboard answers /healthz, or the worker's heartbeat is fresh.
set -euo pipefail
case "${BOT_ROLE:-worker}" in
  web)
    port="${WEB_BIND##*:}"
    exec 3<>"/dev/tcp/127.0.0.1/${port:-8080}"
    printf 'GET /healthz HTTP/1.0\r\nHost: localhost\r\n\r\n' >&3
    IFS= read -r status <&3
    [[ "$status" == *" 200 "* ]]
    ;;
  worker)
    exec bot-daemon health
    ;;
  *)
    exit 0
    ;;
esac
