"""Scores a customer's message against every enabled entry and decides how sure we are.

Two stages. Retrieval sums postings of BM25F over each entry as a whole (question and alternates, keywords,
category and answer, boosted in that order, each normalised by its own length): candidates come from each
query term's strongest postings, and the best of them are then scored on every posting of every term.
Re-ranking describes each of the best few candidates by a dozen features (how much of the query its best
phrasing explains and how much of that phrasing the query explains, per term kind; how much the answer
explains; string similarity; keywords written out) and scores them with a linear model fitted offline on
real customer phrasings.

Confidence is a probability: a softmax over the candidates plus a "none of them" option whose score grows
when the query is mostly unknown words or matches weakly. It accounts for the runner-up by construction
(two near-equal candidates share the mass), and the thresholds read as "answer when p ≥ answer".
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import LCSseq

from knowledge.bridge import Bridge, shared_dictionary
from knowledge.build import build_index
from knowledge.compiled import speedups as _speedups
from knowledge.index import (
    BIGRAM,
    UNIGRAM,
    WORD,
    Postings,
    gather,
    ngram_keys,
    ngram_kind,
)
from knowledge.model import Candidate, Entry, Match, Thresholds, Tier
from knowledge.question_types import agreement, asked, topics
from knowledge.semantic import Embedder, SemanticStage
from knowledge.synonyms import with_synonyms
from knowledge.text import Segmenter, normalise

FEATURES = (
    "bm25_relative",  # retrieval score / best retrieval score of this query
    "bm25_absolute",  # retrieval score / the most this query could score
    "query_words",  # share of the query's word weight found in the best phrasing
    "query_unigrams",  # ... of its character weight
    "query_bigrams",  # ... of its bigram weight
    "phrasing_unigrams",  # share of the best phrasing's character weight found in the query
    "phrasing_bigrams",  # ... of its bigram weight
    "answer",  # share of the query's weight found in the answer
    "keywords_written",  # characters of the entry's keywords written out in the query / query length (*)
    "lcs",  # longest common subsequence with the best phrasing, normalised
    "ratio",  # rapidfuzz ratio with the best phrasing
    "phrasing_length",  # short titles ("X问题") attract everything; long ones say more
    # Keywords and category written partly: 刷卡分期 still meets the keyword 帐单分期, a typo does not lose a
    # keyword. Keywords and category parts of 2+ characters; characters counted wherever the query has them.
    # (*) These four are scored relative to the candidates' mean (see _KEYWORD_COLUMNS).
    "keyword_characters_best",  # the best share of one keyword's characters found in the query
    "keyword_characters",  # share of the query's characters found in its keywords
    "category_characters_best",  # the best share of one category part's characters found in the query
    "topic_characters",  # the best share of a phrasing's topic (its words but the question words) in the query
    "query_topic",  # share of the query's topic found in the entry's topic, keywords or category (the best one)
    "question_type",  # share of what the query asks about (a fee, a time, how to …) that the entry offers
)
QUERY_FEATURES = (  # the evidence for "none of them"
    "known",  # share of the query's weight made of terms the knowledge base uses
    "words",  # how many content words (capped at 10) / 10
    "top_absolute",  # best retrieval score / the most this query could score
    "length",  # compact query length (capped at 40) / 40
)
# With the semantic stage (`knowledge.semantic`), each candidate row goes on with these, and the query's with
# SEMANTIC_QUERY_FEATURES; they have their own fitted weights, so the lexical model is the same with or
# without the stage.
SEMANTIC_FEATURES = (
    "cosine",  # the best cosine of the message with one of the entry's phrasings (and its answer's first sentence)
    "cosine_margin",  # that cosine minus the best candidate's
    "answer_cosine",  # the cosine of the message with the entry's answer
    "answer_cosine_margin",  # that cosine minus the best candidate's
)
COSINE_FLOOR, COSINE_SCALE = 0.8, 10.0  # cosine features are (cosine - floor) * scale
SEMANTIC_QUERY_FEATURES = ("best_cosine",)  # the best cosine with any entry: low when nothing is about this


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
    # Retrieval's weight of a word, a CJK character and a character pair (their BM25 impacts and the query's
    # ceiling). A word the segmenter found is the stronger evidence; a pair mostly repeats a two-character word.
    # Equal weights let one long word (its pairs and characters) outscore two words of the entry: at 100k
    # entries the right entry then lost to one that shared a single four-character word with the message.
    kind_boosts: tuple[float, float, float] = (1.0, 1.0, 0.5)
    rerank_depth: int = 12
    # Postings per term where candidates are looked for: the strongest. A common term's others only complete
    # the scores of the `shortlist` best candidates, where the re-ranked ones are then chosen: the right entry,
    # found through a rarer term, is not lost because a common one mentions it in passing.
    postings_per_term: int = 128
    shortlist: int = 48
    # Fitted by softmax regression (candidates plus "none"), one weight per name in FEATURES / QUERY_FEATURES;
    # `python -m knowledge fit` refits them on labelled phrasings (held out by entry) and prints them.
    # fmt: off
    model: tuple[float, ...] = (
        3.525, 1.873, -0.879, -0.082, -1.248, 1.241, -0.359, 2.291, -0.361, 1.204, 1.189, -1.475, 0.706, 1.813,
        0.837, 2.264, 1.422, 0.86,
    )
    # fmt: on
    none_model: tuple[float, ...] = (-0.429, -1.172, -0.814, -0.582)
    none_bias: float = 8.727
    # The semantic stage: the entries nearest the message by meaning join retrieval's candidates.
    semantic_candidates: int = 4
    # Messages the lexical model alone is at least this sure of are not embedded (1.0: every message is). On
    # the practice set 0.9 spares a tenth of the messages their embedding and changes no figure.
    semantic_gate: float = 0.9
    # The model over FEATURES + SEMANTIC_FEATURES and QUERY_FEATURES + SEMANTIC_QUERY_FEATURES, fitted as above.
    # fmt: off
    semantic_model: tuple[float, ...] = (
        1.886, 1.397, -0.679, 0.031, -0.873, 1.016, -0.126, 1.105, -0.238, 0.495, 0.428, -1.741, 0.768, 1.425,
        0.664, 1.533, 0.753, 0.713, 1.944, 2.106, 2.078, 1.93,
    )
    # fmt: on
    semantic_none_model: tuple[float, ...] = (-0.398, -0.403, -0.621, -0.116, 0.162)
    semantic_none_bias: float = 8.513

    def scoring(self, semantic: bool) -> tuple[tuple[float, ...], tuple[float, ...], float]:
        """The candidate weights, "none of them" weights and bias of the lexical or the semantic model."""
        if semantic:
            return self.semantic_model, self.semantic_none_model, self.semantic_none_bias
        return self.model, self.none_model, self.none_bias

    def with_scoring(
        self, semantic: bool, model: tuple[float, ...], none_model: tuple[float, ...], none_bias: float
    ) -> ScoringWeights:
        if semantic:
            return replace(self, semantic_model=model, semantic_none_model=none_model, semantic_none_bias=none_bias)
        return replace(self, model=model, none_model=none_model, none_bias=none_bias)


_SENTINEL = np.iinfo(np.int32).max  # above every term id


@dataclass(frozen=True)
class _Query:
    terms: np.ndarray  # known term ids, in the order the query uses them
    sorted_terms: np.ndarray  # the same ids sorted, then a sentinel: lookups by binary search never fall off
    sorted_weights: np.ndarray
    sorted_kinds: np.ndarray
    mass: tuple[float, float, float]  # IDF mass per kind, unknown terms included
    divisors: np.ndarray  # the same, infinite where 0
    known_share: float
    ceiling: float
    compact: str
    word_count: int
    asks: int  # question_types.asked
    topic: str  # question_types.topics


class Matcher:
    """Immutable after construction: `match` reads shared structures only, so threads may share it.

    Everything per entry and per phrasing lives in flat arrays with offsets: no Python object per entry
    beyond the entries themselves, and a query's work is a few vectorised operations over its candidates.
    """

    def __init__(
        self,
        entries: Sequence[Entry],
        segmenter: Segmenter,
        thresholds: Thresholds,
        weights: ScoringWeights | None = None,
        *,
        embedder: Embedder | None = None,
        background: bool = False,
    ) -> None:
        """With an `embedder`, the semantic stage joins in once its passages are embedded (at once, or in a
        thread with `background`); until then, and without one, the matcher is lexical."""
        self.thresholds = thresholds
        self.weights = w = weights or ScoringWeights()
        self._segmenter = segmenter
        self._entries = [entry for entry in entries if entry.enabled]
        self._model = np.asarray(w.model, dtype=np.float64)
        self._semantic_model = np.asarray(w.semantic_model, dtype=np.float64)
        self._index = build_index(self._entries, segmenter, w)
        dictionary = shared_dictionary()
        idf = self._index.idf
        vocabulary = self._index.vocabulary.words
        self._bridge = (
            Bridge(dictionary, self._entries, vocabulary, idf.__getitem__) if dictionary is not None else None
        )
        self.semantic = SemanticStage(self._entries, embedder, background=background) if embedder is not None else None

    @property
    def segmenter(self) -> Segmenter:
        """jieba's dictionary plus this knowledge base's keywords, and no other knowledge base's."""
        return self._segmenter

    @property
    def entries(self) -> list[Entry]:
        """The enabled entries, in the order the entry numbers of `features` refer to."""
        return self._entries

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
        """Candidates with their probability of being what the customer meant, best first. With the semantic
        stage, a message the words alone settle (at least `semantic_gate` sure) is not embedded."""
        stage = self.semantic
        gated = stage is not None and stage.ready and self.weights.semantic_gate < 1.0
        if gated:
            scored = self._probabilities(self._features(text, semantic=False))
            if scored and scored[0][1] >= self.weights.semantic_gate:
                return scored
        return self._probabilities(self._features(text))

    def _probabilities(self, found: tuple[list[int], np.ndarray, list[float]] | None) -> list[tuple[int, float]]:
        if found is None:
            return []
        numbers, rows, query_row = found
        semantic = rows.shape[1] > len(FEATURES)
        _, none_model, none_bias = self.weights.scoring(semantic)
        # A dozen values: plain Python beats numpy's per-call cost from here on.
        logits = (rows @ (self._semantic_model if semantic else self._model)).tolist()
        none = none_bias + sum(weight * value for weight, value in zip(none_model, query_row, strict=True))
        top = max(none, *logits)
        exps = [math.exp(logit - top) for logit in logits]
        total = math.exp(none - top) + sum(exps)
        scored = [(number, value / total) for number, value in zip(numbers, exps, strict=True)]
        scored.sort(key=lambda item: item[1], reverse=True)
        return scored

    def features(self, text: str) -> tuple[list[int], list[list[float]], list[float]] | None:
        """The re-ranking features of the retrieved candidates (entry numbers, rows) and of the query: FEATURES
        and QUERY_FEATURES, followed by SEMANTIC_FEATURES and SEMANTIC_QUERY_FEATURES once the semantic stage
        is ready."""
        found = self._features(text)
        if found is None:
            return None
        numbers, rows, query_row = found
        return numbers, rows.tolist(), query_row

    def _features(self, text: str, semantic: bool = True) -> tuple[list[int], np.ndarray, list[float]] | None:
        query = self._query(text)
        ranked = self._retrieve(query.terms) if query is not None else []
        cosines = self.semantic.cosines(text) if self.semantic is not None and semantic else None
        if cosines is not None and cosines.shape[1]:
            return self._semantic_features(text, query, ranked, cosines)
        if query is None or not ranked:
            return None
        numbers = [number for number, _ in ranked]
        scores = [score for _, score in ranked]
        best = ranked[0][1]
        rows = self._candidate_features(query, numbers, scores, best)
        return numbers, rows, self._query_row(query, best)

    @staticmethod
    def _query_row(query: _Query, best: float) -> list[float]:
        return [
            query.known_share,
            min(query.word_count, 10) / 10.0,
            best / query.ceiling,
            min(len(query.compact), 40) / 40.0,
        ]

    def _semantic_features(
        self, text: str, query: _Query | None, ranked: list[tuple[int, float]], cosines: np.ndarray
    ) -> tuple[list[int], np.ndarray, list[float]]:
        """Retrieval's candidates and the entries nearest by meaning, with both kinds of features."""
        nearness = cosines.max(axis=0)
        depth = min(self.weights.semantic_candidates, len(nearness))
        nearest = np.argpartition(-nearness, depth - 1)[:depth] if depth else np.zeros(0, dtype=np.int64)
        nearest = sorted(nearest.tolist(), key=lambda number: (-nearness[number], number))
        have = {number for number, _ in ranked}
        ranked = ranked + [(number, 0.0) for number in nearest if number not in have]
        numbers = [number for number, _ in ranked]
        if query is not None and ranked[0][1] > 0.0:
            best = ranked[0][1]
            lexical = self._candidate_features(query, numbers, [score for _, score in ranked], best)
            query_row = self._query_row(query, best)
        else:  # no word the knowledge base knows: meaning alone
            lexical = np.zeros((len(numbers), len(FEATURES)))
            query_row = [0.0, 0.0, 0.0, min(len(normalise(text).replace(" ", "")), 40) / 40.0]
        rows = np.zeros((len(numbers), len(FEATURES) + len(SEMANTIC_FEATURES)))
        rows[:, : len(FEATURES)] = lexical
        # e5's cosines of related texts sit in a narrow band (about 0.75 to 0.95): stretched to the scale of
        # the other features, so the fit's L2 penalty does not hold their weights back.
        for kind, column in zip(range(len(cosines)), range(len(FEATURES), len(FEATURES) + 4, 2), strict=False):
            chosen = cosines[kind, numbers].astype(np.float64)
            rows[:, column] = (chosen - COSINE_FLOOR) * COSINE_SCALE
            rows[:, column + 1] = (chosen - chosen.max()) * COSINE_SCALE
        query_row.append((float(cosines[0].max()) - COSINE_FLOOR) * COSINE_SCALE)
        return numbers, rows, query_row

    def _retrieve(self, terms: np.ndarray) -> list[tuple[int, float]]:
        """The `rerank_depth` entries with the highest retrieval score for the query's terms, best first, ties
        to the lower entry number (compiled when available; `_retrieve_numpy` is the reference)."""
        if _speedups is None:
            return self._retrieve_numpy(terms)
        postings = self._index.postings
        numbers, scores = _speedups.retrieve(
            postings.offsets, postings.entries, postings.impacts, terms, self.weights.shortlist
        )
        return self._complete(terms, numbers, scores, compiled=True)

    def _retrieve_numpy(self, terms: np.ndarray) -> list[tuple[int, float]]:
        postings = self._index.postings
        # Every stored posting of the query's terms (the strongest of each), summed per entry in term order,
        # as a dictionary walk would.
        positions, _ = gather(postings.offsets, terms)
        if not len(positions):
            return []
        # Group by entry with one stable sort (np.unique's inverse costs more): sums keep term order.
        entries = postings.entries[positions]
        order = np.argsort(entries, kind="stable")
        entries = entries[order]
        starts = np.flatnonzero(np.concatenate(((True,), entries[1:] != entries[:-1])))
        found = entries[starts]
        retrieval = np.add.reduceat(postings.impacts[positions[order]].astype(np.float64), starts)
        depth = self.weights.shortlist
        if len(found) > depth:
            # The depth-th best score; every entry above it, then the lowest entry numbers among its equals.
            threshold = np.partition(retrieval, len(retrieval) - depth)[len(retrieval) - depth]
            above = np.flatnonzero(retrieval > threshold)
            tied = np.flatnonzero(retrieval == threshold)[: depth - len(above)]
            chosen = np.concatenate((above, tied))
            found, retrieval = found[chosen], retrieval[chosen]
        return self._complete(terms, found.tolist(), retrieval.tolist(), compiled=False)

    def _complete(
        self, terms: np.ndarray, numbers: list[int], scores: list[float], compiled: bool
    ) -> list[tuple[int, float]]:
        """The shortlisted candidates' scores plus the postings their common terms keep beyond the strongest,
        in term order; the `rerank_depth` best, ties to the lower entry number (`_speedups.complete` when
        `compiled`, else `_add_tails_numpy`, its reference)."""
        if not numbers:
            return []
        tails = self._index.tails
        found = np.array(numbers, dtype=np.int32)
        totals = np.array(scores, dtype=np.float64)
        if compiled:
            _speedups.complete(tails.offsets, tails.entries, tails.impacts, terms, found, totals)
        else:
            _add_tails_numpy(tails, terms, found, totals)
        # Best first, ties by entry order, as a sort of a few dozen pairs.
        ranked = sorted(zip(numbers, totals.tolist(), strict=True), key=lambda pair: (-pair[1], pair[0]))
        return ranked[: self.weights.rerank_depth]

    def _query(self, text: str) -> _Query | None:
        clean = asked_in = normalise(text)
        analysed = self._segmenter.analyse_normalised(clean)
        if self._bridge is not None:
            # English phrases put in the knowledge base's words; the question words stay in `asked_in`.
            rewritten = self._bridge.rewrite(clean, analysed.words)
            if rewritten is not None:
                clean, analysed = rewritten, self._segmenter.analyse_normalised(rewritten)
        if analysed.is_empty or not self._entries:
            return None
        index = self._index
        vocabulary = index.vocabulary
        words, unseen = vocabulary.words, vocabulary.unseen_idf
        # A query has a dozen terms: scalar lookups in Python beat numpy's per-call cost here.
        idf, kinds = index.idf, index.kinds
        known: list[int] = []
        mass = [0.0, 0.0, 0.0]
        weight_sum = 0.0
        keys = ngram_keys(analysed.cjk_runs)
        found = vocabulary.find_ngrams(np.array(keys, dtype=np.int64)).tolist() if keys else []
        terms = [(WORD, words.get(token, -1)) for token in dict.fromkeys(with_synonyms(analysed.words))]
        terms.extend((ngram_kind(key), number) for key, number in zip(keys, found, strict=True))
        for kind, number in terms:
            if number < 0:
                mass[kind] += unseen
                continue
            known.append(number)
            weight = idf[number]
            mass[kinds[number]] += weight
            weight_sum += weight
        total = mass[0] + mass[1] + mass[2]
        if not known or total <= 0.0:
            return None
        # The most the query could score: every term's impact saturated, each kind at its retrieval weight.
        boosted = sum(value * boost for value, boost in zip(mass, self.weights.kind_boosts, strict=True))
        ordered = sorted(known)
        ordered.append(_SENTINEL)
        sorted_terms = np.array(ordered, dtype=np.int32)  # the dtype of stored terms: no casts
        return _Query(
            terms=np.array(known, dtype=np.int64),
            sorted_terms=sorted_terms,
            sorted_weights=vocabulary.idf[sorted_terms[:-1]],
            sorted_kinds=vocabulary.kinds[sorted_terms[:-1]],
            mass=(mass[WORD], mass[UNIGRAM], mass[BIGRAM]),
            divisors=np.array([value if value > 0.0 else math.inf for value in mass]),
            known_share=weight_sum / total,
            ceiling=boosted * (self.weights.k1 + 1.0),
            compact=clean.replace(" ", ""),
            word_count=len(analysed.words),
            asks=asked(asked_in),
            topic=topics((clean,)),
        )

    def _candidate_features(self, query: _Query, numbers: list[int], scores: list[float], best: float) -> np.ndarray:
        """One row of FEATURES per candidate (compiled when available; `_candidate_features_numpy` is the
        reference)."""
        if _speedups is None:
            return self._candidate_features_numpy(query, numbers, scores, best)
        mass = query.mass
        packed, chosen_phrasings = _speedups.cover(
            numbers, scores, best, query.ceiling, mass[0] + mass[1] + mass[2], len(FEATURES), *self._cover_arrays(query)
        )
        rows = np.frombuffer(packed).reshape(len(numbers), len(FEATURES))
        self._fill_text_columns(rows, query, numbers, chosen_phrasings)
        return rows

    def _cover_arrays(self, query: _Query) -> tuple[np.ndarray | array, ...]:
        """The query's and the index's arrays `_speedups.cover` reads, in its order."""
        index = self._index
        return (
            query.sorted_terms,
            query.sorted_weights,
            query.sorted_kinds,
            index.entry_terms,
            index.entry_slots,
            index.term_offsets,
            index.phrasing_starts,
            index.phrasing_total,
            index.phrasing_divisors,
            query.divisors,
        )

    def _candidate_features_numpy(
        self, query: _Query, numbers: list[int], scores: list[float], best: float
    ) -> np.ndarray:
        """One row of FEATURES per candidate, computed for all candidates at once."""
        candidates = len(numbers)
        query_mass = query.mass
        query_total = query_mass[0] + query_mass[1] + query_mass[2]
        # Which of the query's terms each candidate's answer and phrasings contain, by binary search in the
        # sorted query; sums land in a (candidate, slot, kind) cube, slot 0 being the answer.
        index = self._index
        starts, offsets = index.phrasing_starts, index.term_offsets
        first_list = [starts[number] for number in numbers]
        slots = max(starts[number + 1] - begin for number, begin in zip(numbers, first_list, strict=True)) + 1
        bounds = [(offsets[number], offsets[number + 1]) for number in numbers]
        entry_terms, entry_slots = index.entry_terms, index.entry_slots
        terms = np.concatenate([entry_terms[start:stop] for start, stop in bounds])
        owner = np.repeat(np.arange(0, candidates * slots, slots), [stop - start for start, stop in bounds])
        owner += np.concatenate([entry_slots[start:stop] for start, stop in bounds])
        hit, weight, kind = self._lookup(query, terms)
        cube = np.bincount(owner[hit] * 3 + kind, weights=weight, minlength=3 * slots * candidates)
        cube = cube.reshape(candidates, slots, 3)
        covered = cube[:, 1:, :]
        matched = covered.sum(axis=2)
        first = np.array(first_list)
        phrasing_total = index.phrasing_total.take(first[:, None] + np.arange(slots - 1), mode="clip")
        # The best phrasing explains the query and is explained by it: a product of both coverages. argmax
        # takes the first of equals, as a strict > loop does. Slots beyond an entry's phrasings own no term,
        # so their fit is 0 and they never beat the entry's first phrasing.
        best_slot = ((matched / query_total) * (matched / phrasing_total)).argmax(axis=1)
        chosen_covered = covered[np.arange(candidates), best_slot]
        chosen_phrasings = first + best_slot
        rows = np.empty((candidates, len(FEATURES)))
        rows[:, 0:2] = np.array(scores)[:, None] / np.array((best, query.ceiling))
        # Shares of the query's mass per kind (columns 2-4), then of the chosen phrasing's (5-6); a kind
        # with no mass has share 0, hence the infinite divisors.
        rows[:, 2:5] = chosen_covered / query.divisors
        rows[:, 5:7] = chosen_covered[:, 1:] / index.phrasing_divisors[chosen_phrasings]
        rows[:, 7] = cube[:, 0, :].sum(axis=1) / query_total
        self._fill_text_columns(rows, query, numbers, chosen_phrasings.tolist())
        return rows

    def _fill_text_columns(self, rows: np.ndarray, query: _Query, numbers: list[int], phrasings: list[int]) -> None:
        """Columns 8 on, the same on both paths: the string features, then question-type agreement (last)."""
        strings = rows[:, 8:-1]  # a view: assignments land in `rows`
        strings[:] = self._string_features(query, numbers, phrasings)
        keyword_columns = strings[:, _KEYWORD_COLUMNS]
        strings[:, _KEYWORD_COLUMNS] = keyword_columns - keyword_columns.mean(axis=0)
        offers = self._index.question_types
        rows[:, -1] = [agreement(query.asks, offers[number]) for number in numbers]

    def _string_features(self, query: _Query, numbers: list[int], phrasings: list[int]) -> list[tuple[float, ...]]:
        """Keywords written out, LCS and ratio with the chosen phrasing, that phrasing's length, how much of
        the keywords, category and topic the query writes, and how much of the query's topic they hold (raw:
        `_fill_text_columns` scores the _KEYWORD_COLUMNS against the candidates' mean)."""
        compact, topic = query.compact, query.topic
        index = self._index
        texts, text_offsets = index.texts, index.text_offsets
        keywords, keyword_offsets = index.keywords, index.keyword_offsets
        chosen = [texts[text_offsets[phrasing] : text_offsets[phrasing + 1]] for phrasing in phrasings]
        # One rapidfuzz call for all candidates: the longest common subsequence gives both string features.
        # Compact strings are already normalised, hence processor=None on purpose.
        common = process.cdist((compact,), chosen, scorer=LCSseq.similarity, processor=None, dtype=np.int32)[0]
        shares = _speedups.character_shares if _speedups is not None else character_shares_python
        keyword_shares = shares(compact, keywords, keyword_offsets, numbers)
        category_shares = shares(compact, index.categories, index.category_offsets, numbers)
        topic_shares = shares(compact, index.topics, index.topic_offsets, numbers)
        # How much of what the query is about each entry holds: counted in its topic, keywords and category
        # apart, the best of the three (a knowledge base without keywords still has topics).
        topic_held = [
            max(in_topic, in_keywords, in_category)
            for (_, in_topic), (_, in_keywords), (_, in_category) in zip(
                shares(topic, index.topics, index.topic_offsets, numbers),
                shares(topic, keywords, keyword_offsets, numbers),
                shares(topic, index.categories, index.category_offsets, numbers),
                strict=True,
            )
        ]
        size, topic_size = len(compact), max(len(topic), 1)
        features = []
        for number, text, shared, (keyword_best, keyword_covered), (category_best, _), (topic_best, _), held in zip(
            numbers, chosen, common.tolist(), keyword_shares, category_shares, topic_shares, topic_held, strict=True
        ):
            listed = keywords[keyword_offsets[number] : keyword_offsets[number + 1]]
            written = sum(len(keyword) for keyword in listed.split("\n") if keyword in compact) if listed else 0
            length = len(text)
            features.append(
                (
                    written / max(size, 1),
                    # LCSseq's normalised similarity and fuzz.ratio, both from the LCS length.
                    shared / max(length, size, 1),
                    2.0 * shared / max(length + size, 1),
                    min(length, 30) / 30.0,
                    keyword_best,
                    keyword_covered / max(size, 1),
                    category_best,
                    topic_best,
                    held / topic_size,
                )
            )
        return features

    @staticmethod
    def _lookup(query: _Query, terms: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Which of `terms` the query uses (a mask), with the IDF and kind of each one it uses."""
        sorted_terms = query.sorted_terms  # ends with a sentinel no term id reaches
        positions = np.searchsorted(sorted_terms, terms)
        hit = sorted_terms[positions] == terms
        positions = positions[hit]
        return hit, query.sorted_weights[positions], query.sorted_kinds[positions]

    def _tier(self, scored: list[tuple[int, float]]) -> Tier:
        top = scored[0][1]
        runner_up = scored[1][1] if len(scored) > 1 else 0.0
        if top >= self.thresholds.answer and top - runner_up >= self.thresholds.margin:
            return Tier.ANSWER
        if top >= self.thresholds.suggest:
            return Tier.SUGGEST
        return Tier.NONE


# Columns of `_string_features` that exist only where entries list keywords or a category, scored against the
# candidates' mean: a knowledge base without keywords then loses their help but not its confidence. As raw
# values they add to every candidate's logit, and where no entry has keywords "none of them" wins far more
# often (a bank FAQ with its keywords and categories removed, same calibration: answered_correct 0.16 raw,
# 0.25 relative).
_KEYWORD_COLUMNS = [0, 4, 5, 6]  # a list: numpy reads a tuple as one multi-dimensional index


def _add_tails_numpy(tails: Postings, terms: np.ndarray, found: np.ndarray, totals: np.ndarray) -> None:
    """Adds to `totals` each term's impact for the entries of `found` its tail holds, per entry in term order."""
    starts, stops = tails.offsets[terms], tails.offsets[terms + 1]
    common = stops > starts
    # Each tail is in entry order: one binary search per candidate and common term (a few dozen each).
    for start, stop in zip(starts[common].tolist(), stops[common].tolist(), strict=True):
        listed = tails.entries[start:stop]
        places = np.minimum(np.searchsorted(listed, found), len(listed) - 1)
        hit = listed[places] == found
        totals[hit] += tails.impacts[start:stop][places[hit]]


def character_shares_python(
    compact: str, joined: str, offsets: Sequence[int], numbers: list[int]
) -> list[tuple[float, int]]:
    """For each entry number, its texts (`joined[offsets[n]:offsets[n + 1]]`, one per line) of 2+ characters:
    the best share of one text's characters found in `compact`, and how many of `compact`'s characters occur
    in one of them (each character of the query counted once, however many texts share it)."""
    present = set(compact)
    shares = []
    for number in numbers:
        listed = joined[offsets[number] : offsets[number + 1]]
        texts = [text for text in listed.split("\n") if len(text) > 1] if listed else []
        best = max((sum(character in present for character in text) / len(text) for text in texts), default=0.0)
        characters = set("".join(texts))
        shares.append((best, sum(character in characters for character in compact)))
    return shares
