"""Editing one entry's question, answer and alternates in its YAML file, as a person would by hand.

The file is edited with the round-trip parser (ruamel.yaml), so comments, order and layout survive and
only the changed fields change. The edited file is checked with the loader's own checks, together with
every other knowledge file (a duplicate id or a broken field is found as `check` finds it), before it
replaces the old one: a broken edit saves nothing, and its problems name the file, the entry and the field.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedSeq
from ruamel.yaml.scalarstring import LiteralScalarString

from knowledge.loader import load_with_origins
from knowledge.model import KnowledgeError, Problem

EDITABLE_SUFFIXES = (".yaml", ".yml")


class EditRefused(Exception):
    """The edit was not saved; `problems` says where and why (file, entry, field)."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(str(problem) for problem in problems))
        self.problems = problems


@dataclass(frozen=True)
class EditableEntry:
    id: str
    file: Path
    question: str
    answer: str
    alternates: tuple[str, ...]
    # Only YAML files are edited here; other formats are shown but left to their authors.
    editable: bool


def entry_for_editing(paths: Sequence[Path | str], entry_id: str) -> EditableEntry | None:
    """The entry as its file holds it now (None: no entry with that id)."""
    entries, _files, origins = load_with_origins(paths)
    entry = next((entry for entry in entries if entry.id == entry_id), None)
    if entry is None:
        return None
    path = origins[entry_id]
    return EditableEntry(
        entry.id, path, entry.question, entry.answer, tuple(entry.alternates), path.suffix.lower() in EDITABLE_SUFFIXES
    )


def edit_entry(
    paths: Sequence[Path | str], entry_id: str, *, question: str, answer: str, alternates: Sequence[str]
) -> Path:
    """Write the entry's new question, answer and alternates into its file; the file written.

    Raises `EditRefused` (nothing written) when the entry cannot be found or edited, or when the edited file
    would not load."""
    try:
        _entries, files, origins = load_with_origins(paths)
    except KnowledgeError as exc:
        raise EditRefused(exc.problems) from None
    path = origins.get(entry_id)
    if path is None:
        raise EditRefused([Problem("(knowledge)", entry_id, None, "no entry with this id")])
    if path.suffix.lower() not in EDITABLE_SUFFIXES:
        raise EditRefused([Problem(str(path), entry_id, None, f"{path.suffix} files are edited by hand")])
    yaml = _round_trip()
    document = yaml.load(path.read_text(encoding="utf-8"))
    records = document.get("entries", []) if isinstance(document, dict) else document
    record = next(record for record in records if str(record.get("id", "")) == entry_id)
    _set_text(record, "question", question.strip())
    _set_text(record, "answer", answer.strip())
    _set_alternates(record, [" ".join(text.split()) for text in alternates if text.strip()])
    buffer = io.StringIO()
    yaml.dump(document, buffer)
    _check(files, path, buffer.getvalue())
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_text(buffer.getvalue(), encoding="utf-8")
    temporary.replace(path)
    return path


def _round_trip() -> YAML:
    yaml = YAML()  # round-trip: comments, order and block styles survive
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap authors' long lines
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def _set_text(record: Any, key: str, value: str) -> None:
    if str(record.get(key, "")).strip() == value:
        return  # unchanged: keep the author's quoting and block style
    # Several lines read best as a block (`|`), as the shipped files write answers.
    record[key] = LiteralScalarString(value + "\n") if "\n" in value else value


def _set_alternates(record: Any, wanted: list[str]) -> None:
    current = record.get("alternates")
    if current is None:
        if wanted:
            record["alternates"] = CommentedSeq(wanted)
        return
    if [str(item) for item in current] == wanted:
        return
    # Edited in place, so the list keeps its style and the comments of the items that stay at their place.
    del current[len(wanted) :]
    for index, text in enumerate(wanted):
        if index < len(current):
            if str(current[index]) != text:
                current[index] = text
        else:
            current.append(text)


def _check(files: list[Path], path: Path, text: str) -> None:
    """Load every knowledge file with the edited one in place of `path`; problems name the real file."""
    with tempfile.TemporaryDirectory(prefix="kb-edit-") as folder:
        edited = Path(folder) / path.name
        edited.write_text(text, encoding="utf-8")
        try:
            load_with_origins([edited if file == path else file for file in files])
        except KnowledgeError as exc:
            raise EditRefused(
                [Problem(problem.file.replace(str(edited), str(path)), problem.entry, problem.field, problem.message)
                 for problem in exc.problems]
            ) from None  # fmt: skip
