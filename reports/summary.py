"""The report's short text: the numbers a manager reads first, Chinese first with English beside."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from reports.labels import duration_text
from reports.metrics import Durations, ReportData
from reports.staff import staff_table

SHOWN = 5
LABEL_CHARS = 60


def summary_text(data: ReportData, zone: ZoneInfo) -> str:
    """Plain text (the channel escapes it); an empty period says so instead of showing zeros everywhere."""
    lines = [f"📊 客服报表 Service report {data.period.label} ({zone.key})"]
    if not (data.customer_messages or data.bot_replies or data.staff_replies or data.complaints):
        lines.append("本期没有客户消息或投诉。No customer messages or complaints in this period.")
    lines.append(
        f"客户消息 Customer messages: {data.customer_messages:,} · 机器人回复 bot replies: {data.bot_replies:,}"
        f" · 人工回复 staff replies: {data.staff_replies:,}"
    )
    if data.questions:
        o = data.outcomes
        lines.append(
            f"机器人独立解答 Answered by the bot: {data.bot_answer_share:.0%} of {data.questions:,} questions"
            f" (建议 suggested {o['suggested']:,} · 未能回答 no answer {o['no_answer']:,}"
            f" · 转人工 to staff {o['staff']:,})"
        )
    if data.top_questions:
        lines.append("最常问 Most asked: " + _ranked(data.top_questions))
    if data.unanswered:
        lines.append("未能回答 Not answered (add to the knowledge base): " + _ranked(data.unanswered, quoted=True))
    if data.complaints:
        causes = ", ".join(f"{cause} {n}" for cause, n in data.by_cause[:SHOWN])
        statuses = ", ".join(f"{status} {n}" for status, n in data.by_status)
        lines.append(f"投诉 Complaints: {data.complaints:,} — 原因 causes: {causes}; 状态 status: {statuses}")
        d = data.deadlines
        lines.append(f"时限 Deadlines: 按时 met {d['met']} · 超时 missed {d['missed']} · 未到期 pending {d['pending']}")
        first, resolution = _durations(data.first_response), _durations(data.resolution)
        lines.append(f"首次响应 First response: {first} · 解决 Resolution: {resolution}")
    lines.extend(staff_table(data.staff))
    if data.mean_satisfaction is not None:
        rated = sum(data.satisfaction.values())
        lines.append(f"满意度 Satisfaction: {data.mean_satisfaction:.2f} / 5 (n={rated})")
    if data.at_risk_total:
        shown = "; ".join(
            f"{c.name}{f' (@{c.username})' if c.username else ''}, "
            f"last {c.last_contact_at.astimezone(zone):%Y-%m-%d}, open tickets {c.open_tickets}"
            for c in data.at_risk[:SHOWN]
        )
        lines.append(f"⚠️ 风险客户 Customers at risk: {data.at_risk_total} — {shown}")
    else:
        lines.append("风险客户 Customers at risk: 0")
    return "\n".join(lines)


def _ranked(rows: list[tuple[str, int]], *, quoted: bool = False) -> str:
    shown = []
    for index, (label, n) in enumerate(rows[:SHOWN], start=1):
        # Customers paste whole paragraphs; the summary only needs enough to recognise the question.
        label = label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"
        shown.append(f"{index}. {f'「{label}」' if quoted else label} ×{n}")
    return "; ".join(shown)


def _durations(durations: Durations) -> str:
    if not durations.count or durations.median is None or durations.p90 is None:
        return "—"
    return f"median {duration_text(durations.median)}, P90 {duration_text(durations.p90)} (n={durations.count})"
