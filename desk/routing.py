"""Deciding what to say: pure functions of the message and the knowledge base, no store, no channel."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from crm_store import ContentKind
from desk import actions
from desk.complaints import is_complaint
from desk.intents import Intent
from desk.language import written_in
from desk.messages import Button, Reply
from desk.texts import say
from knowledge import Entry, KnowledgeBase, Match, Tier
from knowledge.text import normalise

# Whole-message phrases; matched after dropping punctuation and case.
HANDOFF_PHRASES = {
    "转人工",
    "人工",
    "人工客服",
    "转人工客服",
    "找人工",
    "真人",
    "真人客服",
    "客服",
    "找客服",
    "人工服务",
    "我要人工",
    "我要转人工",
    "联系客服",
    "human",
    "agent",
    "operator",
    "talk to a person",
    "talk to a human",
    "real person",
    "speak to a human",
    "speak to a person",
}
HANDOFF_INFIXES = ("转人工", "人工客服", "找人工", "真人客服", "talk to a person", "talk to a human")
GREETINGS = {"你好", "您好", "在吗", "在不在", "hi", "hello", "hey", "哈喽", "嗨", "早上好", "晚上好", "下午好"}
THANKS = {"谢谢", "谢啦", "多谢", "感谢", "好的谢谢", "thanks", "thank you", "thx", "ok thanks"}
LABEL_CHARS = 40


@dataclass(frozen=True)
class Decision:
    intent: Intent
    replies: tuple[Reply, ...]
    entry_id: str | None = None
    score: float | None = None
    tier: str | None = None


def decide_message(
    kb: KnowledgeBase,
    kind: ContentKind,
    text: str,
    language: str,
    *,
    business: str = "",
    complaint_words: Iterable[str] = (),
    folded: str | None = None,
) -> Decision:
    """What to answer to a customer's text, command or media (`folded`: the text normalised, if at hand)."""
    if kind == ContentKind.COMMAND:
        return _decide_command(text, language, business)
    if not text:
        if kind in (ContentKind.TEXT, ContentKind.EDITED):
            return _plain(Intent.EMPTY, "empty", language)
        return _plain(Intent.MEDIA, "media", language)
    # Folded once (width, case, Traditional, punctuation), for every rule below and the complaint words.
    squeezed = folded if folded is not None else normalise(text)
    if is_complaint(squeezed, complaint_words):
        # The reply (ticket number, deadline) is written when the ticket exists.
        return Decision(Intent.COMPLAINT, ())
    if squeezed in HANDOFF_PHRASES or any(infix in squeezed for infix in HANDOFF_INFIXES):
        return decide_handoff(language)
    if squeezed in GREETINGS:
        return _plain(Intent.GREETING, "greeting", language)
    if squeezed in THANKS:
        return _plain(Intent.THANKS, "thanks", language)
    return decide_from_match(kb.match(text), language)


def decide_action(kb: KnowledgeBase, data: str | None, language: str) -> Decision:
    """What to answer to a button press; anything we did not make is treated as stale."""
    action = actions.parse_action(data)
    if action is None:
        return _plain(Intent.STALE_BUTTON, "stale_button", language)
    if action.verb == actions.HUMAN:
        return decide_handoff(language)
    if action.verb == actions.COMPLAIN:
        return Decision(Intent.COMPLAINT, ())
    if action.verb == actions.RATE:
        return Decision(Intent.RATED, ())
    entry = kb.get(action.argument)
    if entry is None or not entry.enabled:
        return _plain(Intent.STALE_BUTTON, "stale_button", language)
    if action.verb == actions.SOLVED:
        return Decision(Intent.SOLVED, (Reply(say("solved", language)),), entry_id=entry.id)
    return Decision(Intent.PICKED, (_answer_reply(entry, language),), entry_id=entry.id, tier="picked")


def decide_from_match(match: Match, language: str) -> Decision:
    best = match.best
    if match.tier == Tier.ANSWER and best is not None:
        reply = _answer_reply(best.entry, language, typed=True)
        return Decision(Intent.ANSWERED, (reply,), best.entry.id, best.score, Tier.ANSWER.value)
    if match.tier == Tier.SUGGEST and best is not None:
        rows = tuple((Button(_label(c.entry.question), actions.pick(c.entry.id)),) for c in match.shown())
        reply = Reply(say("suggest", language), (*rows, (_human_button(language),)))
        return Decision(Intent.SUGGESTED, (reply,), best.entry.id, best.score, Tier.SUGGEST.value)
    score = best.score if best else None
    reply = Reply(say("no_answer", language), ((_human_button(language),),))
    return Decision(Intent.NO_ANSWER, (reply,), None, score, Tier.NONE.value)


def decide_handoff(language: str) -> Decision:
    # The reply (ticket number, deadline) is written when the ticket exists.
    return Decision(Intent.HANDOFF, ())


def _decide_command(text: str, language: str, business: str) -> Decision:
    name = text.split(maxsplit=1)[0].split("@", 1)[0].lstrip("/").lower() if text else ""
    if name == "start":
        return _plain(Intent.WELCOME, "welcome", language, business=business)
    if name == "help":
        return _plain(Intent.HELP, "help", language)
    if name == "forget":
        return Decision(Intent.FORGET, ())
    if name == "mydata":
        return Decision(Intent.MY_DATA, ())
    if name in ("complain", "complaint", "tousu"):
        return Decision(Intent.COMPLAINT, ())
    unknown = say("unknown_command", language) + "\n\n" + say("help", language)
    return Decision(Intent.UNKNOWN_COMMAND, (Reply(unknown, ((_human_button(language),),)),))


def _answer_reply(entry: Entry, language: str, *, typed: bool = False) -> Reply:
    """The entry's answer with Solved / Talk to a person. Answering what the customer typed in one language
    from an entry written in the other (English against a Chinese FAQ), a line first says so. Not after a
    button: there the language comes from the customer's app setting, which many Chinese customers keep in
    English, and they chose the entry by its own title."""
    row = (Button(say("button_solved", language), actions.solved(entry.id)), _human_button(language))
    answer = entry.answer.strip()
    if typed and written_in(answer) != language:
        answer = say("answer_in_other_language", language) + "\n\n" + answer
    return Reply(answer, (row,))


def _plain(intent: Intent, key: str, language: str, *, human_button: bool = True, **values: str) -> Decision:
    buttons = ((_human_button(language),),) if human_button else ()
    return Decision(intent, (Reply(say(key, language, **values), buttons),))


def _human_button(language: str) -> Button:
    return Button(say("button_human", language), actions.human())


def _label(question: str) -> str:
    question = question.strip()
    return question if len(question) <= LABEL_CHARS else question[: LABEL_CHARS - 1] + "…"
