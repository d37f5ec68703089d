"""The fast JSONL path (each line parsed and validated by pydantic-core in one step) against the record-by-record
path it replaces (`json.loads`, then `Entry.model_validate` on the dict): same entries, same problems."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from knowledge import Entry, KnowledgeError, loader
from knowledge.io_formats import read_knowledge_file

PROPERTY = settings(database=None, deadline=None, max_examples=200, suppress_health_check=[HealthCheck.too_slow])
GOOD = '{"id": "return-how", "question": "怎么退货？", "answer": "在订单页申请。", "keywords": ["退货"]}'


def outcome(paths: list[Path]) -> tuple[Any, ...]:
    """What loading gives: entries (with the field names each was given) and origins, or the problems."""
    try:
        entries, files, origins = loader.load_with_origins(paths)
    except KnowledgeError as error:
        return ("problems", error.problems)
    return ("entries", entries, [entry.model_fields_set for entry in entries], files, origins)


def record_by_record(paths: list[Path], monkeypatch: pytest.MonkeyPatch) -> tuple[Any, ...]:
    """`outcome` with every line read into a dict first and validated from it, as before the fast path."""
    with monkeypatch.context() as patched:
        patched.setattr(loader, "read_knowledge_file", lambda path, entries=False: read_knowledge_file(path))
        return outcome(paths)


def write(directory: Path, name: str, lines: list[str], end: str = "\n") -> Path:
    path = directory / name
    path.write_bytes(end.join(lines).encode() + end.encode())
    return path


GOOD_LINES = [
    GOOD,
    "",
    "   ",
    '{"id": " pay-card ", "question": " 能刷卡吗 ", "answer": "可以\\n刷卡", "alternates": [" 刷卡 ", "", "\\u3000"]}',
    '{"question": "q", "answer": "a", "id": "x.1", "enabled": "no", "category": "发票"}',
    '{"id": "dup-key", "id": "dup-key-2", "question": "q", "answer": "a", "enabled": 0}',
    '{"id":"compact","question":"\\u9000\\u8d27","answer":"\\ud83d\\ude00","keywords":[]}',
    '\t{"id": "padded", "question": "q", "answer": "a", "enabled": true}\t',
    json.dumps({"id": "ascii", "question": "怎么开发票", "answer": "在订单页", "alternates": ["要发票"]}),
]

BAD_LINES = [
    GOOD,
    "{oops",
    "[1, 2]",
    '"just text"',
    '{"question": "没有编号", "answer": "有"}',
    '{"id": "has space", "question": "q", "answer": "a", "colour": "red"}',
    '{"id": "no-answer", "question": "q", "answer": "   "}',
    '{"id": "types", "question": 3, "answer": "a", "alternates": "a", "enabled": "maybe"}',
    '{"id": "surrogate", "question": "\\ud800", "answer": "a"}',
    '{"id": "a", "question": "q", "answer": "a"} trailing',
    '{"id": "a", "question": "q", "answer": "a",}',
    '{"id": "deep", "question": "q", "answer": "a", "x": ' + "[" * 300 + "]" * 300 + "}",
    "\u3000",
    GOOD,  # a duplicate id
    '{"id": "退货", "question": "q", "answer": "a"}',
]


@pytest.mark.parametrize("end", ["\n", "\r\n", "\r"])
def test_good_lines_give_the_same_entries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, end: str) -> None:
    """Stripping, blank alternates, lax booleans, duplicate keys, escapes: entry for entry, field for field."""
    path = write(tmp_path, "kb.jsonl", GOOD_LINES, end)
    fast = outcome([path])
    assert fast[0] == "entries" and len(fast[1]) == 7
    assert fast == record_by_record([path], monkeypatch)


def test_bad_lines_report_the_same_problems(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every mistake is still named with its file, line or entry (#N without an id) and field."""
    path = write(tmp_path, "bad.jsonl", BAD_LINES)
    fast = outcome([path])
    assert fast == record_by_record([path], monkeypatch)
    messages = [str(problem) for problem in fast[1]]
    assert messages[:3] == [
        f"{path}: line 2: invalid JSON: Expecting property name enclosed in double quotes",
        f"{path}: line 3: must be a JSON object",
        f"{path}: line 4: must be a JSON object",
    ]
    assert f"{path}: entry '#2': field 'id': is required" in messages
    assert f"{path}: entry 'has space': field 'colour': unknown field" in messages
    assert f"{path}: entry 'no-answer': field 'answer': must not be empty" in messages
    assert f"{path}: entry 'types': field 'enabled': must be true or false" in messages
    assert f"{path}: entry 'return-how': field 'id': duplicate id (earlier in this file)" in messages


def test_other_line_breaks_split_lines_as_before(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Form feeds, U+2028 and the like end a line for `str.splitlines`, so they still do."""
    lines = [GOOD.replace("在订单页", "在\u2028订单页"), "\x0c", GOOD.replace("return-how", "b") + "\x1e" + GOOD]
    path = write(tmp_path, "odd.jsonl", lines)
    fast = outcome([path])
    assert fast[0] == "problems" and fast == record_by_record([path], monkeypatch)


def test_a_byte_order_mark_is_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + GOOD.encode() + b"\n")
    assert outcome([path]) == record_by_record([path], monkeypatch)
    assert outcome([path])[1][0].id == "return-how"


def test_entries_read_fast_share_their_field_names(tmp_path: Path) -> None:
    """The memory saving of `Entry.model_post_init` holds for entries validated straight from JSON."""
    path = write(tmp_path, "kb.jsonl", [GOOD, GOOD.replace("return-how", "b"), GOOD.replace("return-how", "c")])
    first, second, third = outcome([path])[1]
    assert first.__pydantic_fields_set__ is second.__pydantic_fields_set__ is third.__pydantic_fields_set__
    assert first.model_fields_set == {"id", "question", "answer", "keywords"}


def test_other_readers_still_get_the_records_as_written(tmp_path: Path) -> None:
    """Only the loader asks for entries; a plain read of a JSONL file gives dicts, untouched."""
    raw = read_knowledge_file(write(tmp_path, "kb.jsonl", [GOOD.replace('"return-how"', '" return-how "')]))
    assert raw.records == [json.loads(GOOD.replace('"return-how"', '" return-how "'))]
    assert all(not isinstance(record, Entry) for record in raw.records)


FIELDS = ["id", "question", "answer", "alternates", "keywords", "category", "enabled", "colour"]
texts = st.text(st.sampled_from('aé退货 _.-\t\u3000\x1c\x00\\"\u2028'), max_size=8)
scalars = st.one_of(texts, st.sampled_from(["ok", "true", "no", "0", "1", "  "]), st.booleans(), st.integers(-2, 2))
values = st.one_of(scalars, st.none(), st.lists(scalars, max_size=3))
# Mostly entries that load (stripped, lax booleans, blank alternates dropped), now and then one that does not.
words = st.one_of(st.sampled_from(["怎么退货", " 退货 ", "a\u3000b", "e1"]), texts)
entries = st.fixed_dictionaries(
    {
        "id": st.one_of(st.text("ab1._-", min_size=1, max_size=4), st.sampled_from([" a ", "", "退"])),
        "question": words,
        "answer": words,
    },
    optional={
        "alternates": st.lists(texts, max_size=3),
        "keywords": st.lists(words, max_size=3),
        "category": words,
        "enabled": st.sampled_from([True, False, "yes", "0", "off", 1, "maybe", None]),
    },
)
records = st.one_of(entries, st.dictionaries(st.sampled_from(FIELDS), values, max_size=8))
jsonl_lines = st.one_of(
    records.map(lambda record: json.dumps(record, ensure_ascii=False)),
    records.map(json.dumps),
    records.map(json.dumps).flatmap(lambda text: st.integers(0, len(text)).map(lambda cut: text[:cut])),
    st.sampled_from(["", " ", "\u3000", "[]", "null", "{}", GOOD]),
)


@PROPERTY
@given(st.lists(jsonl_lines, max_size=6), st.sampled_from(["\n", "\r\n", "\x0c"]))
def test_any_lines_give_the_same_outcome(lines: list[str], end: str) -> None:
    """For whatever lines hypothesis writes, good or broken, the fast path and the old one agree."""
    with tempfile.TemporaryDirectory() as folder, pytest.MonkeyPatch.context() as monkeypatch:
        path = write(Path(folder), "kb.jsonl", lines, end)
        assert outcome([path]) == record_by_record([path], monkeypatch)
