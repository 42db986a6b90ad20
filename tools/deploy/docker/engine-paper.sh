#!/usr/bin/env bash
# Entry point of the engine container: starts bingx-sim on loopback (a
# generated market at SIM_SPEED times real time), waits until it accepts
# connections, then replaces itself with the engine in paper mode, so
# `docker compose stop` (SIGTERM) reaches the engine and it shuts down cleanly.
set -euo pipefail

bingx-sim --listen 127.0.0.1:18777 --speed "${SIM_SPEED:-60}" >/dev/null &
for _ in $(seq 1 100); do
    if (exec 3<>/dev/tcp/127.0.0.1/18777) 2>/dev/null; then
        exec trading-engine run --config /etc/trading-engine/config.toml --mode paper
    fi
    sleep 0.1
done
echo "engine-paper.sh: bingx-sim did not start" >&2
exit 1
