"""Compact inverted indexes over the knowledge base: term ids, flat impact-ordered postings, per-entry term arrays.

Every text is reduced to terms of three kinds: content words, CJK character unigrams and bigrams (n-grams
make two phrasings meet even when jieba cuts them differently). Terms get integer ids; postings of all
terms live in flat numpy arrays built in one sorted pass, so a 100k-entry index costs a few bytes per
posting and no Python object per posting or per entry.
"""

from __future__ import annotations

import math
from array import array
from collections import Counter
from collections.abc import Sequence

import numpy as np

from knowledge.text import Analysed

# Term kinds, as the first character of a term string and as a small integer in `Vocabulary.kinds`.
WORD, UNIGRAM, BIGRAM = 0, 1, 2
_PREFIX = ("w", "1", "2")


def term_counts(analysed: Analysed, words: bool = True) -> Counter[str]:
    """Terms of a text with how often each occurs: content words and the 1- and 2-grams of its CJK runs."""
    counts: Counter[str] = Counter("w" + word for word in analysed.words) if words else Counter()
    for run in analysed.cjk_runs:
        counts.update("1" + char for char in run)
        counts.update("2" + run[start : start + 2] for start in range(len(run) - 1))
    return counts


def kind_of(term: str) -> int:
    return _PREFIX.index(term[0])


def bm25_idf(document_frequency: int, document_count: int) -> float:
    return math.log(1.0 + (document_count - document_frequency + 0.5) / (document_frequency + 0.5))


class Vocabulary:
    """Term string ↔ integer id, each id with its kind and, once frozen, its IDF over entries."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self._kinds = array("b")
        self.kinds = np.zeros(0, dtype=np.int8)
        self.idf = np.zeros(0, dtype=np.float64)
        self.unseen_idf = 0.0

    def add(self, term: str) -> int:
        found = self.ids.get(term)
        if found is None:
            found = self.ids[term] = len(self._kinds)
            self._kinds.append(kind_of(term))
        return found

    def __len__(self) -> int:
        return len(self._kinds)

    def freeze(self, document_frequency: np.ndarray, document_count: int) -> None:
        self.kinds = np.frombuffer(self._kinds, dtype=np.int8).copy()
        self._kinds = array("b")
        # Few distinct frequencies: math.log on each once, the same values the scalar formula gives.
        values, inverse = np.unique(document_frequency, return_inverse=True)
        table = np.array([bm25_idf(int(df), document_count) for df in values], dtype=np.float64)
        self.idf = table[inverse.reshape(-1)] if len(values) else np.zeros(0, dtype=np.float64)
        # A term no entry uses is the rarest of all: it weighs most in what the query asks for.
        self.unseen_idf = bm25_idf(0, document_count)


class Postings:
    """For each term id, the entries using it with a precomputed impact, strongest first, at most `cap` of them.

    Impact order lets a query read only the head of a long posting list: the entries a very common term
    would add are the ones it contributes least to, so they are not even stored.
    """

    def __init__(self, term_count: int, terms: np.ndarray, entries: np.ndarray, impacts: np.ndarray, cap: int) -> None:
        # One stable sort: by term, then strongest impact; equal impacts keep entry order.
        order = np.lexsort((-impacts, terms))
        terms, entries, impacts = terms[order], entries[order], impacts[order]
        counts = np.bincount(terms, minlength=term_count)
        starts = np.zeros(term_count + 1, dtype=np.int64)
        np.cumsum(counts, out=starts[1:])
        rank = np.arange(len(terms), dtype=np.int64) - starts[terms]
        keep = rank < cap
        self.entries = entries[keep].astype(np.int32)
        self.impacts = impacts[keep].astype(np.float32)
        self.offsets = np.zeros(term_count + 1, dtype=np.int64)
        np.cumsum(np.minimum(counts, cap), out=self.offsets[1:])


def gather(offsets: np.ndarray, items: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the slices offsets[i]:offsets[i + 1] of every i in `items`, concatenated, and their lengths."""
    starts = offsets[items]
    lengths = offsets[items + 1] - starts
    ends = np.cumsum(lengths)
    return np.arange(int(ends[-1]) if len(ends) else 0) + np.repeat(starts - ends + lengths, lengths), lengths


def bm25f_impacts(
    entries: np.ndarray,
    fields: np.ndarray,
    terms: np.ndarray,
    counts: np.ndarray,
    boosts: Sequence[float],
    b: float,
    entry_count: int,
    term_count: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """BM25F pseudo-frequency of every (entry, term): boosted, length-normalised term frequencies summed over
    fields (saturation and IDF are the caller's). Rows are (entry, field, term, count) in entry and field
    order; returns the distinct (entry, term) pairs, entry-major, with their pseudo-frequency."""
    field_count = len(boosts)
    lengths = np.bincount(
        entries.astype(np.int64) * field_count + fields, weights=counts, minlength=entry_count * field_count
    ).reshape(entry_count, field_count)
    averages = lengths.mean(axis=0) if entry_count else np.ones(field_count)
    averages[averages == 0.0] = 1.0
    norms = 1.0 - b + b * lengths / averages
    pseudo = np.asarray(boosts, dtype=np.float64)[fields] * counts / norms[entries, fields]
    # Stable sort keeps each pair's fields in field order: sums add up exactly as a field-by-field loop does.
    keys = entries.astype(np.int64) * term_count + terms
    order = np.argsort(keys, kind="stable")
    keys, pseudo = keys[order], pseudo[order]
    first = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1]))) if len(keys) else np.zeros(0, np.int64)
    frequency = np.add.reduceat(pseudo, first) if len(first) else np.zeros(0)
    pair_entries = (keys[first] // term_count).astype(np.int32)
    pair_terms = (keys[first] % term_count).astype(np.int32)
    return pair_entries, pair_terms, frequency
