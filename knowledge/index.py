"""Compact inverted indexes over the knowledge base: term ids, flat impact-ordered postings, per-entry term arrays.

Every text is reduced to terms of three kinds: content words, CJK character unigrams and bigrams (n-grams
make two phrasings meet even when jieba cuts them differently). Terms get integer ids; postings of all
terms live in two flat arrays, so a 100k-entry index costs a few bytes per posting, not a Python object.
"""

from __future__ import annotations

import math
from array import array
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

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
        self.kinds = array("b")
        self.document_frequency = array("i")
        self.idf = array("d")
        self.unseen_idf = 0.0

    def add(self, term: str) -> int:
        found = self.ids.get(term)
        if found is None:
            found = self.ids[term] = len(self.kinds)
            self.kinds.append(kind_of(term))
            self.document_frequency.append(0)
        return found

    def freeze(self, document_count: int) -> None:
        self.idf = array("d", (bm25_idf(df, document_count) for df in self.document_frequency))
        # A term no entry uses is the rarest of all: it weighs most in what the query asks for.
        self.unseen_idf = bm25_idf(0, document_count)
        self.document_frequency = array("i")


class PostingTable:
    """For each term id, the entries using it with a precomputed impact, strongest first.

    Impact order lets a query read only the head of a long posting list: the entries a very common term
    would add are the ones it contributes least to.
    """

    def __init__(self, term_count: int, per_term: dict[int, tuple[array, array]]) -> None:
        self.offsets = array("q", [0]) * (term_count + 1)
        self.entries = array("i")
        self.impacts = array("f")
        position = 0
        for term in range(term_count):
            self.offsets[term] = position
            found = per_term.pop(term, None)
            if found is not None:
                numbers, impacts = found
                order = sorted(range(len(numbers)), key=impacts.__getitem__, reverse=True)
                self.entries.extend(numbers[i] for i in order)
                self.impacts.extend(impacts[i] for i in order)
                position += len(numbers)
        self.offsets[term_count] = position

    def head(self, term: int, limit: int) -> tuple[array, array]:
        start = self.offsets[term]
        end = min(self.offsets[term + 1], start + limit)
        return self.entries[start:end], self.impacts[start:end]


@dataclass(frozen=True)
class FieldSpec:
    """BM25F settings of one field: its boost and how much its length is normalised."""

    boost: float
    b: float = 0.75


def bm25_impacts(
    fields: Sequence[Counter[int]],
    specs: Sequence[FieldSpec],
    average_lengths: Sequence[float],
    idf: Sequence[float],
    k1: float,
) -> dict[int, float]:
    """BM25F of one entry: boosted, length-normalised term frequencies summed over fields, then saturated."""
    pseudo: dict[int, float] = {}
    for counts, spec, average in zip(fields, specs, average_lengths, strict=True):
        if not counts:
            continue
        norm = 1.0 - spec.b + spec.b * sum(counts.values()) / (average or 1.0)
        for term, count in counts.items():
            pseudo[term] = pseudo.get(term, 0.0) + spec.boost * count / norm
    return {term: idf[term] * frequency * (k1 + 1.0) / (frequency + k1) for term, frequency in pseudo.items()}
