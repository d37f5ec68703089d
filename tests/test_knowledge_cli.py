"""`python -m knowledge`: checking files, measuring quality, and moving entries between formats."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from knowledge import KnowledgeBase
from knowledge.__main__ import main

TOPIC = """\
category: 发货
entries:
  - id: ship-when
    question: 什么时候发货？
    alternates: [几天能发货]
    keywords: [发货]
    answer: |
      付款后48小时内发货。
      节假日顺延。
  - id: track
    question: 怎么查物流？
    alternates: [快递到哪了]
    keywords: [物流, 快递]
    answer: 在订单详情查看物流。
"""


@pytest.fixture
def kb_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "kb"
    directory.mkdir()
    (directory / "shipping.yaml").write_text(TOPIC, encoding="utf-8")
    return directory


def test_check_reports_ok_count(kb_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A valid knowledge base prints how much was checked and exits 0."""
    assert main(["check", str(kb_dir)]) == 0
    assert capsys.readouterr().out.strip() == "2 entries OK in 1 files"


def test_check_lists_every_problem_and_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Each problem is one line naming file, entry and field; the exit code fails CI."""
    bad = tmp_path / "bad.yaml"
    bad.write_text("entries:\n  - {id: a, question: '', answer: x}\n  - {id: b, question: q}\n", "utf-8")
    assert main(["check", str(bad)]) == 1
    err = capsys.readouterr().err
    assert f"{bad}: entry 'a': field 'question': must not be empty" in err
    assert f"{bad}: entry 'b': field 'answer': is required" in err


def test_check_advises_on_shared_and_empty_phrasings_but_still_passes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Valid entries that will match badly are pointed out by file, entry and field; the exit code stays 0."""
    (tmp_path / "a.yaml").write_text(TOPIC, encoding="utf-8")
    (tmp_path / "b.yaml").write_text(
        "entries:\n  - {id: ship-late, question: 发货慢, alternates: ['几天能发货！', 请问一下], answer: 抱歉。}\n",
        encoding="utf-8",
    )
    assert main(["check", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    shared = "the same phrasing as entry 'ship-when' (alternates[0])"
    assert f"advice: {tmp_path / 'b.yaml'}: entry 'ship-late': field 'alternates[0]': {shared}" in out
    assert f"advice: {tmp_path / 'b.yaml'}: entry 'ship-late': field 'alternates[1]': nothing is left" in out
    assert "2 piece(s) of advice" in out
    assert "entry 'ship-when'" not in out.replace("as entry 'ship-when'", "")


def test_eval_json_is_all_of_stdout_and_the_table_goes_to_stderr(
    kb_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """With --json, stdout is the JSON report alone, ready for `json.load`; people read the table on stderr."""
    cases = tmp_path / "cases.jsonl"
    lines = [
        {"query": "几天发货", "expect": "ship-when"},
        {"query": "我的快递到哪了", "expect": "track"},
        {"query": "你好", "expect": None},
    ]
    cases.write_text("\n".join(json.dumps(line, ensure_ascii=False) for line in lines), "utf-8")
    assert main(["eval", "--lexical", "--kb", str(kb_dir), "--cases", str(cases), "--json", "--margin", "0.0"]) == 0
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert report["top1"] == 1.0 and report["oos_false_answer"] == 0.0
    assert report["expected_cases"] == 2 and report["out_of_scope_cases"] == 1
    assert report["thresholds"]["margin"] == 0.0
    assert any(line.startswith("top3") for line in captured.err.splitlines())


def test_eval_lists_the_entries_customers_miss_and_what_they_get_instead(
    kb_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Authors see where an alternate phrasing would help most: missed/asked, then the usual wrong pick."""
    cases = tmp_path / "cases.jsonl"
    lines = [
        {"query": "快递到哪了", "expect": "ship-when"},  # lands on "track" instead
        {"query": "我的快递到哪了", "expect": "ship-when"},
        {"query": "几天能发货", "expect": "ship-when"},
        {"query": "怎么查物流", "expect": "track"},
        {"query": "你好", "expect": None},
    ]
    cases.write_text("\n".join(json.dumps(line, ensure_ascii=False) for line in lines), "utf-8")
    assert main(["eval", "--lexical", "--kb", str(kb_dir), "--cases", str(cases), "--misses", "5", "--json"]) == 0
    captured = capsys.readouterr()
    table = captured.err.strip().splitlines()
    listing = table[table.index("most missed entries (missed/asked, then what customers got instead):") + 1 :]
    assert listing == ["    2/3     ship-when 「什么时候发货？」 → track 「怎么查物流？」 ×2"]
    assert json.loads(captured.out)["top1"] == 0.5


def test_eval_rejects_a_malformed_cases_file(kb_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A broken cases file is named with its line, not a traceback."""
    cases = tmp_path / "cases.jsonl"
    cases.write_text('{"query": "x"}\n{"expect": "track"}\n', "utf-8")
    assert main(["eval", "--lexical", "--kb", str(kb_dir), "--cases", str(cases)]) == 1
    assert "line 2" in capsys.readouterr().err


@pytest.mark.parametrize("suffix", [".jsonl", ".csv"])
def test_export_then_import_round_trips(kb_dir: Path, tmp_path: Path, suffix: str) -> None:
    """Exporting to a table and importing back gives the same entries, multi-line answers included."""
    table = tmp_path / f"all{suffix}"
    assert main(["export", "--kb", str(kb_dir), "--out", str(table)]) == 0
    topic = tmp_path / "back.yaml"
    assert main(["import", str(table), "--out", str(topic)]) == 0
    assert KnowledgeBase.load([topic]).entries == KnowledgeBase.load([kb_dir]).entries
    assert "answer: |" in topic.read_text("utf-8")


def test_import_refuses_to_overwrite_without_force(
    kb_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An author's hand-written topic file is never replaced by accident."""
    table = tmp_path / "all.jsonl"
    main(["export", "--kb", str(kb_dir), "--out", str(table)])
    existing = kb_dir / "shipping.yaml"
    assert main(["import", str(table), "--out", str(existing)]) == 1
    assert "--force" in capsys.readouterr().err
    assert main(["import", str(table), "--out", str(existing), "--force"]) == 0


def test_unknown_export_format_is_an_error(kb_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Only JSONL and CSV are written; anything else is refused with a clear message."""
    assert main(["export", "--kb", str(kb_dir), "--out", str(tmp_path / "x.xlsx")]) == 1
    assert ".jsonl or .csv" in capsys.readouterr().err


def test_csv_export_starts_with_a_bom_for_excel(kb_dir: Path, tmp_path: Path) -> None:
    """Excel reads a CSV as UTF-8 only when it starts with a BOM; without one Chinese text is mojibake."""
    table = tmp_path / "kb.csv"
    assert main(["export", "--kb", str(kb_dir), "--out", str(table)]) == 0
    assert table.read_bytes().startswith(b"\xef\xbb\xbf")


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_import_reads_csv_saved_by_excel(tmp_path: Path, encoding: str) -> None:
    """A CSV saved by Excel on a Chinese Windows is GBK; it imports like a UTF-8 one, with or without a BOM."""
    table = tmp_path / "kb.csv"
    table.write_bytes("id,question,answer\nship-when,什么时候发货？,付款后48小时内发货。\n".encode(encoding))
    topic = tmp_path / "kb.yaml"
    assert main(["import", str(table), "--out", str(topic)]) == 0
    [entry] = KnowledgeBase.load([topic]).entries
    assert (entry.id, entry.question, entry.answer) == ("ship-when", "什么时候发货？", "付款后48小时内发货。")


def test_import_of_undecodable_csv_names_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Bytes that are neither UTF-8 nor GB18030 give one clear error naming the file, not a traceback."""
    table = tmp_path / "broken.csv"
    table.write_bytes(b"id,question,answer\na,\x81\x30,x\n")
    assert main(["import", str(table), "--out", str(tmp_path / "kb.yaml")]) == 1
    err = capsys.readouterr().err
    assert str(table) in err and "GB18030" in err
