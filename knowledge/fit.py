"""Fits the re-ranking model on labelled customer phrasings: `python -m knowledge fit --kb FILE --cases FILE`.

The model is a softmax regression over each message's candidates plus "none of them": the right choice for
a message the knowledge base cannot answer, or whose entry retrieval did not bring back. It is fitted by
Newton's method (the loss is convex; a dozen steps). Every feature is a ratio, so weights fitted on one FAQ
carry over to another; to check that, cross-validation splits by entry: each fold is scored on entries
whose phrasings the fit never saw, through the same `evaluate` as `python -m knowledge eval`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from knowledge.evaluate import EvalCase, EvalReport, evaluate
from knowledge.knowledge_base import KnowledgeBase
from knowledge.matcher import FEATURES, QUERY_FEATURES, SEMANTIC_FEATURES, SEMANTIC_QUERY_FEATURES, ScoringWeights
from knowledge.model import Entry, Thresholds
from knowledge.semantic import Embedder

# What "none of them" is calibrated to on the phrasings it was fitted on. Held-out folds come out up to a
# point higher (0.036 / 0.048 at 0.038, 0.037 / 0.050 at 0.04), and a new knowledge base must stay under
# 0.05: a wrong answer costs a customer more than a suggestion does.
DEFAULT_MAX_WRONG = 0.038
# With the semantic stage, held-out folds drift further above it (0.032 / 0.047 at 0.035, 0.034 / 0.050 at
# 0.038): its "none of them" is calibrated a little stricter.
SEMANTIC_MAX_WRONG = 0.035


@dataclass(frozen=True)
class Sample:
    """One message's candidates (rows of FEATURES), its QUERY_FEATURES and the right choice (-1: none), and
    whether the message has an entry at all (False: out of scope)."""

    rows: np.ndarray
    query_row: np.ndarray
    label: int
    expected: bool


def collect(kb: KnowledgeBase, cases: Sequence[EvalCase]) -> list[Sample]:
    """Features of every case; a message that leaves nothing to rank has no rows."""
    matcher = kb.matcher
    ids = [entry.id for entry in matcher.entries]
    semantic = matcher.semantic is not None and matcher.semantic.ready
    samples: list[Sample] = []
    for case in cases:
        found = matcher.features(case.query)
        if found is None:
            nothing = np.zeros((0, len(FEATURES) + len(SEMANTIC_FEATURES) * semantic))
            query_nothing = np.zeros(len(QUERY_FEATURES) + len(SEMANTIC_QUERY_FEATURES) * semantic)
            samples.append(Sample(nothing, query_nothing, -1, case.expect is not None))
            continue
        numbers, rows, query_row = found
        ranked = [ids[number] for number in numbers]
        label = ranked.index(case.expect) if case.expect in ranked else -1
        rows_array, query_array = np.asarray(rows, dtype=np.float64), np.asarray(query_row, dtype=np.float64)
        samples.append(Sample(rows_array, query_array, label, case.expect is not None))
    return samples


def fit(
    samples: Sequence[Sample], l2: float = 1e-3, steps: int = 50, start: ScoringWeights | None = None
) -> ScoringWeights:
    """Maximum likelihood with an L2 penalty (not on the bias); returns `start` (default weights) with the
    lexical or the semantic model replaced, as wide as the samples' rows say."""
    used = [sample for sample in samples if len(sample.rows)]
    if not used:
        raise ValueError("no case leaves anything to rank: nothing to fit")
    design, groups, truth = _design(used)
    size = design.shape[1]
    penalty = np.full(size, 2.0 * l2)
    penalty[-1] = 0.0
    theta = np.zeros(size)
    loss = _loss(design, groups, truth, theta, penalty)
    for _ in range(steps):
        probability = _probabilities(design, groups, theta)
        residual = probability.copy()
        residual[truth] -= 1.0
        gradient = design.T @ residual / len(used) + penalty * theta
        weighted = design * probability[:, None]
        per_group = np.add.reduceat(weighted, groups)
        hessian = (weighted.T @ design - per_group.T @ per_group) / len(used) + np.diag(penalty)
        step = np.linalg.solve(hessian + 1e-9 * np.eye(size), gradient)
        # Damped: halve the step until the loss goes down (Newton can overshoot far from the optimum).
        scale = 1.0
        while scale > 1e-4:
            candidate = theta - scale * step
            candidate_loss = _loss(design, groups, truth, candidate, penalty)
            if candidate_loss <= loss:
                break
            scale /= 2.0
        else:
            break
        converged = loss - candidate_loss < 1e-10
        theta, loss = candidate, candidate_loss
        if converged:
            break
    features, query_features = used[0].rows.shape[1], len(used[0].query_row)
    return (start or ScoringWeights()).with_scoring(
        _is_semantic(used[0]),
        tuple(round(float(value), 3) for value in theta[:features]),
        tuple(round(float(value), 3) for value in theta[features : features + query_features]),
        round(float(theta[-1]), 3),
    )


def _is_semantic(sample: Sample) -> bool:
    return sample.rows.shape[1] > len(FEATURES)


def calibrate(
    samples: Sequence[Sample], weights: ScoringWeights, thresholds: Thresholds, max_wrong: float
) -> ScoringWeights:
    """Raise "none of them" just enough that at most `max_wrong` of the answerable messages get a wrong answer
    at `thresholds`: the likelihood fit alone does not know which mistakes cost most."""
    if answered_wrong(samples, weights, thresholds) <= max_wrong:
        return weights
    semantic = bool(samples) and _is_semantic(samples[0])
    model, none_model, none_bias = weights.scoring(semantic)

    def shifted(shift: float) -> ScoringWeights:
        return weights.with_scoring(semantic, model, none_model, none_bias + shift)

    def shifted_wrong(shift: float) -> float:
        return answered_wrong(samples, shifted(shift), thresholds)

    low, high = 0.0, 1.0
    while shifted_wrong(high) > max_wrong and high < 1024.0:
        low, high = high, high * 2.0
    for _ in range(30):
        middle = (low + high) / 2.0
        if shifted_wrong(middle) <= max_wrong:
            high = middle
        else:
            low = middle
    return shifted(round(high + 0.0005, 3))


def answered_wrong(samples: Sequence[Sample], weights: ScoringWeights, thresholds: Thresholds) -> float:
    """Share of answerable messages answered outright with the wrong entry (as `evaluate` counts it)."""
    semantic = bool(samples) and _is_semantic(samples[0])
    model, none_model, none_bias = (np.asarray(part) for part in weights.scoring(semantic))
    expected = wrong = 0
    for sample in samples:
        expected += sample.expected
        if not sample.expected or not len(sample.rows):
            continue
        logits = sample.rows @ model
        none = float(none_bias) + float(sample.query_row @ none_model)
        top = max(none, float(logits.max()))
        exps = np.exp(logits - top)
        probability = exps / (exps.sum() + np.exp(none - top))
        order = np.argsort(-probability, kind="stable")
        best = float(probability[order[0]])
        runner_up = float(probability[order[1]]) if len(order) > 1 else 0.0
        if best >= thresholds.answer and best - runner_up >= thresholds.margin and order[0] != sample.label:
            wrong += 1
    return wrong / expected if expected else 0.0


def cross_validate(
    entries: Sequence[Entry],
    cases: Sequence[EvalCase],
    samples: Sequence[Sample],
    *,
    folds: int = 2,
    l2: float = 1e-3,
    max_wrong: float = DEFAULT_MAX_WRONG,
    thresholds: Thresholds | None = None,
    embedder: Embedder | None = None,
) -> list[EvalReport]:
    """Fit (and calibrate) on the phrasings of some entries, score the phrasings of the others; out-of-scope
    cases alternate between folds."""
    thresholds = thresholds or Thresholds()
    fold_of = [_fold(case, number, folds) for number, case in enumerate(cases)]
    reports = []
    for held_out in range(folds):
        training = [sample for sample, fold in zip(samples, fold_of, strict=True) if fold != held_out]
        weights = calibrate(training, fit(training, l2), thresholds, max_wrong)
        kb = KnowledgeBase(entries, thresholds=thresholds, weights=weights, embedder=embedder)
        reports.append(evaluate(kb, [case for case, fold in zip(cases, fold_of, strict=True) if fold == held_out]))
    return reports


def weights_source(weights: ScoringWeights, semantic: bool = False) -> str:
    """The fitted numbers as they are written in `ScoringWeights`."""
    if semantic:
        return (
            f"    semantic_model: tuple[float, ...] = {weights.semantic_model}\n"
            f"    semantic_none_model: tuple[float, ...] = {weights.semantic_none_model}\n"
            f"    semantic_none_bias: float = {weights.semantic_none_bias}"
        )
    return (
        f"    model: tuple[float, ...] = {weights.model}\n"
        f"    none_model: tuple[float, ...] = {weights.none_model}\n"
        f"    none_bias: float = {weights.none_bias}"
    )


def _fold(case: EvalCase, number: int, folds: int) -> int:
    if case.expect is None:
        return number % folds
    # By entry, stable across runs and machines: all phrasings of an entry are in the same fold.
    return int(hashlib.sha256(case.expect.encode("utf-8")).hexdigest(), 16) % folds


def _design(samples: Sequence[Sample]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One row per option, candidates then "none" for each message: [FEATURES | QUERY_FEATURES | 1] (each with
    its semantic part when the samples have one), with candidate rows zero in the query block and the none row
    zero in the candidate block."""
    features, query_features = samples[0].rows.shape[1], len(samples[0].query_row)
    blocks, starts, truth = [], [], []
    row = 0
    for sample in samples:
        count = len(sample.rows)
        block = np.zeros((count + 1, features + query_features + 1))
        block[:count, :features] = sample.rows
        block[count, features:-1] = sample.query_row
        block[count, -1] = 1.0
        blocks.append(block)
        starts.append(row)
        truth.append(row + (sample.label if sample.label >= 0 else count))
        row += count + 1
    return np.vstack(blocks), np.array(starts), np.array(truth)


def _probabilities(design: np.ndarray, groups: np.ndarray, theta: np.ndarray) -> np.ndarray:
    logits = design @ theta
    sizes = np.diff(np.append(groups, len(logits)))
    logits -= np.repeat(np.maximum.reduceat(logits, groups), sizes)
    exps = np.exp(logits)
    return exps / np.repeat(np.add.reduceat(exps, groups), sizes)


def _loss(design: np.ndarray, groups: np.ndarray, truth: np.ndarray, theta: np.ndarray, penalty: np.ndarray) -> float:
    probability = _probabilities(design, groups, theta)
    return float(-np.log(probability[truth]).mean() + 0.5 * (penalty * theta) @ theta)
