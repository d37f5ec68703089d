"""Text normalisation and segmentation: what a query and a phrasing have in common once tidied up."""

from __future__ import annotations

import copy
import logging
import math
import re
import sys
import threading
import unicodedata
from collections import ChainMap
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from knowledge.caches import cache_folder, keep_caches_in
from knowledge.compiled import speedups as _speedups
from knowledge.lexicon import STOP_WORDS, TRADITIONAL_TO_SIMPLIFIED


def _import_jieba() -> ModuleType:
    """jieba, without pkg_resources: jieba reaches its data files through it when it is installed, which
    costs 0.15 s of every start; without it jieba opens the same files by path."""
    if "pkg_resources" in sys.modules:
        import jieba

        return jieba
    sys.modules["pkg_resources"] = None  # type: ignore[assignment]  # so that `import pkg_resources` fails
    try:
        import jieba
    finally:
        del sys.modules["pkg_resources"]
    return jieba


jieba = _import_jieba()

# jieba announces its dictionary loading on stderr at DEBUG level; the product logs its own start-up.
logging.getLogger("jieba").setLevel(logging.WARNING)

_FOLD_TABLE = str.maketrans(TRADITIONAL_TO_SIMPLIFIED)
# What NFKC does to the characters FAQ text is mostly made of (full-width ASCII, the ideographic space),
# folded in the same pass as traditional characters: most texts then need no NFKC pass at all.
_WIDTH_AND_FOLD_TABLE = {**{code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}, 0x3000: 0x20, **_FOLD_TABLE}
# The same folding as one regular expression: only the characters that change cost anything, where
# str.translate would look each character of a long answer up in the table.
_FOLDS = {
    chr(code): target if isinstance(target, str) else chr(target) for code, target in _WIDTH_AND_FOLD_TABLE.items()
}
_FOLDABLE = re.compile("[" + "".join(re.escape(char) for char in sorted(_FOLDS)) + "]")
if _speedups is not None:
    _speedups.set_fold_table({ord(source): ord(target) for source, target in _FOLDS.items()})
_DIGIT_GROUPING = re.compile(r"(?<=\d)[,，](?=\d{3})")
# Everything that is not a letter, a digit or a CJK ideograph separates words: punctuation, emoji, spaces.
_SEPARATORS = re.compile(r"[^0-9a-z\u3400-\u4dbf\u4e00-\u9fff]+")
# A normalised piece jieba cuts as one block (its own block pattern, on the characters normalise keeps).
_JIEBA_BLOCK = re.compile(r"[\u4e00-\u9fd5a-z0-9]+")
_JIEBA_BLOCK_SPLIT = re.compile(r"([\u4e00-\u9fd5a-z0-9]+)")
_ALPHANUMERIC = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")


def normalise(text: str) -> str:
    """Fold width, case and traditional characters; replace punctuation, emoji and runs of space by one space."""
    text = fold(text)
    if not unicodedata.is_normalized("NFKC", text):
        # NFKC may yield traditional characters (compatibility ideographs): fold again after it.
        text = unicodedata.normalize("NFKC", text).translate(_FOLD_TABLE)
    text = text.casefold()
    if "," in text:
        text = _DIGIT_GROUPING.sub("", text)
    return separate(text)


def fold_python(text: str) -> str:
    """Width and traditional characters folded (the first step of `normalise`), in Python."""
    return _FOLDABLE.sub(_fold, text)


def _fold(match: re.Match[str]) -> str:
    return _FOLDS[match.group()]


def separate_python(text: str) -> str:
    """Punctuation, emoji and runs of space replaced by one space, none at either end (the last step)."""
    return _SEPARATORS.sub(" ", text).strip()


fold = fold_python if _speedups is None else _speedups.fold
separate = separate_python if _speedups is None else _speedups.separate


def stem_english(word: str) -> str:
    """A deliberately small stemmer, the same cut for a word's forms: refunds/refund, branches/branch,
    policies/policy, close/closed/closing. A stem need not be a word (clos); only that the forms meet."""
    if len(word) > 4 and word.endswith(("ies", "ied")):
        return word[:-3] + "y"
    keep = len(word)
    if keep > 5 and word.endswith("ing"):
        keep -= 3
    elif keep > 4 and word.endswith(("ed", "ches", "shes", "sses", "xes", "zzes")):
        keep -= 2
    elif keep > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        keep -= 1
    if keep > 4 and word[keep - 1] == "e":  # charge, charged, charges: one stem
        keep -= 1
    return word[:keep]


# piece → (words, CJK runs): what a build remembers so each repeated clause is segmented once.
_PieceCache = dict[str, tuple[tuple[str, ...], tuple[str, ...]]]


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
    """jieba segmentation with a private dictionary, so the product's words never leak into global jieba.

    jieba's dictionary (about 500,000 words and prefixes) is loaded once and shared, read-only, by every
    segmenter derived from it; each one adds only its own words in a small overlay. Copying the whole
    dictionary per knowledge base would cost tens of megabytes and most of a second.
    """

    def __init__(self, tokenizer: jieba.Tokenizer) -> None:
        if not tokenizer.initialized:
            tokenizer.initialize()
        # word → frequency, 0 for a mere prefix of a longer word (jieba's FREQ); never written to.
        self._base: dict[str, int] = tokenizer.FREQ
        # The same for the words this segmenter adds: only words the base lacks or holds as a prefix.
        self._words: dict[str, int] = {}
        self._total: int = tokenizer.total
        self._log_total = math.log(self._total)
        # log of each distinct frequency, computed once: the dynamic programme looks them up.
        self._logs: dict[int, float] = {count: math.log(count) for count in set(self._base.values()) if count}

    def with_words(self, words: Iterable[str]) -> Segmenter:
        """A segmenter that also knows `words`; shares this one's dictionary when nothing is new."""
        new_words = {normalise(word).replace(" ", "") for word in words} - {""}
        new_words = {word for word in new_words if not self._count(word)}
        if not new_words:
            return self
        segmenter = copy.copy(self)
        segmenter._words = dict(self._words)
        segmenter._logs = dict(self._logs)
        for word in sorted(new_words):
            # A high frequency makes jieba keep the knowledge base's terms whole.
            segmenter._add_word(word, max(segmenter._suggest_freq(word), 1000))
        return segmenter

    def _count(self, word: str, default: int | None = None) -> int | None:
        """`word`'s frequency as jieba's FREQ.get would give it: the overlay first, then the base."""
        count = self._words.get(word)
        return self._base.get(word, default) if count is None else count

    def _suggest_freq(self, word: str) -> int:
        """jieba's `suggest_freq(word)`: a frequency high enough to keep `word` whole, without adding it."""
        total = float(self._total)
        freq = 1.0
        for token in self._tokens(word):
            freq *= self._count(token, 1) / total
        return max(int(freq * self._total) + 1, self._count(word, 1))

    def _add_word(self, word: str, freq: int) -> None:
        """jieba's `add_word(word, freq)`, written to the overlay only; the segmenter is not shared yet."""
        self._words[word] = freq
        self._total += freq
        self._log_total = math.log(self._total)
        self._logs.setdefault(freq, math.log(freq))
        for stop in range(1, len(word)):
            if self._count(word[:stop]) is None:
                self._words[word[:stop]] = 0

    @property
    def _tokenizer(self) -> jieba.Tokenizer:
        """jieba itself over this segmenter's dictionary (overlay first, base unchanged), to check `_cut`."""
        tokenizer = jieba.Tokenizer()
        tokenizer.FREQ = ChainMap(self._words, self._base)
        tokenizer.total = self._total
        tokenizer.initialized = True
        return tokenizer

    def analyse(self, text: str, cache: _PieceCache | None = None) -> Analysed:
        """Normalise, segment and drop stop words; pure once the dictionary is loaded."""
        return self.analyse_normalised(normalise(text), cache)

    def analyse_normalised(self, text: str, cache: _PieceCache | None = None) -> Analysed:
        """`analyse` of text that `normalise` already tidied up."""
        words, runs = self.words_and_runs(text, cache)
        return Analysed(words=words, cjk_runs=runs)

    def words_and_runs(self, text: str, cache: _PieceCache | None = None) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """`analyse_normalised` as a plain pair (words, CJK runs): an index build makes half a million.

        jieba cuts each space-separated piece on its own, and a space always ends a CJK run, so pieces are
        analysed separately; `cache` (piece → words and runs) lets a build segment each repeated clause once.
        """
        if _speedups is not None:
            return _speedups.analyse(text, cache, self._base, self._words, self._logs, self._log_total, STOP_WORDS)
        return self._analyse_python(text, cache)

    def _analyse_python(self, text: str, cache: _PieceCache | None = None) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """`words_and_runs` in Python: the reference the compiled version is tested against."""
        pieces = text.split(" ")
        if len(pieces) == 1:
            found = cache.get(text) if cache is not None else None
            if found is None:
                found = self._piece(text)
                if cache is not None:
                    cache[text] = found
            return found
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
        return tuple(words), tuple(runs)

    def _piece(self, piece: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        words: list[str] = []
        runs: list[str] = []
        run: list[str] = []
        for token in self._tokens(piece):
            if token in STOP_WORDS:
                if run:
                    runs.append("".join(run))
                    run = []
                continue
            # Normalised text is ASCII letters and digits or CJK ideographs: an ASCII token is a Latin word,
            # and a token opening with an ideograph belongs to a CJK run.
            if token.isascii():
                words.append(stem_english(token))
                if run:
                    runs.append("".join(run))
                    run = []
            else:
                words.append(token)
                if not token[0].isascii():
                    run.append(token)
        if run:
            runs.append("".join(run))
        return tuple(words), tuple(runs)

    def _tokens(self, piece: str) -> list[str]:
        """jieba's `cut(piece, HMM=False)` for a normalised piece without spaces.

        jieba cuts runs of its block characters with the dynamic programme and yields any other character
        alone; after `normalise` the only others are the rarer CJK ideographs it does not treat as Chinese.
        """
        if _JIEBA_BLOCK.fullmatch(piece):
            return self._cut(piece)
        tokens: list[str] = []
        # split keeps the blocks at odd positions, the text between them at even ones.
        for position, part in enumerate(_JIEBA_BLOCK_SPLIT.split(piece)):
            if position % 2:
                tokens.extend(self._cut(part))
            else:
                tokens.extend(part)
        return tokens

    def _cut(self, block: str) -> list[str]:
        """jieba's `cut(block, HMM=False)` for one block, token for token, without its generators.

        The same dynamic programme over the same dictionary: for each start, the dictionary words beginning
        there score log(frequency / total) plus the best score after them; ties go to the longer word, and
        single letters or digits in a row are glued back together. Segmenting is most of a build's time and
        a tenth of a query's, hence one dictionary lookup per fragment and logarithms looked up, not computed.
        """
        base, words, logs = self._base.get, self._words.get, self._logs
        log_total = self._log_total
        length = len(block)
        score = [0.0] * (length + 1)
        ends = [0] * length  # where the best first word from each start ends (exclusive)
        for start in range(length - 1, -1, -1):
            best, best_end = -math.inf, 0
            for stop in range(start + 1, length + 1):
                fragment = block[start:stop]
                count = base(fragment)
                if not count:
                    # The overlay holds only what the base lacks or knows as a mere prefix.
                    count = words(fragment, count)
                    if count is None:
                        break  # no dictionary word goes on with this fragment
                    if not count:
                        continue
                value = logs[count] - log_total + score[stop]
                if value >= best:
                    best, best_end = value, stop
            if best_end:
                score[start], ends[start] = best, best_end
            else:
                # No word starts here: the character alone, at frequency 1 (log 1 = 0).
                score[start], ends[start] = -log_total + score[start + 1], start + 1
        tokens: list[str] = []
        letters = ""
        position = 0
        while position < length:
            after = ends[position]
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


_base_lock = threading.Lock()
_base_segmenter: Segmenter | None = None


def base_segmenter() -> Segmenter:
    """The product's segmenter with jieba's standard dictionary, built once per process (about 0.5 s)."""
    global _base_segmenter
    with _base_lock:
        if _base_segmenter is None:
            tokenizer = jieba.Tokenizer()
            folder = cache_folder()
            if folder is not None:
                tokenizer.tmp_dir = str(folder)
            tokenizer.initialize()
            _base_segmenter = Segmenter(tokenizer)
        return _base_segmenter


def warm_up(cache_dir: Path | None = None) -> None:
    """Load jieba's dictionary now rather than on the first customer message. It adds no words: each
    knowledge base keeps its keywords in its own segmenter, so a reload matches exactly as a restart.

    `cache_dir`: where jieba's and the bridge dictionary's caches are kept across restarts."""
    if cache_dir is not None:
        keep_caches_in(cache_dir)
    base_segmenter()
    # OpenCC reads its dictionaries on first use (~0.1 s): not on a Traditional writer's first message.
    from knowledge.script import to_traditional

    to_traditional("简")
