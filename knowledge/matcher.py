"""Scores a customer's message against every enabled entry and decides how sure we are.

Two stages. Retrieval walks impact-ordered postings of BM25F over each entry as a whole (question and
alternates, keywords, category and answer, boosted in that order, each normalised by its own length).
Re-ranking describes each of the best few candidates by a dozen features (how much of the query its best
phrasing explains and how much of that phrasing the query explains, per term kind; how much the answer
explains; string similarity; keywords written out) and scores them with a linear model fitted offline on
real customer phrasings.

Confidence is a probability: a softmax over the candidates plus a "none of them" option whose score grows
when the query is mostly unknown words or matches weakly. It accounts for the runner-up by construction
(two near-equal candidates share the mass), and the thresholds read as "answer when p ≥ answer".
"""

from __future__ import annotations

import heapq
import math
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from operator import itemgetter

from rapidfuzz import fuzz
from rapidfuzz.distance import LCSseq

from knowledge.index import (
    BIGRAM,
    UNIGRAM,
    WORD,
    FieldSpec,
    PostingTable,
    Vocabulary,
    bm25_impacts,
    kind_of,
    term_counts,
)
from knowledge.model import Candidate, Entry, Match, Thresholds, Tier
from knowledge.text import Analysed, Segmenter, normalise

FEATURES = (
    "bm25_relative",  # retrieval score / best retrieval score of this query
    "bm25_absolute",  # retrieval score / the most this query could score
    "query_words",  # share of the query's word weight found in the best phrasing
    "query_unigrams",  # ... of its character weight
    "query_bigrams",  # ... of its bigram weight
    "phrasing_unigrams",  # share of the best phrasing's character weight found in the query
    "phrasing_bigrams",  # ... of its bigram weight
    "answer",  # share of the query's weight found in the answer
    "keywords_written",  # characters of the entry's keywords written out in the query / query length
    "lcs",  # longest common subsequence with the best phrasing, normalised
    "ratio",  # rapidfuzz ratio with the best phrasing
    "phrasing_length",  # short titles ("X问题") attract everything; long ones say more
)
QUERY_FEATURES = (
    "known",  # share of the query's weight made of terms the knowledge base uses
    "words",  # how many content words (capped at 10) / 10
    "top_absolute",  # best retrieval score / the most this query could score
    "length",  # compact query length (capped at 40) / 40
)


@dataclass(frozen=True)
class ScoringWeights:
    """Retrieval settings and the re-ranking model. The model was fitted on one FAQ's customer phrasings and
    checked on FAQ entries it had not seen; every feature is a ratio, so it does not depend on the domain."""

    question_boost: float = 3.0
    keyword_boost: float = 2.0
    category_boost: float = 1.0
    k1: float = 1.2
    b: float = 0.75
    # Answers mention many things in passing: their words count for less than the title's.
    answer_boost: float = 0.5
    rerank_depth: int = 12
    # Postings read per query term and table; impact order makes the skipped ones the weakest.
    postings_per_term: int = 128
    # Fitted by softmax regression (candidates plus "none"), one weight per name in FEATURES / QUERY_FEATURES.
    model: tuple[float, ...] = (3.515, 2.242, -1.059, 0.304, -1.274, 2.373, -0.421, 2.299, 1.774, 2.436, 2.837, -1.856)
    none_model: tuple[float, ...] = (-0.215, -1.304, -0.816, -0.891)
    none_bias: float = 7.245


@dataclass(frozen=True)
class _Query:
    analysed: Analysed
    weights: dict[int, float]  # known term id → IDF
    mass: tuple[float, float, float]  # IDF mass per kind, unknown terms included
    known_share: float
    ceiling: float
    compact: str


class Matcher:
    """Immutable after construction: `match` reads shared structures only, so threads may share it."""

    def __init__(
        self,
        entries: Sequence[Entry],
        segmenter: Segmenter,
        thresholds: Thresholds,
        weights: ScoringWeights | None = None,
    ) -> None:
        self.thresholds = thresholds
        self.weights = w = weights or ScoringWeights()
        self._segmenter = segmenter
        self._entries = [entry for entry in entries if entry.enabled]
        vocabulary = self._vocabulary = Vocabulary()
        # Pass 1: analyse every field once, keep term ids with counts, count document frequencies.
        fields: list[tuple[Counter[int], ...]] = []
        self._answer_terms: list[array] = []
        self._phrasing_start = array("i", [0])
        self._phrasing_terms: list[array] = []
        self._phrasing_text: list[str] = []
        self._keywords: list[tuple[str, ...]] = []
        analyse = segmenter.analyse
        analyse_repeated = _cached(analyse)
        for entry in self._entries:
            phrasing_counts = Counter[int]()
            for text in entry.phrasings:
                counts = self._ids(term_counts(analyse(text)))
                phrasing_counts.update(counts)
                self._phrasing_terms.append(array("i", sorted(counts)))
                self._phrasing_text.append(normalise(text).replace(" ", ""))
            self._phrasing_start.append(len(self._phrasing_terms))
            keywords = self._ids(term_counts(analyse_repeated(" ".join(entry.keywords))))
            category = self._ids(term_counts(analyse_repeated(entry.category.replace("|", " "))))
            answer = self._ids(term_counts(analyse(entry.answer)))
            fields.append((phrasing_counts, keywords, category, answer))
            self._answer_terms.append(array("i", sorted(answer)))
            for term in set(phrasing_counts) | keywords.keys() | category.keys() | answer.keys():
                vocabulary.document_frequency[term] += 1
            compact = (normalise(keyword).replace(" ", "") for keyword in entry.keywords)
            self._keywords.append(tuple(keyword for keyword in compact if keyword))
        count = len(self._entries)
        vocabulary.freeze(count)
        idf = vocabulary.idf
        kinds = vocabulary.kinds
        # Per phrasing, its IDF mass per kind: the denominators of "how much of the phrasing the query covers".
        self._phrasing_mass = array("d")
        for terms in self._phrasing_terms:
            mass = [0.0, 0.0, 0.0]
            for term in terms:
                mass[kinds[term]] += idf[term]
            self._phrasing_mass.extend(mass)
        # Pass 2: BM25F impacts into postings, freeing each entry's counts as soon as they are used.
        boosts = (w.question_boost, w.keyword_boost, w.category_boost, w.answer_boost)
        specs = tuple(FieldSpec(boost, w.b) for boost in boosts)
        averages = [_average_length(counts[field] for counts in fields) for field in range(len(specs))]
        postings: dict[int, tuple[array, array]] = {}
        for number in range(count):
            _add(postings, number, bm25_impacts(fields[number], specs, averages, idf, w.k1))
            fields[number] = ()
        self._postings = PostingTable(len(kinds), postings)

    def _ids(self, counts: Counter[str]) -> Counter[int]:
        add = self._vocabulary.add
        return Counter({add(term): count for term, count in counts.items()})

    def match(self, text: str, limit: int = 3) -> Match:
        """Rank entries for `text` and pick a tier; pure and thread-safe."""
        scored = self._score(text)
        if not scored:
            return Match(tier=Tier.NONE, candidates=())
        candidates = tuple(
            Candidate(entry=self._entries[number], score=round(probability, 4))
            for number, probability in scored[:limit]
        )
        return Match(tier=self._tier(scored), candidates=candidates)

    def _score(self, text: str) -> list[tuple[int, float]]:
        """Candidates with their probability of being what the customer meant, best first."""
        found = self.features(text)
        if found is None:
            return []
        numbers, rows, query_row = found
        w = self.weights
        logits = [sum(weight * value for weight, value in zip(w.model, row, strict=True)) for row in rows]
        none = w.none_bias + sum(weight * value for weight, value in zip(w.none_model, query_row, strict=True))
        top = max(none, *logits)
        exps = [math.exp(logit - top) for logit in logits]
        total = math.exp(none - top) + sum(exps)
        scored = [(number, value / total) for number, value in zip(numbers, exps, strict=True)]
        scored.sort(key=lambda item: item[1], reverse=True)
        return scored

    def features(self, text: str) -> tuple[list[int], list[list[float]], list[float]] | None:
        """The re-ranking features of the retrieved candidates (entry numbers, rows) and of the query."""
        query = self._query(text)
        if query is None:
            return None
        w = self.weights
        retrieval: dict[int, float] = {}
        limit = w.postings_per_term
        head = self._postings.head
        get = retrieval.get
        for term in query.weights:
            numbers, impacts = head(term, limit)
            for number, impact in zip(numbers, impacts, strict=True):
                retrieval[number] = get(number, 0.0) + impact
        if not retrieval:
            return None
        ranked = heapq.nlargest(w.rerank_depth, retrieval.items(), key=itemgetter(1))
        best = ranked[0][1]
        rows = [self._candidate_features(query, number, score, best) for number, score in ranked]
        query_row = [
            query.known_share,
            min(len(query.analysed.words), 10) / 10.0,
            best / query.ceiling,
            min(len(query.compact), 40) / 40.0,
        ]
        return [number for number, _ in ranked], rows, query_row

    def _query(self, text: str) -> _Query | None:
        analysed = self._segmenter.analyse(text)
        if analysed.is_empty or not self._entries:
            return None
        vocabulary = self._vocabulary
        ids, idf, unseen = vocabulary.ids, vocabulary.idf, vocabulary.unseen_idf
        weights: dict[int, float] = {}
        mass = [0.0, 0.0, 0.0]
        known = 0.0
        for term in term_counts(analysed):
            number = ids.get(term)
            if number is None:
                mass[kind_of(term)] += unseen
                continue
            weight = idf[number]
            weights[number] = weight
            mass[vocabulary.kinds[number]] += weight
            known += weight
        total = sum(mass)
        if not weights or total <= 0.0:
            return None
        return _Query(
            analysed=analysed,
            weights=weights,
            mass=(mass[WORD], mass[UNIGRAM], mass[BIGRAM]),
            known_share=known / total,
            ceiling=total * (self.weights.k1 + 1.0),
            compact=normalise(text).replace(" ", ""),
        )

    def _candidate_features(self, query: _Query, number: int, score: float, best: float) -> list[float]:
        kinds = self._vocabulary.kinds
        query_weights = query.weights
        query_total = sum(query.mass)
        chosen = -1
        chosen_fit = -1.0
        chosen_covered = (0.0, 0.0, 0.0)
        for phrasing in range(self._phrasing_start[number], self._phrasing_start[number + 1]):
            covered = [0.0, 0.0, 0.0]
            # Intersecting in C first: only the few shared terms reach the Python loop.
            for term in query_weights.keys() & self._phrasing_terms[phrasing]:
                covered[kinds[term]] += query_weights[term]
            matched = covered[0] + covered[1] + covered[2]
            phrasing_total = sum(self._phrasing_mass[3 * phrasing : 3 * phrasing + 3]) or 1.0
            # The best phrasing explains the query and is explained by it: a product of both coverages.
            fit = (matched / query_total) * (matched / phrasing_total)
            if fit > chosen_fit:
                chosen, chosen_fit, chosen_covered = phrasing, fit, (covered[0], covered[1], covered[2])
        text = self._phrasing_text[chosen]
        compact = query.compact
        phrasing_mass = self._phrasing_mass[3 * chosen : 3 * chosen + 3]
        answer = sum(query_weights[term] for term in query_weights.keys() & self._answer_terms[number])
        written = sum(len(keyword) for keyword in self._keywords[number] if keyword in compact)
        return [
            score / best,
            score / query.ceiling,
            _share(chosen_covered[WORD], query.mass[WORD]),
            _share(chosen_covered[UNIGRAM], query.mass[UNIGRAM]),
            _share(chosen_covered[BIGRAM], query.mass[BIGRAM]),
            _share(chosen_covered[UNIGRAM], phrasing_mass[UNIGRAM]),
            _share(chosen_covered[BIGRAM], phrasing_mass[BIGRAM]),
            answer / query_total,
            written / max(len(compact), 1),
            # Compact strings are already normalised, hence processor=None on purpose.
            LCSseq.normalized_similarity(compact, text, processor=None) if compact and text else 0.0,
            fuzz.ratio(text, compact, processor=None) / 100.0,
            min(len(text), 30) / 30.0,
        ]

    def _tier(self, scored: list[tuple[int, float]]) -> Tier:
        top = scored[0][1]
        runner_up = scored[1][1] if len(scored) > 1 else 0.0
        if top >= self.thresholds.answer and top - runner_up >= self.thresholds.margin:
            return Tier.ANSWER
        if top >= self.thresholds.suggest:
            return Tier.SUGGEST
        return Tier.NONE


def _share(part: float, whole: float) -> float:
    return part / whole if whole > 0.0 else 0.0


def _average_length(fields: Iterable[Counter[int]]) -> float:
    lengths = [sum(counts.values()) for counts in fields]
    return sum(lengths) / len(lengths) if lengths else 1.0


def _add(postings: dict[int, tuple[array, array]], number: int, impacts: dict[int, float]) -> None:
    for term, impact in impacts.items():
        found = postings.get(term)
        if found is None:
            found = postings[term] = (array("i"), array("f"))
        found[0].append(number)
        found[1].append(impact)


def _cached(analyse: Callable[[str], Analysed]) -> Callable[[str], Analysed]:
    """Categories and keyword lists repeat across entries: segment each distinct text once per build."""
    seen: dict[str, Analysed] = {}

    def cached(text: str) -> Analysed:
        found = seen.get(text)
        if found is None:
            found = seen[text] = analyse(text)
        return found

    return cached
