#!/usr/bin/env bash
# Set everything up and start the desk: Telegram when a token is configured, else a chat in this terminal.
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup.sh >&2
exec .venv/bin/python bot.py "$@"
