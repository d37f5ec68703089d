#!/usr/bin/env bash
# Set everything up and run the checks: ruff, then the whole test suite (SQLite and PostgreSQL).
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup.sh
.venv/bin/ruff check .
exec .venv/bin/python -m pytest "$@"
