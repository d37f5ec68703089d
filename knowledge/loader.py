"""Finds knowledge files, validates every record into an `Entry`, and reports all problems at once."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from knowledge.io_formats import KNOWLEDGE_SUFFIXES, RawFile, read_knowledge_file
from knowledge.model import Entry, KnowledgeError, Problem

# pydantic's wording, rephrased for the people who write knowledge files.
_FRIENDLY_MESSAGES = {
    "missing": "is required",
    "string_too_short": "must not be empty",
    "extra_forbidden": "unknown field",
    "string_type": "must be text",
    "list_type": "must be a list",
    "bool_parsing": "must be true or false",
    "bool_type": "must be true or false",
}


def knowledge_files(paths: Iterable[Path | str]) -> tuple[list[Path], list[Problem]]:
    """Expand directories into their knowledge files (sorted, not recursive); report missing paths."""
    files: list[Path] = []
    problems: list[Problem] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            files.extend(sorted(p for p in path.iterdir() if p.suffix.lower() in KNOWLEDGE_SUFFIXES))
        elif path.is_file():
            files.append(path)
        else:
            problems.append(Problem(str(path), None, None, "no such file or directory"))
    return files, problems


def load_entries(paths: Sequence[Path | str]) -> tuple[list[Entry], list[Path]]:
    """Every entry of every file, in file order; raises `KnowledgeError` listing all problems found."""
    entries, files, _origins = load_with_origins(paths)
    return entries, files


def load_with_origins(paths: Sequence[Path | str]) -> tuple[list[Entry], list[Path], dict[str, Path]]:
    """`load_entries`, and the file each entry id comes from (for messages that name it)."""
    files, problems = knowledge_files(paths)
    entries: list[Entry] = []
    first_seen_in: dict[str, Path] = {}
    for path in files:
        raw = read_knowledge_file(path, entries=True)
        problems.extend(raw.problems)
        for number, record in enumerate(raw.records, start=1):
            entry, record_problems = _validate_record(raw, number, record)
            problems.extend(record_problems)
            if entry is None:
                continue
            if entry.id in first_seen_in:
                other = first_seen_in[entry.id]
                where = "earlier in this file" if other == path else f"also in {other}"
                problems.append(Problem(str(path), entry.id, "id", f"duplicate id ({where})"))
                continue
            first_seen_in[entry.id] = path
            entries.append(entry)
    if not entries and not problems:
        shown = ", ".join(str(path) for path in paths) or "(no paths given)"
        problems.append(Problem(shown, None, None, "the knowledge base is empty: no entries found"))
    if problems:
        raise KnowledgeError(problems)
    return entries, files, first_seen_in


def _validate_record(raw: RawFile, number: int, record: dict[str, Any] | Entry) -> tuple[Entry | None, list[Problem]]:
    if isinstance(record, Entry):
        return record, []  # validated as it was read (JSONL, which has no default category to fill in)
    label = str(record["id"]) if isinstance(record.get("id"), str) and record["id"].strip() else f"#{number}"
    if raw.category is not None and not record.get("category"):
        record = record | {"category": raw.category}
    try:
        return Entry.model_validate(record), []
    except ValidationError as error:
        return None, [
            Problem(
                str(raw.path),
                label,
                ".".join(str(part) for part in detail["loc"]) or None,
                _FRIENDLY_MESSAGES.get(detail["type"], detail["msg"].removeprefix("Value error, ")),
            )
            for detail in error.errors()
        ]


def check_unique_ids(entries: Sequence[Entry]) -> list[Problem]:
    """Duplicate ids among entries built in code (no files to name)."""
    seen: set[str] = set()
    problems = []
    for entry in entries:
        if entry.id in seen:
            problems.append(Problem("(entries)", entry.id, "id", "duplicate id"))
        seen.add(entry.id)
    return problems
