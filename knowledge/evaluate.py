"""Measures answer quality on a file of real customer phrasings with the entry each one should reach."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from knowledge.knowledge_base import KnowledgeBase
from knowledge.model import Match, Tier


@dataclass(frozen=True)
class EvalCase:
    """A customer message and the entry that answers it (None: the knowledge base must stay silent)."""

    query: str
    expect: str | None


@dataclass(frozen=True)
class EvalReport:
    """Shares are over cases with an expected entry, except `oos_false_answer` (over the others)."""

    top1: float
    top3: float
    answered_correct: float
    answered_wrong: float
    suggested_contains: float
    oos_false_answer: float
    latency_p50_ms: float
    latency_p99_ms: float
    cases: int
    expected_cases: int
    out_of_scope_cases: int

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)

    def lines(self) -> list[str]:
        return [
            f"{name:<20} {value:.3f}" if isinstance(value, float) else f"{name:<20} {value}"
            for name, value in self.as_dict().items()
        ]


class CaseFileError(ValueError):
    """The cases file cannot be read; the message names the line."""


def read_cases(path: Path) -> list[EvalCase]:
    cases = []
    for line_number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            cases.append(EvalCase(query=str(record["query"]), expect=record.get("expect")))
        except (json.JSONDecodeError, KeyError, TypeError) as error:
            raise CaseFileError(
                f"{path}: line {line_number}: expected {{'query': ..., 'expect': ...}} ({error})"
            ) from error
    return cases


def shown_entry_ids(match: Match) -> list[str]:
    """What the customer sees: the answer alone, the suggestions, or nothing."""
    return [candidate.entry.id for candidate in match.shown()]


def evaluate(kb: KnowledgeBase, cases: Sequence[EvalCase]) -> EvalReport:
    latencies: list[float] = []
    top1 = top3 = correct = wrong = contains = false_answers = 0
    for case in cases:
        started = time.perf_counter()
        match = kb.match(case.query, limit=3)
        latencies.append((time.perf_counter() - started) * 1000.0)
        ranked = [candidate.entry.id for candidate in match.candidates]
        if case.expect is None:
            false_answers += match.tier is Tier.ANSWER
            continue
        top1 += ranked[:1] == [case.expect]
        top3 += case.expect in ranked[:3]
        if match.tier is Tier.ANSWER:
            correct += ranked[0] == case.expect
            wrong += ranked[0] != case.expect
        contains += case.expect in shown_entry_ids(match)
    expected = sum(case.expect is not None for case in cases)
    out_of_scope = len(cases) - expected
    latencies.sort()

    def share(count: int, total: int) -> float:
        return round(count / total, 4) if total else 0.0

    def percentile(fraction: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(fraction * len(latencies)))], 3) if latencies else 0.0

    return EvalReport(
        top1=share(top1, expected),
        top3=share(top3, expected),
        answered_correct=share(correct, expected),
        answered_wrong=share(wrong, expected),
        suggested_contains=share(contains, expected),
        oos_false_answer=share(false_answers, out_of_scope),
        latency_p50_ms=percentile(0.50),
        latency_p99_ms=percentile(0.99),
        cases=len(cases),
        expected_cases=expected,
        out_of_scope_cases=out_of_scope,
    )


@dataclass(frozen=True)
class Miss:
    """An entry customers did not reach first: how often, out of how many, and what they got most often."""

    entry_id: str
    question: str
    missed: int
    asked: int
    instead_id: str | None
    instead_question: str
    instead_count: int

    def line(self) -> str:
        instead = f"→ {self.instead_id} 「{self.instead_question}」 ×{self.instead_count}" if self.instead_id else ""
        return f"{self.missed:>5}/{self.asked:<5} {self.entry_id} 「{self.question}」 {instead}".rstrip()


def most_missed(kb: KnowledgeBase, cases: Sequence[EvalCase], limit: int) -> list[Miss]:
    """The entries most often not ranked first, with the entry ranked first instead most often: where an
    alternate phrasing (or a clearer question) would help most."""
    asked: Counter[str] = Counter()
    missed: Counter[str] = Counter()
    instead: dict[str, Counter[str]] = {}
    for case in cases:
        if case.expect is None:
            continue
        asked[case.expect] += 1
        match = kb.match(case.query, limit=1)
        first = match.candidates[0].entry.id if match.candidates else None
        if first != case.expect:
            missed[case.expect] += 1
            if first is not None:
                instead.setdefault(case.expect, Counter())[first] += 1
    misses = []
    for entry_id, count in sorted(missed.items(), key=lambda item: (-item[1], item[0]))[:limit]:
        entry = kb.get(entry_id)
        other_id, other_count = (
            (instead.get(entry_id) or Counter()).most_common(1)[0] if entry_id in instead else (None, 0)
        )
        other = kb.get(other_id) if other_id else None
        misses.append(
            Miss(
                entry_id=entry_id,
                question=entry.question if entry else "(not in the knowledge base)",
                missed=count,
                asked=asked[entry_id],
                instead_id=other_id,
                instead_question=other.question if other else "",
                instead_count=other_count,
            )
        )
    return misses
