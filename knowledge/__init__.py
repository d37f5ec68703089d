"""The knowledge base: FAQ entries in content files, validated on load, matched against customer messages.

Pure after load: no Telegram, no I/O in `match`. Call `warm_up()` at start-up so the first customer
does not wait for jieba's dictionary.
"""

from knowledge.knowledge_base import KnowledgeBase
from knowledge.model import Candidate, Entry, KnowledgeError, Match, Problem, Thresholds, Tier
from knowledge.text import warm_up

__all__ = [
    "Candidate",
    "Entry",
    "KnowledgeBase",
    "KnowledgeError",
    "Match",
    "Problem",
    "Thresholds",
    "Tier",
    "warm_up",
]
