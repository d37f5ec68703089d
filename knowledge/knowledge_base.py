"""`KnowledgeBase`: the loaded, validated entries and the matcher built over them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from knowledge.loader import check_unique_ids, load_with_origins
from knowledge.matcher import Matcher, ScoringWeights
from knowledge.model import Entry, KnowledgeError, Match, Thresholds
from knowledge.semantic import Embedder
from knowledge.text import base_segmenter


class KnowledgeBase:
    """Immutable once built: `match` and `get` do no I/O and may be called from several threads."""

    def __init__(
        self,
        entries: Sequence[Entry],
        *,
        sources: Sequence[Path] = (),
        origins: Mapping[str, Path] | None = None,
        thresholds: Thresholds | None = None,
        weights: ScoringWeights | None = None,
        embedder: Embedder | None = None,
        background: bool = False,
    ) -> None:
        """With an `embedder` the semantic stage joins the matcher once the entries are embedded: before
        this returns, or in a thread with `background` (the matcher answers on words meanwhile)."""
        self.entries: tuple[Entry, ...] = tuple(entries)
        self.sources: tuple[Path, ...] = tuple(sources)
        self.origins: Mapping[str, Path] = origins or {}  # entry id → the file it was loaded from
        self.thresholds = thresholds or Thresholds()
        self._by_id = {entry.id: entry for entry in self.entries}
        keywords = [keyword for entry in self.entries for keyword in entry.keywords]
        segmenter = base_segmenter().with_words(keywords)
        self._matcher = Matcher(
            self.entries, segmenter, self.thresholds, weights, embedder=embedder, background=background
        )

    @classmethod
    def load(
        cls,
        paths: Sequence[Path | str],
        thresholds: Thresholds | None = None,
        *,
        embedder: Embedder | None = None,
        background: bool = False,
    ) -> KnowledgeBase:
        """Load files and directories; raises `KnowledgeError` naming file, entry and field of every problem."""
        entries, sources, origins = load_with_origins(paths)
        return cls(
            entries, sources=sources, origins=origins, thresholds=thresholds, embedder=embedder, background=background
        )

    @classmethod
    def from_entries(cls, entries: Sequence[Entry], thresholds: Thresholds | None = None) -> KnowledgeBase:
        if problems := check_unique_ids(entries):
            raise KnowledgeError(problems)
        return cls(entries, thresholds=thresholds)

    def match(self, text: str, limit: int = 3) -> Match:
        """The best entries for a customer's message and how sure we are (see `Tier`)."""
        return self._matcher.match(text, limit)

    @property
    def embedder(self) -> Embedder | None:
        """The semantic stage's encoder and cache (None: lexical only), for a reload to share."""
        stage = self._matcher.semantic
        return stage.embedder if stage is not None else None

    @property
    def matcher(self) -> Matcher:
        """The matcher itself, for tools that inspect its features (`knowledge.fit`)."""
        return self._matcher

    def get(self, entry_id: str) -> Entry | None:
        return self._by_id.get(entry_id)

    def __len__(self) -> int:
        return len(self.entries)
