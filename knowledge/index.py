"""Compact inverted indexes over the knowledge base: term ids, flat postings, per-entry term arrays.

Every text is reduced to terms of three kinds: content words, CJK character unigrams and bigrams (n-grams
make two phrasings meet even when jieba cuts them differently). Terms get integer ids; postings of all
terms live in flat numpy arrays built in one sorted pass, so a 100k-entry index costs a few bytes per
posting and no Python object per posting or per entry.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Sequence
from itertools import pairwise

import numpy as np

# Term kinds, as small integers in `Vocabulary.kinds`.
WORD, UNIGRAM, BIGRAM = 0, 1, 2


# A CJK character's code point, or two of them as (first << 21 | second): n-grams are integers, not strings.
NGRAM_SHIFT = 21


def ngram_keys(runs: Sequence[str]) -> list[int]:
    """Distinct unigram then bigram keys of CJK runs, in order of first use."""
    keys: list[int] = []
    for run in runs:
        codes = [ord(char) for char in run]
        keys.extend(codes)
        keys.extend([(first << NGRAM_SHIFT) | second for first, second in pairwise(codes)])
    return list(dict.fromkeys(keys))


def ngram_kind(key: int) -> int:
    return UNIGRAM if key >> NGRAM_SHIFT == 0 else BIGRAM


def bm25_idf(document_frequency: int, document_count: int) -> float:
    return math.log(1.0 + (document_count - document_frequency + 0.5) / (document_frequency + 0.5))


class Vocabulary:
    """Term ↔ integer id, each id with its kind and, once frozen, its IDF over entries.

    Words live in a dictionary; character n-grams (most of the terms) in a sorted array of integer keys,
    which costs 12 bytes a term instead of a string and a dictionary slot.
    """

    def __init__(self) -> None:
        # `words[word]` gives a new word the next id (building); `words.get(word, -1)` only looks (queries).
        self.words: dict[str, int] = _WordIds(self)
        self.ngram_keys = np.zeros(0, dtype=np.int64)
        self.ngram_ids = np.zeros(0, dtype=np.int32)
        self._kinds = array("b")
        self.kinds = np.zeros(0, dtype=np.int8)
        self.idf = np.zeros(0, dtype=np.float64)
        self.unseen_idf = 0.0

    def __len__(self) -> int:
        return len(self._kinds) or len(self.kinds)

    def _new_word(self) -> int:
        self._kinds.append(WORD)
        return len(self._kinds) - 1

    def add_ngrams(self, keys: np.ndarray) -> np.ndarray:
        """Ids of n-gram keys, new keys getting the next ids (in key order)."""
        distinct = sorted_unique(keys)
        # Sorted needles: numpy's binary search starts each one where the previous one ended.
        ids = self.find_ngrams(distinct)
        new = ids < 0
        fresh = distinct[new]
        ids[new] = np.arange(len(self._kinds), len(self._kinds) + len(fresh), dtype=np.int32)
        self._kinds.frombytes(np.where(fresh >> NGRAM_SHIFT == 0, UNIGRAM, BIGRAM).astype(np.int8).tobytes())
        places = np.searchsorted(self.ngram_keys, fresh)
        self.ngram_keys = np.insert(self.ngram_keys, places, fresh)
        self.ngram_ids = np.insert(self.ngram_ids, places, ids[new])
        # Each key's id through its place among this batch's distinct keys, a far smaller table to search.
        return ids[np.searchsorted(distinct, keys)]

    def find_ngrams(self, keys: np.ndarray) -> np.ndarray:
        """Ids of n-gram keys, -1 for keys no entry uses."""
        positions = np.searchsorted(self.ngram_keys, keys)
        positions[positions == len(self.ngram_keys)] = 0
        known = self.ngram_keys[positions] == keys if len(self.ngram_keys) else np.zeros(len(keys), dtype=bool)
        return np.where(known, self.ngram_ids[positions] if len(self.ngram_ids) else -1, -1).astype(np.int32)

    def freeze(self, document_frequency: np.ndarray, document_count: int) -> None:
        self.kinds = np.frombuffer(self._kinds, dtype=np.int8).copy()
        self._kinds = array("b")
        # Few distinct frequencies: math.log on each once, the same values the scalar formula gives.
        values, inverse = np.unique(document_frequency, return_inverse=True)
        table = np.array([bm25_idf(int(df), document_count) for df in values], dtype=np.float64)
        self.idf = table[inverse.reshape(-1)] if len(values) else np.zeros(0, dtype=np.float64)
        # A term no entry uses is the rarest of all: it weighs most in what the query asks for.
        self.unseen_idf = bm25_idf(0, document_count)


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """`np.unique(values)` by sorting: numpy 2's default hashes instead, 10-15x slower on a million keys."""
    ordered = np.sort(values)
    if len(ordered) < 2:
        return ordered
    return ordered[np.concatenate(((True,), ordered[1:] != ordered[:-1]))]


class _WordIds(dict):
    """Word → id; looking up a new word with `[]` gives it the next id. `get` never adds: queries use it."""

    def __init__(self, vocabulary: Vocabulary) -> None:
        super().__init__()
        self._vocabulary = vocabulary

    def __missing__(self, word: str) -> int:
        number = self[word] = self._vocabulary._new_word()
        return number


def strongest_and_rest(terms: np.ndarray, frequency: np.ndarray, cap: int) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the at most `cap` strongest rows of each term, and of the other rows, each by term then
    strongest first. The ranking is gone before the caller copies rows out: together they set the build's peak
    memory."""
    order, rank = ranked_within_term(terms, frequency)
    chosen = rank < cap
    return order[chosen], order[~chosen]


def ranked_within_term(terms: np.ndarray, frequency: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row positions by term then strongest first, and each one's rank inside its term (0 the strongest).

    Impact is IDF (one value per term) times a rising function of the pseudo-frequency, so the order
    inside a term is the pseudo-frequency's. One int64 key (term, inverted float32 bits) and one stable
    sort; equal frequencies keep row order.
    """
    # Built in place: at 100k entries this runs over millions of rows and sets the build's peak memory.
    key = terms.astype(np.int64)
    key <<= 32
    inverted = frequency.astype(np.float32).view(np.uint32)
    np.subtract(np.uint32(0xFFFFFFFF), inverted, out=inverted)
    key |= inverted
    del inverted
    order = np.argsort(key, kind="stable")
    del key
    sorted_terms = terms[order]
    first = np.empty(len(order), dtype=bool)
    first[:1] = True
    np.not_equal(sorted_terms[1:], sorted_terms[:-1], out=first[1:])
    del sorted_terms
    starts = np.flatnonzero(first).astype(np.int32)
    del first
    rank = np.arange(len(order), dtype=np.int32)
    rank -= np.repeat(starts, np.diff(np.append(starts, len(order))))
    return order, rank


class Postings:
    """For each term id, the entries using it with a precomputed impact, in entry order.

    The index keeps two: each term's strongest entries up to a cap (where retrieval looks for candidates)
    and the rest of a common term's entries (what completes the scores of the candidates found).
    """

    def __init__(self, term_count: int, terms: np.ndarray, entries: np.ndarray, impacts: np.ndarray) -> None:
        # Each term's list is stored in entry order: a query concatenates a few sorted runs of the strongest,
        # which a stable sort merges twice as fast as shuffled ones, and finds its candidates in a tail by
        # binary search. The key is built in place: tails hold millions of rows at 100k entries.
        key = terms.astype(np.int64)
        key <<= 32
        key |= entries
        order = np.argsort(key)
        del key
        self.entries = entries[order].astype(np.int32, copy=False)
        self.impacts = impacts[order].astype(np.float32, copy=False)
        del order
        self.offsets = np.zeros(term_count + 1, dtype=np.int64)
        np.cumsum(np.bincount(terms, minlength=term_count), out=self.offsets[1:])


def gather(offsets: np.ndarray, items: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the slices offsets[i]:offsets[i + 1] of every i in `items`, concatenated, and their lengths."""
    starts = offsets[items]
    lengths = offsets[items + 1] - starts
    ends = np.cumsum(lengths)
    return np.arange(int(ends[-1]) if len(ends) else 0) + np.repeat(starts - ends + lengths, lengths), lengths


def bm25f_frequencies(
    entries: np.ndarray,
    fields: np.ndarray,
    terms: np.ndarray,
    counts: np.ndarray,
    boosts: np.ndarray,
    norms: np.ndarray,
    term_count: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """BM25F pseudo-frequency of every (entry, term): boosted, length-normalised term frequencies summed over
    fields (saturation and IDF are the caller's). `norms[entry, field]` is the field's length normalisation;
    returns the distinct (entry, term) pairs, entry-major, with their pseudo-frequency."""
    pseudo = boosts[fields] * counts / norms[entries, fields]
    # Stable sort keeps each pair's rows in field order.
    keys = entries.astype(np.int64) * term_count + terms
    order = np.argsort(keys, kind="stable")
    keys, pseudo = keys[order], pseudo[order]
    if not len(keys):
        return np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0)
    first = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
    frequency = np.add.reduceat(pseudo, first)
    keys = keys[first]
    return (keys // term_count).astype(np.int32), (keys % term_count).astype(np.int32), frequency
