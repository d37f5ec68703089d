"""Button actions: short strings carried in Telegram callback data (at most 64 bytes)."""

from __future__ import annotations

from dataclasses import dataclass

PICK = "pick"
HUMAN = "human"
SOLVED = "solved"
COMPLAIN = "complain"
RATE = "rate"
MAX_BYTES = 64


@dataclass(frozen=True)
class Action:
    verb: str
    argument: str = ""


def pick(entry_id: str) -> str:
    return _encode(PICK, entry_id)


def solved(entry_id: str) -> str:
    return _encode(SOLVED, entry_id)


def human() -> str:
    return HUMAN


def complain() -> str:
    return COMPLAIN


def rate(ticket_id: int, score: int) -> str:
    return _encode(RATE, f"{ticket_id}:{score}")


def parse_action(data: str | None) -> Action | None:
    """The action in a button's data, or None for anything we did not make (stale or forged)."""
    if not data or len(data.encode()) > MAX_BYTES:
        return None
    verb, _, argument = data.partition(":")
    if verb in (HUMAN, COMPLAIN) and not argument:
        return Action(verb)
    if verb == RATE:
        ticket, _, score = argument.partition(":")
        if ticket.isdigit() and score in {"1", "2", "3", "4", "5"}:
            return Action(RATE, argument)
        return None
    if verb in (PICK, SOLVED) and argument:
        return Action(verb, argument)
    return None


def _encode(verb: str, argument: str) -> str:
    data = f"{verb}:{argument}"
    if len(data.encode()) > MAX_BYTES:
        raise ValueError(f"button data longer than {MAX_BYTES} bytes: {data!r}")
    return data
