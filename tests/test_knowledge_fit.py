"""Refitting the re-ranker: Newton's method on labelled phrasings, calibration of "none", cross-validation."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from knowledge import KnowledgeBase, Thresholds
from knowledge.__main__ import main
from knowledge.evaluate import EvalCase, evaluate
from knowledge.fit import answered_wrong, calibrate, collect, cross_validate, fit
from knowledge.loader import load_entries
from knowledge.matcher import FEATURES, QUERY_FEATURES, ScoringWeights

DEMO_KB = Path(__file__).resolve().parent.parent / "knowledge" / "kb"
OUT_OF_SCOPE = ["量子力学是什么", "今天股票涨了吗", "给我讲个故事", "世界杯谁赢了", "推荐一部电影", "火星上有水吗"]


@pytest.fixture(scope="module")
def labelled() -> tuple[list, list[EvalCase]]:
    entries, _ = load_entries([DEMO_KB])
    # Each entry's alternates stand in for customers' phrasings; the question stays the entry's own words.
    cases = [EvalCase(text, entry.id) for entry in entries for text in entry.alternates]
    return entries, cases + [EvalCase(text, None) for text in OUT_OF_SCOPE]


def test_a_fit_has_one_weight_per_feature_and_ranks_at_least_as_well_as_untrained(labelled) -> None:
    entries, cases = labelled
    samples = collect(KnowledgeBase(entries), cases)
    weights = fit(samples)
    assert len(weights.model) == len(FEATURES) and len(weights.none_model) == len(QUERY_FEATURES)
    flat = dataclasses.replace(ScoringWeights(), model=(0.0,) * len(FEATURES))
    fitted = evaluate(KnowledgeBase(entries, weights=weights), cases)
    untrained = evaluate(KnowledgeBase(entries, weights=flat), cases)
    assert fitted.top1 >= untrained.top1 and fitted.top1 > 0.8


def test_calibration_raises_none_until_wrong_answers_fit_the_limit(labelled) -> None:
    entries, cases = labelled
    # Customers whose words fit one entry but who meant another: answering them outright is a mistake.
    cases = [*cases, EvalCase(entries[0].question, entries[1].id), EvalCase(entries[2].question, entries[3].id)]
    samples = collect(KnowledgeBase(entries), cases)
    thresholds = Thresholds(answer=0.3, suggest=0.1, margin=0.0)
    eager = dataclasses.replace(ScoringWeights(), none_bias=0.0)
    assert answered_wrong(samples, eager, thresholds) > 0.0
    strict = calibrate(samples, eager, thresholds, max_wrong=0.0)
    assert strict.none_bias > eager.none_bias
    assert answered_wrong(samples, strict, thresholds) == 0.0
    # What `answered_wrong` computes from features is what `evaluate` measures through the matcher.
    measured = evaluate(KnowledgeBase(entries, thresholds=thresholds, weights=strict), cases)
    assert measured.answered_wrong == 0.0
    assert calibrate(samples, eager, thresholds, max_wrong=1.0) is eager


def test_cross_validation_scores_each_fold_on_entries_it_did_not_fit(labelled) -> None:
    entries, cases = labelled
    samples = collect(KnowledgeBase(entries), cases)
    reports = cross_validate(entries, cases, samples, folds=3)
    assert len(reports) == 3
    assert sum(report.expected_cases for report in reports) == sum(case.expect is not None for case in cases)
    assert sum(report.out_of_scope_cases for report in reports) == len(OUT_OF_SCOPE)
    assert all(0.0 <= report.top1 <= 1.0 for report in reports)


def test_the_fit_command_prints_held_out_folds_and_the_weights(
    labelled, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, cases = labelled
    file = tmp_path / "cases.jsonl"
    file.write_text("\n".join(json.dumps({"query": c.query, "expect": c.expect}, ensure_ascii=False) for c in cases))
    assert main(["fit", "--lexical", "--kb", str(DEMO_KB), "--cases", str(file)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0].strip() for line in out if line.strip().startswith("fold")] == ["fold 1", "fold 2"]
    model_line = next(line for line in out if line.strip().startswith("model:"))
    weights = eval(model_line.split("=", 1)[1])  # the printed tuple is valid Python, ready to paste
    assert len(weights) == len(FEATURES) and all(np.isfinite(weights))
