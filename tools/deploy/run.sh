#!/usr/bin/env bash
# Runs the trading engine in the foreground: checks the configuration (and,
# in live mode, the credentials) with `trading-engine config check`, then
# replaces itself with `trading-engine run`, so signals (SIGTERM, SIGHUP)
# reach the engine directly.
#
# Usage: run.sh [CONFIG] [extra engine args...]
#   CONFIG                 default /etc/trading-engine/config.toml
#   TRADING_ENGINE_BIN     engine binary (default: trading-engine on PATH)
#   TRADING_ENGINE_ENV     .env file with BINGX_API_KEY / BINGX_API_SECRET
#                          (default: .env in the current directory)
# Exit codes: 2 usage/missing file, 3 configuration rejected; otherwise the engine's.
set -euo pipefail

config="${1:-/etc/trading-engine/config.toml}"
if [[ $# -gt 0 ]]; then shift; fi
bin="${TRADING_ENGINE_BIN:-trading-engine}"
env_file="${TRADING_ENGINE_ENV:-.env}"

if ! command -v "$bin" >/dev/null 2>&1; then
    echo "run.sh: engine binary not found: $bin" >&2
    exit 2
fi
if [[ ! -r "$config" ]]; then
    echo "run.sh: configuration not readable: $config" >&2
    exit 2
fi

# The report goes to stdout (the journal under systemd); failures to stderr.
if ! "$bin" config check --config "$config" --env-file "$env_file"; then
    echo "run.sh: configuration check failed for $config; not starting" >&2
    exit 3
fi
echo "run.sh: configuration check passed for $config; starting the engine" >&2

exec "$bin" run --config "$config" "$@"
