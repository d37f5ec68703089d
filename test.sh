#!/usr/bin/env bash
# Set everything up and run the checks: ruff (lint and layout), then the whole test suite (SQLite and PostgreSQL).
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
exec .venv/bin/python -m pytest "$@"
