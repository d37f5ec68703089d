"""Scores a customer's message against every enabled entry and decides how sure we are.

Two stages. Retrieval walks two inverted indexes: BM25F over each entry as a whole (question, keywords,
category and answer, boosted in that order) and a coverage similarity against each phrasing on its own
(the best phrasing counts, not an average). Re-ranking looks again at the best few with rapidfuzz and
keyword containment. The tier depends on the top score *and* its lead over the runner-up, because two
near-equal candidates mean we do not know which one the customer meant.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz

from knowledge.index import BM25FIndex, FieldIndex, TermKindWeights, TermWeights, term_counts, terms_of
from knowledge.model import Candidate, Entry, Match, Thresholds, Tier
from knowledge.text import Segmenter, normalise


@dataclass(frozen=True)
class ScoringWeights:
    """How evidence is mixed. `whole_entry + best_phrasing + keyword_contained` = 1 keeps scores in 0..1."""

    whole_entry: float = 0.70
    best_phrasing: float = 0.20
    keyword_contained: float = 0.10
    fuzzy: float = 0.10
    # Within a phrasing: how much covering the query matters against covering the phrasing.
    query_coverage_share: float = 0.5
    # BM25F field boosts: the question names the entry best; an answer mentions many things in passing.
    question_boost: float = 3.0
    alternate_boost: float = 2.0
    keyword_boost: float = 2.0
    category_boost: float = 1.0
    answer_boost: float = 0.5
    k1: float = 1.2
    b: float = 0.75
    rerank_depth: int = 20
    bm25_saturation: float = 0.3


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
        self.weights = w = weights or ScoringWeights()
        self._segmenter = segmenter
        kinds = kinds or TermKindWeights()
        enabled = [entry for entry in entries if entry.enabled]
        phrasing_docs: list[set[str]] = []
        phrasing_owners: list[int] = []
        entry_docs: list[dict[str, float]] = []
        self._indexed: list[_Indexed] = []
        for number, entry in enumerate(enabled):
            analysed_phrasings = [segmenter.analyse(text) for text in entry.phrasings]
            phrasing_docs.extend(terms_of(analysed) for analysed in analysed_phrasings)
            phrasing_owners.extend([number] * len(analysed_phrasings))
            fields = [
                (term_counts(analysed_phrasings[0]), w.question_boost),
                *((term_counts(analysed), w.alternate_boost) for analysed in analysed_phrasings[1:]),
                (term_counts(segmenter.analyse(" ".join(entry.keywords))), w.keyword_boost),
                (term_counts(segmenter.analyse(entry.category.replace("|", " "))), w.category_boost),
                (term_counts(segmenter.analyse(entry.answer), (1, 2)), w.answer_boost),
            ]
            document: Counter[str] = Counter()
            for counts, boost in fields:
                for term, count in counts.items():
                    document[term] += count * boost
            entry_docs.append(document)
            self._indexed.append(
                _Indexed(
                    entry=entry,
                    segmented_phrasings=tuple(" ".join(analysed.words) for analysed in analysed_phrasings),
                    compact_keywords=tuple(
                        compact for compact in (normalise(k).replace(" ", "") for k in entry.keywords) if compact
                    ),
                )
            )
        # Rarity is judged per entry over everything that names it, so alternates do not dilute it.
        title_docs = [set[str]() for _ in enabled]
        for document, owner in zip(phrasing_docs, phrasing_owners, strict=True):
            title_docs[owner] |= document
        self._phrasings = FieldIndex(phrasing_docs, phrasing_owners, TermWeights(title_docs, kinds))
        self._entries = BM25FIndex(entry_docs, kinds, k1=w.k1, b=w.b)

    def match(self, text: str, limit: int = 3) -> Match:
        """Rank entries for `text` and pick a tier; pure and thread-safe."""
        analysed = self._segmenter.analyse(text)
        if analysed.is_empty or not self._indexed:
            return Match(tier=Tier.NONE, candidates=())
        ranked = self._retrieve(terms_of(analysed))
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
        bm25, ceiling = self._entries.scores(query_terms)
        # BM25 relative to the best entry ranks well, but a best entry that matched little must not look
        # sure: below `bm25_saturation` of the query's ceiling, the scale stops being relative.
        scale = max(max(bm25.values(), default=1.0), w.bm25_saturation * ceiling)
        scores = {
            owner: w.whole_entry * score / scale + w.best_phrasing * best_phrasing.get(owner, 0.0)
            for owner, score in bm25.items()
        }
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
