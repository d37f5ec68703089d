"""Writing an accepted customer phrasing into the knowledge file that holds its entry.

People maintain these files by hand, with comments and their own layout: YAML files are edited with a
round-trip parser (ruamel.yaml) so only the new line changes. JSONL and CSV files are rewritten whole
(they carry no comments); TOML files are left to their authors.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedSeq

from knowledge.io_formats import read_knowledge_file, write_csv, write_jsonl
from knowledge.loader import knowledge_files, load_entries
from knowledge.text import normalise


class LearningError(Exception):
    """The phrasing could not be written; the message says which file and why."""


def add_alternate(paths: Sequence[Path | str], entry_id: str, phrasing: str) -> Path:
    """Append `phrasing` to the entry's alternates in its file; the file written (unchanged if already there)."""
    phrasing = " ".join(phrasing.split())
    if not phrasing:
        raise LearningError("empty phrasing")
    files, _problems = knowledge_files(paths)
    for path in files:
        raw = read_knowledge_file(path)
        if not any(str(record.get("id", "")) == entry_id for record in raw.records):
            continue
        suffix = path.suffix.lower()
        if suffix in (".yaml", ".yml"):
            _add_to_yaml(path, entry_id, phrasing)
        elif suffix in (".jsonl", ".csv"):
            _add_to_table(path, entry_id, phrasing)
        else:
            raise LearningError(f"{path}: add '{phrasing}' to entry {entry_id} by hand ({suffix} files are not edited)")
        return path
    raise LearningError(f"no knowledge file holds entry {entry_id}")


def _add_to_yaml(path: Path, entry_id: str, phrasing: str) -> None:
    yaml = YAML()  # round-trip: comments, order and block styles survive
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap authors' long lines
    yaml.indent(mapping=2, sequence=4, offset=2)
    document = yaml.load(path.read_text(encoding="utf-8"))
    entries = document.get("entries", []) if isinstance(document, dict) else document
    for record in entries:
        if str(record.get("id", "")) != entry_id:
            continue
        alternates = record.get("alternates")
        if alternates is None:
            alternates = record["alternates"] = CommentedSeq()
        if _known(phrasing, [record.get("question", ""), *alternates]):
            return
        alternates.append(phrasing)
        temporary = path.with_suffix(path.suffix + ".tmp")
        with temporary.open("w", encoding="utf-8") as handle:
            yaml.dump(document, handle)
        temporary.replace(path)
        return


def _add_to_table(path: Path, entry_id: str, phrasing: str) -> None:
    loaded, _files = load_entries([path])
    entries = []
    for entry in loaded:
        if entry.id == entry_id and not _known(phrasing, entry.phrasings):
            entry = entry.model_copy(update={"alternates": [*entry.alternates, phrasing]})
        entries.append(entry)
    (write_jsonl if path.suffix.lower() == ".jsonl" else write_csv)(entries, path)


def _known(phrasing: str, existing: Sequence[str]) -> bool:
    wanted = normalise(phrasing)
    return any(normalise(str(text)) == wanted for text in existing)
