"""The files in examples/ do what the README's knowledge commands say, run as it writes them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from knowledge.__main__ import main
from knowledge.loader import load_entries

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
GIFT_CARDS = [
    "giftcard-buy",
    "giftcard-bind",
    "giftcard-balance",
    "giftcard-expire",
    "giftcard-refund",
    "en-giftcard-use",
]


def test_every_example_the_readme_names_ships() -> None:
    named = set(re.findall(r"examples/[\w.-]+", (ROOT / "README.md").read_text(encoding="utf-8")))
    assert named >= {"examples/faq.jsonl", "examples/faq.csv", "examples/cases.jsonl"}
    assert all((ROOT / name).is_file() for name in named)


@pytest.mark.parametrize("table", ["faq.jsonl", "faq.csv"])
def test_the_example_faq_imports_into_a_topic_file(
    table: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`knowledge import examples/faq.jsonl --out …` (or the CSV): six gift-card entries, one in English."""
    monkeypatch.chdir(ROOT)
    out = tmp_path / "gift-cards.yaml"
    assert main(["import", f"examples/{table}", "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip() == f"6 entries written to {out}"
    entries, _ = load_entries([out])
    assert [entry.id for entry in entries] == GIFT_CARDS
    assert {entry.category for entry in entries} == {"礼品卡"}
    assert entries[-1].question == "How do I pay with a gift card?"
    assert entries[0].answer.splitlines()[1] == "电子卡付款后立即到账，实体卡3天内寄出。"
    assert out.read_text(encoding="utf-8").startswith("category: 礼品卡\nentries:\n")


def test_the_jsonl_and_csv_examples_hold_the_same_entries() -> None:
    [from_jsonl, _], [from_csv, _] = load_entries([EXAMPLES / "faq.jsonl"]), load_entries([EXAMPLES / "faq.csv"])
    assert from_jsonl == from_csv


def test_the_example_cases_score_the_shipped_knowledge_base(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`knowledge eval --kb knowledge/kb --cases examples/cases.jsonl`: 17 of 19 ranked first and answered, one
    answered wrong, no out-of-scope question answered; --misses names the two entries customers did not reach."""
    monkeypatch.chdir(ROOT)
    command = ["eval", "--lexical", "--kb", "knowledge/kb", "--cases", "examples/cases.jsonl", "--json"]
    command += ["--misses", "20"]
    assert main(command) == 0
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    counts = {name: report[name] for name in ("cases", "expected_cases", "out_of_scope_cases")}
    assert counts == {"cases": 22, "expected_cases": 19, "out_of_scope_cases": 3}
    assert report["top1"] == round(17 / 19, 4) and report["top3"] == round(18 / 19, 4)
    assert report["answered_correct"] == round(17 / 19, 4) and report["answered_wrong"] == round(1 / 19, 4)
    assert report["oos_false_answer"] == 0.0
    missed = [line.split()[1] for line in captured.err.splitlines() if line.startswith("    1/1")]
    assert missed == ["account-service-hours", "delivery-sign-issue"]


def test_the_readme_never_calls_a_bare_python() -> None:
    """`python …` fails with ModuleNotFoundError unless .venv is activated; the README runs `.venv/bin/python`."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    bare = re.findall(r"(?:^|`|\|\s*|&&\s*)python3? [^`\n]*", readme, flags=re.MULTILINE)
    assert bare == []
