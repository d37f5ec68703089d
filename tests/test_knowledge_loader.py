"""Loading knowledge files: every format, and every mistake reported with its file, entry and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge import Entry, KnowledgeBase, KnowledgeError, Problem

RETURNS_YAML = """\
category: 退换货
entries:
  - id: return-how
    question: 怎么退货？
    alternates: [我想退货, 退货流程是什么]
    keywords: [退货, 退回]
    answer: |
      在订单页点击“申请退货”。
      审核通过后寄回商品即可。
  - id: return-fee
    question: 退货运费谁出？
    category: 运费
    answer: 质量问题由我们承担运费。
    enabled: false
"""


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(paths: list[Path]) -> list[Problem]:
    with pytest.raises(KnowledgeError) as caught:
        KnowledgeBase.load(paths)
    return caught.value.problems


def test_yaml_topic_file_loads_with_its_default_category(tmp_path: Path) -> None:
    """The file's category fills entries that have none; an entry's own category wins."""
    kb = KnowledgeBase.load([write(tmp_path, "returns.yaml", RETURNS_YAML)])
    how, fee = kb.entries
    assert how.category == "退换货" and fee.category == "运费"
    assert how.alternates == ["我想退货", "退货流程是什么"]
    assert how.answer.startswith("在订单页") and not fee.enabled
    assert kb.sources == (tmp_path / "returns.yaml",)
    assert kb.get("return-fee") is fee and kb.get("nope") is None


def test_directory_loads_yaml_toml_jsonl_and_csv(tmp_path: Path) -> None:
    """A directory contributes every knowledge file inside it, whatever the format."""
    write(tmp_path, "a.yaml", RETURNS_YAML)
    write(
        tmp_path,
        "b.toml",
        'category = "发货"\n[[entries]]\nid = "ship-when"\nquestion = "什么时候发货"\nanswer = "48小时内"\n',
    )
    write(tmp_path, "c.jsonl", '{"id": "pay-card", "question": "能刷卡吗", "answer": "可以", "keywords": ["刷卡"]}\n')
    write(
        tmp_path,
        "d.csv",
        "id,question,answer,keywords,category,alternates\ninv,怎么开发票,在订单页申请,发票|开票,发票,要发票|开票\n",
    )
    write(tmp_path, "notes.txt", "not knowledge")
    kb = KnowledgeBase.load([tmp_path])
    assert [entry.id for entry in kb.entries] == ["return-how", "return-fee", "ship-when", "pay-card", "inv"]
    assert kb.get("ship-when").category == "发货"
    assert kb.get("inv").keywords == ["发票", "开票"] and kb.get("inv").alternates == ["要发票", "开票"]


def test_every_problem_is_collected_with_file_entry_and_field(tmp_path: Path) -> None:
    """One load reports all mistakes, not just the first, each pointing at the exact place."""
    path = write(
        tmp_path,
        "bad.yaml",
        """\
entries:
  - id: ok-1
    question: 好的
    answer: 好
  - id: no-answer
    question: 没有答案
    answer: "   "
  - id: has space
    question: 坏的编号
    answer: 有
    colour: red
  - question: 没有编号
    answer: 有
""",
    )
    messages = {str(problem) for problem in problems_of([path])}
    assert f"{path}: entry 'no-answer': field 'answer': must not be empty" in messages
    assert f"{path}: entry 'has space': field 'colour': unknown field" in messages
    assert any(m.startswith(f"{path}: entry 'has space': field 'id': must be 1-40") for m in messages)
    assert f"{path}: entry '#4': field 'id': is required" in messages
    assert len(messages) == 4


def test_duplicate_ids_across_files_name_both_files(tmp_path: Path) -> None:
    """A duplicate id says where the first one lives, so the author can choose which to rename."""
    first = write(tmp_path, "a.yaml", "entries:\n  - {id: same, question: 一, answer: 一}\n")
    second = write(tmp_path, "b.yaml", "entries:\n  - {id: same, question: 二, answer: 二}\n")
    (problem,) = problems_of([first, second])
    assert problem.file == str(second) and problem.entry == "same" and problem.field == "id"
    assert str(first) in problem.message


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    """A broken YAML file is reported with the line to look at."""
    path = write(tmp_path, "broken.yaml", "entries:\n  - id: a\n    question: [unclosed\n    answer: x\n")
    (problem,) = problems_of([path])
    assert problem.file == str(path) and "YAML syntax error at line" in problem.message


@pytest.mark.parametrize("text", ["- just\n- a list\n", "category: 空\n", "entries: 3\n"])
def test_file_must_be_a_mapping_with_entries(tmp_path: Path, text: str) -> None:
    """Files of the wrong shape are refused with a message saying what shape is expected."""
    (problem,) = problems_of([write(tmp_path, "shape.yaml", text)])
    assert "entries" in problem.message or problem.field == "entries"


def test_empty_knowledge_base_and_missing_paths_are_errors(tmp_path: Path) -> None:
    """Starting the desk with nothing to answer from is a configuration mistake, not a silent state."""
    (empty,) = problems_of([write(tmp_path, "empty.yaml", "entries: []\n")])
    assert "empty" in empty.message
    (missing,) = problems_of([tmp_path / "nowhere"])
    assert "no such file" in missing.message


def test_jsonl_and_csv_report_bad_lines(tmp_path: Path) -> None:
    """Table formats point at the line or row at fault."""
    jsonl = write(tmp_path, "t.jsonl", '{"id": "a", "question": "q", "answer": "a"}\n{oops\n[1]\n')
    assert [p.message.split(":")[0] for p in problems_of([jsonl])] == ["line 2", "line 3"]


def test_from_entries_refuses_duplicate_ids() -> None:
    """Knowledge built in code obeys the same uniqueness rule as files."""
    entry = Entry(id="x", question="q", answer="a")
    with pytest.raises(KnowledgeError, match="duplicate id"):
        KnowledgeBase.from_entries([entry, entry])


def test_entry_ids_fit_telegram_callback_data() -> None:
    """Ids are short ASCII, so `pick:<id>` stays within Telegram's 64-byte callback data."""
    with pytest.raises(ValueError):
        Entry(id="x" * 41, question="q", answer="a")
    with pytest.raises(ValueError):
        Entry(id="退货", question="q", answer="a")
    assert len(f"pick:{'x' * 40}".encode()) <= 64


def test_shipped_knowledge_files_load_when_present() -> None:
    """The product's own knowledge/kb/ content, once written, passes validation."""
    shipped = Path(__file__).resolve().parent.parent / "knowledge" / "kb"
    if not any(shipped.glob("*.y*ml")) and not any(shipped.glob("*.toml")):
        pytest.skip("knowledge/kb/ has no content yet")
    assert len(KnowledgeBase.load([shipped]).entries) > 0
