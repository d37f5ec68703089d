"""Canned replies (快捷回复): the content file managers keep, validated like the knowledge base.

A file holds `replies:`, each with a `code` staff type after `/r`, the Chinese `text` and optionally `en`.
Texts may use the placeholders {customer}, {ticket}, {deadline} and {staff}; anything else in braces is
reported, so a typo is found by `python -m knowledge canned` and at start-up, not by a customer.
"""

from __future__ import annotations

import re
import string
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from knowledge.model import KnowledgeError, Problem

PLACEHOLDERS = ("customer", "ticket", "deadline", "staff")
CODE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,39}$")
MAX_TEXT = 4000


def placeholder_problem(text: str) -> str | None:
    """Why `text` cannot be filled in (unknown placeholder, stray brace), or None when it can."""
    try:
        fields = [name for _, name, spec, conversion in string.Formatter().parse(text) if name is not None]
    except ValueError:
        return "unbalanced { or }: write {{ and }} for literal braces"
    unknown = sorted({name for name in fields if name not in PLACEHOLDERS})
    if unknown:
        return f"unknown placeholder {{{unknown[0]}}}; use {', '.join('{' + p + '}' for p in PLACEHOLDERS)}"
    return None


def code_problem(code: str) -> str | None:
    if not CODE_PATTERN.fullmatch(code):
        return "must be 1-40 characters of a-z 0-9 _ . - (lower case, starting with a letter or digit)"
    return None


class CannedReply(BaseModel):
    """One canned reply: the code staff type, the text in Chinese, and in English if the shop has it."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    code: str
    text: str = Field(min_length=1, max_length=MAX_TEXT)
    en: str = Field(default="", max_length=MAX_TEXT)
    title: str = ""

    @field_validator("code")
    @classmethod
    def _valid_code(cls, value: str) -> str:
        problem = code_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("text", "en")
    @classmethod
    def _fillable(cls, value: str) -> str:
        problem = placeholder_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    def template(self, language: str) -> str:
        return self.en if language == "en" and self.en else self.text


def load_canned(path: Path | str) -> dict[str, CannedReply]:
    """The replies of one file by code; raises `KnowledgeError` listing every problem found."""
    file = Path(path)
    if not file.is_file():
        raise KnowledgeError([Problem(str(file), None, None, "no such file")])
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise KnowledgeError([Problem(str(file), None, None, f"not readable YAML: {exc}")]) from None
    records = data.get("replies") if isinstance(data, dict) else None
    if not isinstance(records, list):
        raise KnowledgeError([Problem(str(file), None, None, "expected a top-level 'replies:' list")])
    replies: dict[str, CannedReply] = {}
    problems: list[Problem] = []
    for number, record in enumerate(records, start=1):
        reply, found = _validate(str(file), number, record)
        problems.extend(found)
        if reply is None:
            continue
        if reply.code in replies:
            problems.append(Problem(str(file), reply.code, "code", "duplicate code"))
            continue
        replies[reply.code] = reply
    if problems:
        raise KnowledgeError(problems)
    return replies


def _validate(file: str, number: int, record: Any) -> tuple[CannedReply | None, list[Problem]]:
    if not isinstance(record, dict):
        return None, [Problem(file, f"#{number}", None, "each reply must be a mapping with code and text")]
    label = str(record["code"]) if isinstance(record.get("code"), str) else f"#{number}"
    try:
        return CannedReply.model_validate(record), []
    except ValidationError as error:
        return None, [
            Problem(
                file,
                label,
                ".".join(str(part) for part in detail["loc"]) or None,
                detail["msg"].removeprefix("Value error, "),
            )
            for detail in error.errors()
        ]
