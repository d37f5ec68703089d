"""The reports package stays channel-agnostic: the same code serves Telegram and the command line."""

from __future__ import annotations

import ast
from pathlib import Path

REPORTS = Path(__file__).resolve().parent.parent / "reports"


def test_reports_never_import_telegram() -> None:
    """No module under reports/ imports telegram (only handlers/ and bot.py may)."""
    offenders = []
    for path in sorted(REPORTS.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {name}" for name in names if name.split(".")[0] == "telegram"]
    assert len(list(REPORTS.glob("*.py"))) >= 5 and offenders == []
