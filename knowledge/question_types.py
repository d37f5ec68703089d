"""What a message asks about: a fee, a time, a place, a failure, an amount, whether one may, how to, or what
something is; and what an entry is about once its question words are set aside (its topic).

Entries of one topic share their content words (信用卡年费, 信用卡申请方式, 信用卡无法使用); what tells them
apart is what the customer wants to know about the topic. A customer asks it in question words (多少钱, 多久,
为什么); an entry offers it in its title (…费用, …时间, …无法登入的原因) or, when written as a question, in
the same question words. The cues are general customer-service Chinese and English, nothing of one trade.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# name: how a customer asks it (Chinese, English), how an entry's title offers it (Chinese, English).
_LEXICON: dict[str, tuple[str, str, str, str]] = {
    "cost": (
        "多少钱|费用|收费|手续费|年费|利息|利率|价格|费率|扣多少|要钱|免费",
        "how much|fees?|costs?|price|charges?|interest",
        "费|利率|利息|价格|收费|计息",
        "fees?|costs?|price|charges?|interest|rates?",
    ),
    "time": (
        "多久|几天|何时|什么时候|几点|时间|期限|多长|截止|哪天|几号|工作天",
        "how long|when|what time|deadline|hours",
        "时间|期限|天数|日期|时效|何时|多久",
        "time|deadline|hours|days",
    ),
    "place": (
        "哪里|在哪|哪儿|地点|地址|据点|哪家|哪边",
        "where|address|location|nearest",
        "地点|据点|地址|位置|哪里|通路",
        "where|address|locations?",
    ),
    "failure": (
        "为什么|为何|怎么会|无法|不能|失败|错误|不了|打不开|进不去|没收到|异常|不行|没办法|被拒|出错",
        "why|cannot|can t|unable|fail|failed|error|not working|doesn t work|didn t receive",
        "无法|失败|错误|异常|原因|不能|未收到|拒绝",
        "cannot|unable|fail|failed|failure|errors?|problems?",
    ),
    "amount": (
        "多少|额度|上限|最低|最高|限额|门槛|几笔|几次|几张|最多|最少",
        "how many|how much|limits?|minimum|maximum",
        "额度|限额|上限|门槛|最低|最高|数量|金额",
        "limits?|minimum|maximum|amount",
    ),
    "permission": (
        "可以|能不能|能否|是否|可不可以|资格|条件|(?<!不)能用|可否|有没有",
        "can i|could i|may i|is it possible|eligible|allowed",
        "资格|条件|是否|可否|限制",
        "eligibility|eligible|conditions|restrictions",
    ),
    "how": (
        "怎么|如何|怎样|方法|方式|流程|步骤|办理|申请|要怎|该怎",
        "how|steps|process|procedure|apply",
        "方式|方法|流程|步骤|申请|办理|设定|操作|申办",
        "how to|steps|process|procedure|application|setup",
    ),
    "what": (
        "什么是|是什么|介绍|哪些|有什么|种类|什么意思",
        "what is|what are|what does|introduction|types of|kinds of",
        "介绍|说明|种类|项目|内容|意义|定义",
        "introduction|overview|types|what is",
    ),
}
TYPE_NAMES = tuple(_LEXICON)  # at most 8: an entry's types are one byte of the index


def _english(cues: str) -> re.Pattern[str]:
    # Normalised text is lower case and does not space Latin words from Chinese: bound them by letters.
    return re.compile(f"(?<![a-z])(?:{cues})(?![a-z])")


def _longest_first(alternations: Iterable[str]) -> str:
    return "|".join(sorted({cue for cues in alternations for cue in cues.split("|")}, key=lambda cue: (-len(cue), cue)))


# Chinese and English apart: an alternation of plain Chinese words is searched several times faster, and
# most messages hold no Latin letter, so the English cues are not searched at all.
_ASKED = tuple((re.compile(zh), _english(en)) for zh, en, _, _ in _LEXICON.values())
# An entry written as a question offers what it asks: both kinds of cue count for entries.
_OFFERED = tuple(
    (re.compile(f"{asked_zh}|{offered_zh}"), _english(f"{asked_en}|{offered_en}"))
    for asked_zh, asked_en, offered_zh, offered_en in _LEXICON.values()
)
# Every cue at once, longest first so 多少钱 goes whole rather than leaving 钱 behind; without look-behinds,
# which would cost the plain alternation its speed (a topic may lose the 能用 of 不能用, harmlessly).
_ANY_CHINESE = re.compile(
    _longest_first(
        re.sub(r"\(\?<!.\)", "", cues) for zh, _, offered_zh, _ in _LEXICON.values() for cues in (zh, offered_zh)
    )
)
_ANY_ENGLISH = _english(_longest_first(cue for _, en, _, offered_en in _LEXICON.values() for cue in (en, offered_en)))
_LATIN = re.compile("[a-z]")
# Spaces and the function characters of a question (的, 吗, 请问 …): they say nothing about the topic.
_NOT_TOPIC = str.maketrans("", "", " 的了吗呢吧啊么是我你要在有和与及或请问")
# Bit counts of every mask, so a query's agreement with a dozen candidates is a dozen lookups.
_BITS = tuple(bin(mask).count("1") for mask in range(1 << len(_LEXICON)))


def asked(normalised: str) -> int:
    """The types a customer's (normalised) message asks about, one bit per name in TYPE_NAMES."""
    return _types(normalised, _ASKED)


def offered(normalised_phrasings: Iterable[str]) -> int:
    """The types an entry answers, from its (normalised) question and alternates: title words or question words."""
    return _types("\n".join(normalised_phrasings), _OFFERED)


def topics(normalised_phrasings: Iterable[str]) -> str:
    """Each (normalised) phrasing without its question words and function characters, one per line, compact:
    what the entry is about. 信用卡年费是多少 → 信用卡; 汽车贷款清偿证明申请 → 汽车贷款清偿证明."""
    text = "\n".join(normalised_phrasings)
    if _LATIN.search(text):
        text = _ANY_ENGLISH.sub("", text)  # first, while the letters around each word are still there
    return _ANY_CHINESE.sub("", text).translate(_NOT_TOPIC)


def _types(text: str, patterns: tuple[tuple[re.Pattern[str], re.Pattern[str]], ...]) -> int:
    latin = _LATIN.search(text) is not None
    return sum(1 << bit for bit, (zh, en) in enumerate(patterns) if zh.search(text) or (latin and en.search(text)))


def agreement(asked_mask: int, offered_mask: int) -> float:
    """The share of what the message asks about that the entry offers (0 when it asks nothing we know)."""
    return _BITS[asked_mask & offered_mask] / _BITS[asked_mask] if asked_mask else 0.0
