"""Scores a customer's message against every enabled entry and decides how sure we are.

Two stages. Retrieval walks the inverted indexes and gives each entry a weighted sum of field
similarities (its best phrasing counts, not an average). Re-ranking looks again at the best few with
rapidfuzz and keyword containment. The tier then depends on the top score *and* its lead over the
runner-up, because two near-equal candidates mean we do not know which one the customer meant.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz

from knowledge.index import FieldIndex, TermKindWeights, TermWeights, terms_of
from knowledge.model import Candidate, Entry, Match, Thresholds, Tier
from knowledge.text import Segmenter, normalise


@dataclass(frozen=True)
class ScoringWeights:
    """Relative weight of each piece of evidence; the first five sum to 1 so scores stay within 0..1."""

    phrasing: float = 0.55
    keywords: float = 0.10
    keyword_contained: float = 0.10
    answer: float = 0.20
    category: float = 0.05
    # Within a phrasing: how much covering the query matters against covering the phrasing.
    query_coverage_share: float = 0.5
    fuzzy: float = 0.25
    rerank_depth: int = 20


@dataclass(frozen=True)
class _Indexed:
    """What the re-ranker needs of one entry, prepared at load time."""

    entry: Entry
    segmented_phrasings: tuple[str, ...]
    compact_keywords: tuple[str, ...]


class Matcher:
    """Immutable after construction: `match` reads shared structures only, so threads may share it."""

    def __init__(
        self,
        entries: Sequence[Entry],
        segmenter: Segmenter,
        thresholds: Thresholds,
        weights: ScoringWeights | None = None,
        kinds: TermKindWeights | None = None,
    ) -> None:
        self.thresholds = thresholds
        self.weights = weights or ScoringWeights()
        self._segmenter = segmenter
        enabled = [entry for entry in entries if entry.enabled]
        kinds = kinds or TermKindWeights()

        def terms(text: str) -> set[str]:
            return terms_of(segmenter.analyse(text))

        phrasing_docs, phrasing_owners, keyword_docs, category_docs, answer_docs = [], [], [], [], []
        self._indexed: list[_Indexed] = []
        for number, entry in enumerate(enabled):
            phrasings = [terms(text) for text in entry.phrasings]
            phrasing_docs.extend(phrasings)
            phrasing_owners.extend([number] * len(phrasings))
            keyword_docs.append(set().union(*(terms(keyword) for keyword in entry.keywords)))
            category_docs.append(terms(entry.category.replace("|", " ").replace("/", " ")))
            answer_docs.append(terms(entry.answer))
            self._indexed.append(
                _Indexed(
                    entry=entry,
                    segmented_phrasings=tuple(segmenter.segment(text) for text in entry.phrasings),
                    compact_keywords=tuple(
                        compact for compact in (normalise(k).replace(" ", "") for k in entry.keywords) if compact
                    ),
                )
            )
        # Rarity is judged per entry over everything that names it, so alternates do not dilute it.
        title_docs = _title_documents(phrasing_docs, phrasing_owners, keyword_docs, category_docs)
        title_weights = TermWeights(title_docs, kinds)
        entry_numbers = range(len(enabled))
        self._phrasings = FieldIndex(phrasing_docs, phrasing_owners, title_weights)
        self._keywords = FieldIndex(keyword_docs, entry_numbers, title_weights)
        self._categories = FieldIndex(category_docs, entry_numbers, title_weights)
        self._answers = FieldIndex(answer_docs, entry_numbers, TermWeights(answer_docs, kinds))

    def match(self, text: str, limit: int = 3) -> Match:
        """Rank entries for `text` and pick a tier; pure and thread-safe."""
        analysed = self._segmenter.analyse(text)
        if analysed.is_empty or not self._indexed:
            return Match(tier=Tier.NONE, candidates=())
        query_terms = terms_of(analysed)
        ranked = self._retrieve(query_terms)
        if not ranked:
            return Match(tier=Tier.NONE, candidates=())
        scored = self._rerank(text, " ".join(analysed.words), ranked)
        candidates = tuple(Candidate(entry=self._indexed[n].entry, score=round(s, 4)) for n, s in scored[:limit])
        return Match(tier=self._tier(scored), candidates=candidates)

    def _retrieve(self, query_terms: set[str]) -> list[tuple[int, float]]:
        w = self.weights
        share = w.query_coverage_share
        query_weight = self._phrasings.query_weight(query_terms)
        best_phrasing: dict[int, float] = {}
        norms, owners = self._phrasings.norms, self._phrasings.owners
        for document, matched in self._phrasings.matched_weight(query_terms).items():
            similarity = (matched / query_weight) ** share * (matched / norms[document]) ** (1.0 - share)
            owner = owners[document]
            if similarity > best_phrasing.get(owner, 0.0):
                best_phrasing[owner] = similarity
        scores = {owner: w.phrasing * similarity for owner, similarity in best_phrasing.items()}
        for index, field_weight in ((self._keywords, w.keywords), (self._categories, w.category)):
            for owner, matched in index.matched_weight(query_terms).items():
                scores[owner] = scores.get(owner, 0.0) + field_weight * matched / query_weight
        answer_query_weight = self._answers.query_weight(query_terms)
        for owner, matched in self._answers.matched_weight(query_terms).items():
            scores[owner] = scores.get(owner, 0.0) + w.answer * matched / answer_query_weight
        return heapq.nlargest(w.rerank_depth, scores.items(), key=lambda item: item[1])

    def _rerank(self, text: str, segmented_query: str, ranked: list[tuple[int, float]]) -> list[tuple[int, float]]:
        w = self.weights
        compact_query = normalise(text).replace(" ", "")
        rescored = []
        for number, score in ranked:
            indexed = self._indexed[number]
            if any(keyword in compact_query for keyword in indexed.compact_keywords):
                score += w.keyword_contained
            # The text is normalised and segmented already, hence processor=None on purpose.
            fuzzy = max(
                fuzz.token_set_ratio(segmented_query, phrasing, processor=None) / 100.0
                for phrasing in indexed.segmented_phrasings
            )
            rescored.append((number, min(1.0, (1.0 - w.fuzzy) * score + w.fuzzy * fuzzy)))
        rescored.sort(key=lambda item: item[1], reverse=True)
        return rescored

    def _tier(self, scored: list[tuple[int, float]]) -> Tier:
        top = scored[0][1]
        runner_up = scored[1][1] if len(scored) > 1 else 0.0
        if top >= self.thresholds.answer and top - runner_up >= self.thresholds.margin:
            return Tier.ANSWER
        if top >= self.thresholds.suggest:
            return Tier.SUGGEST
        return Tier.NONE


def _title_documents(
    phrasing_docs: list[set[str]], owners: list[int], keyword_docs: list[set[str]], category_docs: list[set[str]]
) -> list[set[str]]:
    titles = [keywords | category for keywords, category in zip(keyword_docs, category_docs, strict=True)]
    for document, owner in zip(phrasing_docs, owners, strict=True):
        titles[owner] |= document
    return titles
