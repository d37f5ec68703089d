"""Inverted indexes over the knowledge base's fields: term → documents, with IDF term weights.

Every field is indexed as sets of terms (content words and CJK character n-grams). A query is scored by
walking only the postings of its own terms, so its cost follows the rarity of its words, not the size
of the knowledge base.
"""

from __future__ import annotations

import math
from array import array
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from knowledge.text import Analysed, char_ngrams

# Term kinds, as the first character of a term: a word, or a CJK character n-gram of size 1, 2 or 3.
WORD, UNIGRAM, BIGRAM, TRIGRAM = "w", "1", "2", "3"
GRAM_KINDS = {1: UNIGRAM, 2: BIGRAM, 3: TRIGRAM}


@dataclass(frozen=True)
class TermKindWeights:
    """How much each kind of term counts; single characters say little, whole words and bigrams say more."""

    word: float = 1.0
    unigram: float = 0.5
    bigram: float = 0.8
    trigram: float = 0.0

    def of(self, term: str) -> float:
        return {WORD: self.word, UNIGRAM: self.unigram, BIGRAM: self.bigram, TRIGRAM: self.trigram}[term[0]]


def common_term_cutoff(document_count: int) -> int:
    """Postings longer than this are skipped at query time: such terms weigh little (low IDF) but would
    make a query's cost grow with the knowledge base. Small knowledge bases are never pruned."""
    return max(500, document_count // 50)


def terms_of(analysed: Analysed, gram_sizes: Sequence[int] = (1, 2)) -> set[str]:
    """The set of terms a text contributes: its content words and the n-grams of its CJK runs."""
    terms = {WORD + word for word in analysed.words}
    for size in gram_sizes:
        kind = GRAM_KINDS[size]
        terms.update(kind + gram for gram in char_ngrams(analysed.cjk_runs, (size,)))
    return terms


def term_counts(analysed: Analysed, gram_sizes: Sequence[int] = (1, 2)) -> Counter[str]:
    """Like `terms_of`, with how often each term occurs (BM25 needs frequencies)."""
    counts = Counter(WORD + word for word in analysed.words)
    for size in gram_sizes:
        counts.update(GRAM_KINDS[size] + gram for gram in char_ngrams(analysed.cjk_runs, (size,)))
    return counts


class TermWeights:
    """IDF × kind weight of every term seen in a collection; unseen terms weigh the most (they are rarest)."""

    def __init__(self, documents: Iterable[set[str]], kinds: TermKindWeights) -> None:
        document_frequency: dict[str, int] = defaultdict(int)
        count = 0
        for terms in documents:
            count += 1
            for term in terms:
                document_frequency[term] += 1
        self._kinds = kinds
        self._unseen_idf = self._idf(0, count)
        self._weights = {
            term: self._idf(frequency, count) * kinds.of(term) for term, frequency in document_frequency.items()
        }

    @staticmethod
    def _idf(frequency: int, count: int) -> float:
        return math.log(1.0 + (count - frequency + 0.5) / (frequency + 0.5))

    def weight(self, term: str) -> float:
        found = self._weights.get(term)
        return found if found is not None else self._unseen_idf * self._kinds.of(term)

    def known(self, term: str) -> bool:
        return term in self._weights


class FieldIndex:
    """Postings of one field. A document belongs to an owner (its entry); an entry may have several."""

    def __init__(self, documents: Sequence[set[str]], owners: Sequence[int], weights: TermWeights) -> None:
        postings: dict[str, list[int]] = defaultdict(list)
        for document_number, terms in enumerate(documents):
            for term in terms:
                postings[term].append(document_number)
        # array('i') keeps 100k-entry indexes to a few bytes per posting instead of a Python int each.
        self._postings = {term: array("i", numbers) for term, numbers in postings.items()}
        self.owners = array("i", owners)
        self._common_df = common_term_cutoff(len(documents))
        self.norms = [sum(weights.weight(term) for term in terms) for terms in documents]
        self.weights = weights

    def matched_weight(self, query_terms: Iterable[str]) -> dict[int, float]:
        """For every document sharing a term with the query: the summed weight of the shared terms."""
        accumulated: dict[int, float] = defaultdict(float)
        for term in query_terms:
            numbers = self._postings.get(term)
            if numbers is None or len(numbers) > self._common_df:
                continue
            weight = self.weights.weight(term)
            for number in numbers:
                accumulated[number] += weight
        return accumulated

    def query_weight(self, query_terms: Iterable[str]) -> float:
        return sum(self.weights.weight(term) for term in query_terms)


class BM25FIndex:
    """BM25 over one document per entry whose fields are mixed with boosts (question > keywords > answer).

    Term frequencies arrive already boosted, so a word in the question counts as several in the answer.
    Each posting stores its final contribution (IDF × saturated frequency), so a query only adds floats.
    """

    def __init__(self, documents: Sequence[dict[str, float]], kinds: TermKindWeights, k1: float, b: float) -> None:
        count = len(documents)
        lengths = [sum(document.values()) for document in documents]
        average = (sum(lengths) / count) if count else 1.0
        document_frequency: dict[str, int] = defaultdict(int)
        for document in documents:
            for term in document:
                document_frequency[term] += 1
        self._kinds = kinds
        self._saturation = k1 + 1.0
        self._unseen_idf = TermWeights._idf(0, count)
        self._idf = {term: TermWeights._idf(df, count) * kinds.of(term) for term, df in document_frequency.items()}
        numbers: dict[str, array] = defaultdict(lambda: array("i"))
        contributions: dict[str, array] = defaultdict(lambda: array("f"))
        for number, (document, length) in enumerate(zip(documents, lengths, strict=True)):
            length_norm = k1 * (1.0 - b + b * length / average)
            for term, frequency in document.items():
                numbers[term].append(number)
                contributions[term].append(self._idf[term] * frequency * (k1 + 1.0) / (frequency + length_norm))
        self._postings = {term: (numbers[term], contributions[term]) for term in numbers}
        self._common_df = common_term_cutoff(count)

    def scores(self, query_terms: Iterable[str]) -> tuple[dict[int, float], float]:
        """Each touched entry's BM25 score, and the best score the query could reach (for scaling to 0..1)."""
        accumulated: dict[int, float] = defaultdict(float)
        ceiling = 0.0
        for term in query_terms:
            idf = self._idf.get(term)
            ceiling += (idf if idf is not None else self._unseen_idf * self._kinds.of(term)) * self._saturation
            posting = self._postings.get(term)
            if posting is None or len(posting[0]) > self._common_df:
                continue
            for number, contribution in zip(*posting, strict=True):
                accumulated[number] += contribution
        return accumulated, ceiling
