#!/usr/bin/env bash
# Set everything up and run the checks: ruff (lint and layout), the import contracts, then the whole test suite
# (SQLite and PostgreSQL).
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
# The layer rule (pyproject.toml, [tool.importlinter]): app → channels → desk → reports → store.
.venv/bin/lint-imports --no-cache >/dev/null || .venv/bin/lint-imports --no-cache
exec .venv/bin/python -m pytest "$@"
