"""Text normalisation and segmentation: what a query and a phrasing have in common once tidied up."""

from __future__ import annotations

import logging
import math
import re
import threading
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

import jieba

from knowledge.lexicon import STOP_WORDS, TRADITIONAL_TO_SIMPLIFIED

# jieba announces its dictionary loading on stderr at DEBUG level; the product logs its own start-up.
logging.getLogger("jieba").setLevel(logging.WARNING)

_FOLD_TABLE = str.maketrans(TRADITIONAL_TO_SIMPLIFIED)
# What NFKC does to the characters FAQ text is mostly made of (full-width ASCII, the ideographic space),
# folded in the same pass as traditional characters: most texts then need no NFKC pass at all.
_WIDTH_AND_FOLD_TABLE = {**{code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}, 0x3000: 0x20, **_FOLD_TABLE}
_DIGIT_GROUPING = re.compile(r"(?<=\d)[,，](?=\d{3})")
# Everything that is not a letter, a digit or a CJK ideograph separates words: punctuation, emoji, spaces.
_SEPARATORS = re.compile(r"[^0-9a-z\u3400-\u4dbf\u4e00-\u9fff]+")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
_LATIN_WORD = re.compile(r"^[0-9a-z]+$")
# A normalised piece jieba cuts as one block (its own block pattern, on the characters normalise keeps).
_JIEBA_BLOCK = re.compile(r"[\u4e00-\u9fd5a-z0-9]+")
_ALPHANUMERIC = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")


def normalise(text: str) -> str:
    """Fold width, case and traditional characters; replace punctuation, emoji and runs of space by one space."""
    text = text.translate(_WIDTH_AND_FOLD_TABLE)
    if not unicodedata.is_normalized("NFKC", text):
        # NFKC may yield traditional characters (compatibility ideographs): fold again after it.
        text = unicodedata.normalize("NFKC", text).translate(_FOLD_TABLE)
    text = text.casefold()
    if "," in text:
        text = _DIGIT_GROUPING.sub("", text)
    return _SEPARATORS.sub(" ", text).strip()


def stem_english(word: str) -> str:
    """A deliberately small stemmer: plural and -ing/-ed endings, enough for 'refunds' to meet 'refund'."""
    if len(word) > 5 and word.endswith("ing"):
        return word[:-3]
    if len(word) > 4 and word.endswith("ed"):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


@dataclass(frozen=True)
class Analysed:
    """A text broken into the pieces the index compares: content words and runs of CJK characters."""

    words: tuple[str, ...]
    # Consecutive content words of CJK text, glued back: character n-grams are taken inside a run only,
    # so removing a stop word never creates an n-gram the customer did not write.
    cjk_runs: tuple[str, ...]

    @property
    def is_empty(self) -> bool:
        return not self.words


class Segmenter:
    """jieba segmentation with a private dictionary, so the product's words never leak into global jieba."""

    def __init__(self, tokenizer: jieba.Tokenizer) -> None:
        self._tokenizer = tokenizer

    def with_words(self, words: Iterable[str]) -> Segmenter:
        """A segmenter that also knows `words`; shares this one's dictionary when nothing is new."""
        new_words = {normalise(word).replace(" ", "") for word in words} - {""}
        new_words = {word for word in new_words if not self._tokenizer.FREQ.get(word)}
        if not new_words:
            return self
        tokenizer = _copy_tokenizer(self._tokenizer)
        for word in sorted(new_words):
            # A high frequency makes jieba keep the knowledge base's terms whole.
            tokenizer.add_word(word, freq=max(tokenizer.suggest_freq(word), 1000))
        return Segmenter(tokenizer)

    def analyse(self, text: str, cache: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] | None = None) -> Analysed:
        """Normalise, segment and drop stop words; pure once the dictionary is loaded."""
        return self.analyse_normalised(normalise(text), cache)

    def analyse_normalised(
        self, text: str, cache: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] | None = None
    ) -> Analysed:
        """`analyse` of text that `normalise` already tidied up.

        jieba cuts each space-separated piece on its own, and a space always ends a CJK run, so pieces are
        analysed separately; `cache` (piece → words and runs) lets a build segment each repeated clause once.
        """
        pieces = text.split(" ")
        if len(pieces) == 1:
            found = cache.get(text) if cache is not None else None
            if found is None:
                found = self._piece(text)
                if cache is not None:
                    cache[text] = found
            return Analysed(words=found[0], cjk_runs=found[1])
        words: list[str] = []
        runs: list[str] = []
        for piece in pieces:
            found = cache.get(piece) if cache is not None else None
            if found is None:
                found = self._piece(piece)
                if cache is not None:
                    cache[piece] = found
            words.extend(found[0])
            runs.extend(found[1])
        return Analysed(words=tuple(words), cjk_runs=tuple(runs))

    def _piece(self, piece: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        words: list[str] = []
        runs: list[str] = []
        run: list[str] = []
        tokens = self._cut(piece) if _JIEBA_BLOCK.fullmatch(piece) else self._tokenizer.cut(piece, HMM=False)
        for token in tokens:
            if not token or token in STOP_WORDS:
                if run:
                    runs.append("".join(run))
                    run = []
                continue
            if _LATIN_WORD.match(token):
                words.append(stem_english(token))
                if run:
                    runs.append("".join(run))
                    run = []
            else:
                words.append(token)
                if _CJK.match(token):
                    run.append(token)
        if run:
            runs.append("".join(run))
        return tuple(words), tuple(runs)

    def _cut(self, block: str) -> list[str]:
        """jieba's `cut(block, HMM=False)` for one block, token for token, without its generators.

        The same dynamic programme over the same dictionary: for each start, the dictionary words beginning
        there score log(frequency / total) plus the best score after them; ties go to the longer word, and
        single letters or digits in a row are glued back together. Segmenting is most of a build's time.
        """
        tokenizer = self._tokenizer
        if not tokenizer.initialized:
            tokenizer.initialize()
        freq = tokenizer.FREQ
        log = math.log
        log_total = log(tokenizer.total)
        length = len(block)
        score = [0.0] * (length + 1)
        end = list(range(length + 1))
        for start in range(length - 1, -1, -1):
            best_score, best_end = None, start
            stop = start
            fragment = block[start]
            while stop < length and fragment in freq:
                count = freq[fragment]
                if count:
                    value = log(count) - log_total + score[stop + 1]
                    if best_score is None or value >= best_score:
                        best_score, best_end = value, stop
                stop += 1
                fragment = block[start : stop + 1]
            if best_score is None:
                best_score = log(freq.get(block[start]) or 1) - log_total + score[start + 1]
            score[start], end[start] = best_score, best_end
        tokens: list[str] = []
        letters = ""
        position = 0
        while position < length:
            after = end[position] + 1
            word = block[position:after]
            if after - position == 1 and word in _ALPHANUMERIC:
                letters += word
            else:
                if letters:
                    tokens.append(letters)
                    letters = ""
                tokens.append(word)
            position = after
        if letters:
            tokens.append(letters)
        return tokens

    def segment(self, text: str) -> str:
        """Content words joined by spaces: the shape rapidfuzz's token scorers expect."""
        return " ".join(self.analyse(text).words)


def char_ngrams(runs: Iterable[str], sizes: Iterable[int] = (1, 2)) -> list[str]:
    """Character n-grams inside each CJK run; robust where two phrasings segment differently."""
    grams: list[str] = []
    for size in sizes:
        for run in runs:
            grams.extend(run[start : start + size] for start in range(len(run) - size + 1))
    return grams


def _copy_tokenizer(source: jieba.Tokenizer) -> jieba.Tokenizer:
    copy = jieba.Tokenizer()
    copy.FREQ = dict(source.FREQ)
    copy.total = source.total
    copy.initialized = True
    return copy


_base_lock = threading.Lock()
_base_segmenter: Segmenter | None = None


def base_segmenter() -> Segmenter:
    """The product's segmenter with jieba's standard dictionary, built once per process (about 0.5 s)."""
    global _base_segmenter
    with _base_lock:
        if _base_segmenter is None:
            tokenizer = jieba.Tokenizer()
            tokenizer.initialize()
            _base_segmenter = Segmenter(tokenizer)
        return _base_segmenter


def warm_up(extra_words: Iterable[str] = ()) -> None:
    """Load jieba's dictionary now rather than on the first customer message; add the product's own words."""
    global _base_segmenter
    segmenter = base_segmenter().with_words(extra_words)
    with _base_lock:
        _base_segmenter = segmenter
