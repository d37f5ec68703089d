"""Reading and writing knowledge files: YAML and TOML topic files, JSONL and CSV tables.

Readers return raw records (plain dicts) plus problems; validation into `Entry` happens in the loader,
so every format reports mistakes the same way. The one exception is speed: asked for `entries`, the JSONL
reader hands back each valid line as its `Entry` already, and only lines with mistakes as dicts.
"""

from __future__ import annotations

import csv
import io
import json
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from knowledge.model import Entry, Problem

# libyaml's safe loader parses a big knowledge base about ten times faster than the pure-Python one; the
# same documents and the same errors (with line and column).
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

TOPIC_SUFFIXES = (".yaml", ".yml", ".toml")
TABLE_SUFFIXES = (".jsonl", ".csv")
KNOWLEDGE_SUFFIXES = TOPIC_SUFFIXES + TABLE_SUFFIXES
TABLE_FIELDS = ("id", "question", "answer", "keywords", "category", "alternates")
LIST_FIELDS = ("keywords", "alternates")
CSV_LIST_SEPARATOR = "|"
# The line breaks `str.splitlines` honours besides \n and \r (`bytes.splitlines` does not).
_OTHER_LINE_BREAKS = re.compile("[\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")


@dataclass
class RawFile:
    """The records of one file before validation; `category` is the file's default category. A record is an
    `Entry` only when the file was read with `entries=True`."""

    path: Path
    records: list[dict[str, Any] | Entry] = field(default_factory=list)
    category: str | None = None
    problems: list[Problem] = field(default_factory=list)

    def fail(self, message: str, entry: str | None = None, field_name: str | None = None) -> None:
        self.problems.append(Problem(str(self.path), entry, field_name, message))


def read_knowledge_file(path: Path, *, entries: bool = False) -> RawFile:
    """Parse one file by its suffix; syntax errors become problems, never exceptions. With `entries`, valid
    JSONL lines come back validated (see `_read_jsonl`); other callers get the records as written."""
    raw = RawFile(path=path)
    suffix = path.suffix.lower()
    try:
        data = path.read_bytes()
    except OSError as error:
        raw.fail(f"cannot read: {error}")
        return raw
    text = _decode(data, suffix)
    if text is None:
        raw.fail("cannot read: neither UTF-8 nor GB18030 (GBK); save the file as UTF-8")
        return raw
    if suffix in (".yaml", ".yml"):
        _read_yaml(text, raw)
    elif suffix == ".toml":
        _read_toml(text, raw)
    elif suffix == ".jsonl":
        _read_jsonl(text, raw, entries)
    elif suffix == ".csv":
        _read_csv(text, raw)
    else:
        raw.fail(f"unsupported file type {suffix!r}; use one of {', '.join(KNOWLEDGE_SUFFIXES)}")
    return raw


def _decode(data: bytes, suffix: str) -> str | None:
    """UTF-8 with or without a BOM; a CSV may also be GB18030, a superset of GBK, which is what Excel saves
    in on a Chinese Windows. Files written by hand (YAML, TOML, JSONL) stay UTF-8 only."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    if suffix != ".csv":
        return None
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        return None


def _read_yaml(text: str, raw: RawFile) -> None:
    try:
        document = yaml.load(text, Loader=_SafeLoader)  # a safe loader, libyaml's when present
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        reason = getattr(error, "problem", None) or str(error)
        raw.fail(f"YAML syntax error{where}: {reason}")
        return
    _read_topic(document, raw)


def _read_toml(text: str, raw: RawFile) -> None:
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raw.fail(f"TOML syntax error: {error}")
        return
    _read_topic(document, raw)


def _read_topic(document: Any, raw: RawFile) -> None:
    if not isinstance(document, dict) or "entries" not in document:
        raw.fail("must be a mapping with an 'entries' list (and optionally a default 'category')")
        return
    for key in document.keys() - {"entries", "category"}:
        raw.fail("unknown top-level field", field_name=str(key))
    category = document.get("category")
    if category is not None and not isinstance(category, str):
        raw.fail("must be text", field_name="category")
    else:
        raw.category = category
    entries = document["entries"]
    if not isinstance(entries, list):
        raw.fail("must be a list of entries", field_name="entries")
        return
    for number, record in enumerate(entries, start=1):
        if isinstance(record, dict):
            raw.records.append(record)
        else:
            raw.fail("must be a mapping with id, question, answer", entry=f"#{number}")


def _read_jsonl(text: str, raw: RawFile, entries: bool = False) -> None:
    lines: list[str] | list[bytes] = _utf8_lines(text) if entries else text.splitlines()
    for line_number, line in enumerate(lines, start=1):
        if isinstance(line, bytes):
            # pydantic-core parses and validates the line in one pass, with no dict in between: some 40 % less
            # time on a big table. A line it refuses takes the path below, so its problems read as before.
            try:
                raw.records.append(Entry.model_validate_json(line))
                continue
            except ValidationError:
                line = line.decode()
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raw.fail(f"line {line_number}: invalid JSON: {error.msg}")
            continue
        if isinstance(record, dict):
            raw.records.append(record)
        else:
            raw.fail(f"line {line_number}: must be a JSON object")


def _utf8_lines(text: str) -> list[bytes]:
    """`text.splitlines()`, each line in UTF-8. Encoding the text once, not line by line between the entries
    being made, keeps short-lived copies from fragmenting the heap (some 20 MB more resident at 100k entries)."""
    if _OTHER_LINE_BREAKS.search(text):
        return [line.encode() for line in text.splitlines()]
    return text.encode().splitlines()  # only \n, \r and \r\n are left, and bytes split on exactly those


def _read_csv(text: str, raw: RawFile) -> None:
    for row in csv.DictReader(io.StringIO(text, newline="")):
        record: dict[str, Any] = {}
        for key, value in row.items():
            if key is None:
                raw.fail("row has more cells than the header", entry=row.get("id") or None)
                continue
            value = (value or "").strip()
            if key in LIST_FIELDS:
                record[key] = [item.strip() for item in value.split(CSV_LIST_SEPARATOR) if item.strip()]
            elif key == "enabled" and not value:
                continue  # an empty cell means the default, enabled
            else:
                record[key] = value
        raw.records.append(record)


def write_jsonl(entries: Sequence[Entry], path: Path) -> None:
    with path.open("w", encoding="utf-8") as out:
        for entry in entries:
            out.write(json.dumps(_table_record(entry), ensure_ascii=False) + "\n")


def write_csv(entries: Sequence[Entry], path: Path) -> None:
    columns = list(TABLE_FIELDS) + (["enabled"] if any(not entry.enabled for entry in entries) else [])
    # With a BOM, Excel reads the file as UTF-8 instead of the system code page (mojibake on Chinese text).
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=columns)
        writer.writeheader()
        for entry in entries:
            record = _table_record(entry)
            for name in LIST_FIELDS:
                record[name] = CSV_LIST_SEPARATOR.join(record[name])
            if "enabled" in columns:
                record["enabled"] = "true" if entry.enabled else "false"
            writer.writerow(record)


def write_yaml(entries: Sequence[Entry], path: Path) -> None:
    """A topic file; the category shared by every entry becomes the file's default."""
    categories = {entry.category for entry in entries}
    shared = categories.pop() if len(categories) == 1 else None
    records = []
    for entry in entries:
        record = entry.model_dump(exclude_defaults=True)
        record.setdefault("answer", entry.answer)
        if shared is not None:
            record.pop("category", None)
        records.append(record)
    document = ({"category": shared} if shared else {}) | {"entries": records}
    path.write_text(yaml.dump(document, Dumper=_TopicDumper, allow_unicode=True, sort_keys=False), "utf-8")


def _table_record(entry: Entry) -> dict[str, Any]:
    record: dict[str, Any] = {name: getattr(entry, name) for name in TABLE_FIELDS}
    record = {name: list(value) if isinstance(value, list) else value for name, value in record.items()}
    if not entry.enabled:
        record["enabled"] = False
    return record


class _TopicDumper(yaml.SafeDumper):
    """Writes multi-line answers as `|` blocks, the way people write them by hand."""


def _represent_text(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    style = "|" if "\n" in text else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_TopicDumper.add_representer(str, _represent_text)
