"""Files managers receive: CSV/XLSX writers, zipping and splitting, whole pulls with their audit, and the CLI."""

from __future__ import annotations

import csv
import os
import warnings
import zipfile
from datetime import datetime
from pathlib import Path

import matplotlib.image
import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from app.store_cli import main as cli_main
from crm_store import Store
from crm_store.models import Export
from reports import Requester, export_logs, fit_for_upload, make_report, parse_log_args, parse_period
from reports.charts import cjk_font
from reports.writers import write_csv, write_xlsx
from tests.test_reports_queries import NOW, TODAY, ZONE, seed_history

ROOT = Path(__file__).resolve().parent.parent
HEADER = ("时间 Time", "客户 Customer", "内容 Text", "置信度 Confidence")
ROWS = [
    (datetime(2026, 11, 1, 9, 30), "王芳", "怎么退货？", 0.91),
    (datetime(2026, 11, 1, 9, 31), "Bob", '=HYPERLINK("http://evil")', None),
    (datetime(2026, 11, 1, 9, 32), "张三", "bell\x07 in text", 0.5),
]


def test_csv_has_bom_and_neutralises_formulas(tmp_path: Path) -> None:
    """UTF-8 with BOM for Excel; text that would run as a formula is prefixed with a quote; None is empty."""
    path = tmp_path / "logs.csv"
    assert write_csv(path, HEADER, iter(ROWS)) == 3
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    header, *rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert tuple(header) == HEADER
    assert rows[0] == ["2026-11-01 09:30:00", "王芳", "怎么退货？", "0.91"]
    assert rows[1][2] == '\'=HYPERLINK("http://evil")' and rows[1][3] == ""


def test_xlsx_keeps_types_and_never_stores_customer_formulas(tmp_path: Path) -> None:
    """Times stay datetimes, numbers numbers; '=…' stays text; control characters are dropped, not fatal."""
    path = tmp_path / "logs.xlsx"
    assert write_xlsx(path, HEADER, iter(ROWS)) == 3
    sheet = load_workbook(path).active
    assert [cell.value for cell in sheet[1]] == list(HEADER) and sheet[1][0].font.bold
    assert sheet["A2"].value == datetime(2026, 11, 1, 9, 30) and sheet["D2"].value == 0.91
    assert sheet["C3"].value == '=HYPERLINK("http://evil")' and sheet["C3"].data_type == "s"
    assert sheet["C4"].value == "bell in text"
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == "A1:D4"


def test_small_file_is_sent_as_is_big_one_zipped_then_split(tmp_path: Path) -> None:
    """Under the limit: untouched. Over it: zipped. Zip still over: cut into .001… parts that join back."""
    path = tmp_path / "logs.csv"
    path.write_bytes(b"a,b\n" * 1000)
    assert fit_for_upload(path, limit=10_000).paths == (path,)
    zipped = fit_for_upload(path, limit=3000)
    assert zipped.zipped and not zipped.split and zipped.paths[0].suffix == ".zip"
    noisy = tmp_path / "noisy.csv"
    noisy.write_bytes(os.urandom(5000))
    parts = fit_for_upload(noisy, limit=2000)
    assert parts.split and [p.name for p in parts.paths] == [f"noisy.csv.zip.00{n}" for n in (1, 2, 3)]
    assert all(p.stat().st_size <= 2000 for p in parts.paths)
    joined = tmp_path / "joined.zip"
    joined.write_bytes(b"".join(p.read_bytes() for p in parts.paths))
    assert zipfile.ZipFile(joined).read("noisy.csv") == noisy.read_bytes()


def _exports(store: Store) -> list[Export]:
    with store.transaction() as session:
        return list(session.scalars(sa.select(Export).order_by(Export.id)))


def test_export_logs_writes_the_file_and_records_who(store: Store, tmp_path: Path) -> None:
    """A pull writes the file with the matching rows and adds one audit row with the filter and the count."""
    with store.transaction() as session:
        seed_history(session)
    log_filter = parse_log_args(["7d", "actor=bot", "format=xlsx"], ZONE, today=TODAY)
    export = export_logs(store, log_filter, zone=ZONE, folder=tmp_path, requester=Requester("cli", name="mgr"))
    assert export.rows == 4 and export.path.exists()
    assert load_workbook(export.path).active.max_row == 5
    [audit] = _exports(store)
    assert (audit.id, audit.what, audit.channel, audit.user_name, audit.rows, audit.format) == (
        export.export_id, "logs", "cli", "mgr", 4, "xlsx",
    )  # fmt: skip
    assert audit.filters == "2026-11-04..2026-11-10 actor=bot"


def test_make_report_writes_valid_pngs_and_summary(store: Store, tmp_path: Path) -> None:
    """Seven PNG charts that decode, a summary.txt, and an audit row, from a seeded week."""
    with store.transaction() as session:
        seed_history(session)
    period = parse_period("7d", ZONE, today=TODAY)
    report = make_report(store, period, folder=tmp_path, requester=Requester("cli", name="mgr"), now=NOW)
    assert len(report.charts) == 7
    for chart in report.charts:
        pixels = matplotlib.image.imread(chart)
        assert pixels.shape[0] >= 600 and pixels.shape[1] >= 1200
    assert (tmp_path / "summary.txt").read_text(encoding="utf-8").startswith("📊 客服报表")
    [audit] = _exports(store)
    assert (audit.what, audit.format, audit.rows) == ("report", "png", 6)


def test_chinese_labels_render_with_a_cjk_font(store: Store, tmp_path: Path) -> None:
    """setup.sh installs a CJK font; drawing a report then reports no missing glyph (else: empty boxes)."""
    if cjk_font() is None:
        pytest.skip("no CJK font on this machine (setup.sh installs fonts-noto-cjk when run as root)")
    with store.transaction() as session:
        seed_history(session)
    period = parse_period("7d", ZONE, today=TODAY)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        make_report(store, period, folder=tmp_path, requester=Requester("cli"), now=NOW)
    missing = [str(w.message) for w in caught if "missing from font" in str(w.message)]
    assert missing == []


def test_cli_pulls_logs_and_report_and_records_them(database_url: str, tmp_path: Path, capsys) -> None:
    """python -m crm_store logs/report: files in --out, a summary printed, both pulls audited as 'cli'."""
    store = Store(database_url)
    store.upgrade()
    with store.transaction() as session:
        seed_history(session)
    common = ["--config", str(ROOT / "config.toml"), "--database-url", database_url]
    assert cli_main([*common, "logs", "2026-11-04..2026-11-10", "intent=no_answer", "--out", str(tmp_path)]) == 0
    assert "4 rows" in capsys.readouterr().out
    with (tmp_path / "logs_2026-11-04_2026-11-10.csv").open(encoding="utf-8-sig") as handle:
        assert len(list(csv.reader(handle))) == 5
    assert cli_main([*common, "report", "2026-11-04..2026-11-10", "--out", str(tmp_path / "rep")]) == 0
    assert "客服报表" in capsys.readouterr().out
    assert len(list((tmp_path / "rep").glob("*.png"))) == 7
    assert cli_main([*common, "logs", "7d", "colour=red"]) == 2
    assert "Unknown filter" in capsys.readouterr().err
    assert [(e.what, e.channel) for e in _exports(store)] == [("logs", "cli"), ("report", "cli")]
    store.close()
