"""The causes a complaint ticket can have (tickets.cause), with the labels staff and reports show."""

from __future__ import annotations

OTHER_CAUSE = "other"
# The seeds' taxonomy of causes (004 slide 62), for staff and reports.
CAUSE_LABELS: dict[str, dict[str, str]] = {
    "late_delivery": {"zh": "交货不准时", "en": "late delivery"},
    "poor_quality": {"zh": "品质上不去", "en": "poor quality"},
    "dishonest_pricing": {"zh": "报价不诚实", "en": "dishonest pricing"},
    "broken_promise": {"zh": "承诺成泡影", "en": "broken promise"},
    "mistakes": {"zh": "差错百出", "en": "mistakes"},
    "wrong_information": {"zh": "错误的信息和误会", "en": "wrong information"},
    "poor_communication": {"zh": "没有充分沟通", "en": "poor communication"},
    "not_enough_attention": {"zh": "照顾不周", "en": "not enough attention"},
    "disappointment": {"zh": "整体失望", "en": "disappointment"},
    OTHER_CAUSE: {"zh": "其他", "en": "other"},
}


def cause_label(cause: str, language: str = "zh") -> str:
    labels = CAUSE_LABELS.get(cause)
    return labels.get(language, labels["zh"]) if labels else cause
