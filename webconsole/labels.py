"""The console's words, Chinese first, English too (the staff group's working language is Chinese)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from functools import cache
from typing import NamedTuple
from zoneinfo import ZoneInfo

from desk.dates import local_time
from desk.views import HistoryItem, QueueItem

LANGUAGES = ("zh", "en")
LABELS: dict[str, tuple[str, str]] = {
    "title": ("客服工作台", "Service console"),
    "queue": ("待处理队列", "Queue"),
    "customers": ("客户", "Customers"),
    "reports": ("报表与导出", "Reports"),
    "knowledge": ("知识库", "Knowledge"),
    "logout": ("退出", "Sign out"),
    "login": ("登录", "Sign in"),
    "login_intro": (
        "只有配置中的工作人员和经理可以使用。请用 Telegram 登录。",
        "Only the staff and managers in the configuration may use it. Sign in with Telegram.",
    ),
    "login_no_widget": (
        "网页登录需要在 [web] bot_username 配置机器人用户名，并在 @BotFather 用 /setdomain 设置域名。",
        "Browser sign-in needs [web] bot_username and the domain set with /setdomain at @BotFather.",
    ),
    "login_local": (
        "控制台模式：请打开终端里打印的一次性链接。",
        "Console mode: open the one-time link printed in the terminal.",
    ),
    "login_refused": (
        "登录失败：签名无效、已过期，或您不是工作人员。",
        "Sign-in refused: bad or old signature, or not staff.",
    ),
    "too_many": ("尝试次数过多，请一分钟后再试。", "Too many attempts: try again in a minute."),
    "ticket": ("工单", "Ticket"),
    "customer": ("客户", "Customer"),
    "cause": ("原因", "Cause"),
    "priority": ("优先级", "Priority"),
    "status": ("状态", "Status"),
    "due": ("截止", "Due"),
    "left": ("剩余", "Left"),
    "assignee": ("负责人", "Assignee"),
    "unassigned": ("未分配", "unassigned"),
    "key_customer": ("重点", "key"),
    "breached": ("已超时", "breached"),
    "waiting": ("等待客户", "waiting for the customer"),
    "queue_empty": ("队列为空：没有待处理的工单。", "The queue is empty: no open tickets."),
    "reply": ("回复客户", "Reply to the customer"),
    "send": ("发送", "Send"),
    "note": ("内部备注（客户看不到）", "Internal note (never sent)"),
    "save_note": ("保存备注", "Save note"),
    "take": ("接手", "Take"),
    "release": ("放回队列", "Release"),
    "resolve": ("解决并请客户评分", "Resolve and ask for a score"),
    "resolution": ("处理结果", "What was done"),
    "tag": ("加标签", "Add tag"),
    "history": ("完整记录", "Whole history"),
    "truncated": ("分页显示；全部记录也可以导出。", "Shown a page at a time; the export has them all."),
    "earlier": ("更早的记录", "Earlier"),
    "newest": ("回到最新", "Back to the newest"),
    "card": ("客户档案", "Customer card"),
    "region": ("地区", "Region"),
    "language": ("语言", "Language"),
    "first_contact": ("首次联系", "First contact"),
    "last_contact": ("最近联系", "Last contact"),
    "blocked": ("⛔ 已屏蔽机器人", "⛔ blocked the bot"),
    "tags": ("标签", "Tags"),
    "notes": ("备注", "Notes"),
    "none": ("无", "none"),
    "tickets": ("工单", "Tickets"),
    "entry": ("条目", "entry"),
    "confidence": ("置信度", "confidence"),
    "undelivered": ("未送达", "undelivered"),
    "pending_delivery": ("发送中", "sending"),
    "search": ("搜索", "Search"),
    "search_messages": ("搜索对话", "Search conversations"),
    "search_words": ("关键词", "Words"),
    "search_period_hint": ("留空为全部；7d、30d、本月、2026-11", "empty for all; 7d, 30d, 2026-11"),
    "search_none": ("没有找到包含这些词的消息。", "No message contains these words."),
    "search_more": ("只显示最新的结果；请缩小时间段。", "Only the newest hits are shown; narrow the period."),
    "search_newest": ("条，最新在前", "hits, newest first"),
    "when": ("时间", "When"),
    "message": ("消息", "Message"),
    "search_hint": ("姓名、用户名或编号", "name, username or id"),
    "report": ("客服报表", "Service report"),
    "report_hint": (
        "与 /report 相同的时间段和数字；每次生成都记录在导出登记中。",
        "The same periods and figures as /report; every report drawn is recorded in the exports audit.",
    ),
    "draw_report": ("生成报表", "Draw the report"),
    "by_staff": ("按工作人员", "By staff member"),
    "staff_member": ("工作人员", "Staff member"),
    "first_response": ("首次响应", "First response"),
    "resolution_time": ("解决", "Resolution"),
    "median_p90": ("中位/P90", "median/P90"),
    "met_missed": ("按时/超时", "met/missed"),
    "satisfaction": ("满意度", "Satisfaction"),
    "chart": ("图表", "Chart"),
    "export_logs": ("导出互动记录", "Export interaction logs"),
    "export_hint": (
        "与 /logs 相同的条件；每次下载都记录在导出登记中。",
        "The same filters as /logs; every download is recorded in the exports audit.",
    ),
    "period": ("时间段", "Period"),
    "download": ("下载", "Download"),
    "candidates": ("待审核的新问法", "Candidate phrasings"),
    "no_candidates": ("没有待审核的新问法。", "No phrasings waiting for review."),
    "accept": ("接受", "Accept"),
    "reject": ("放弃", "Reject"),
    "times": ("次数", "Count"),
    "source": ("来源", "Source"),
    "phrasing": ("问法", "Phrasing"),
    "unanswered": ("机器人答不上的问题", "Questions the bot could not answer"),
    "unanswered_hint": (
        "最常见的在前，适合补充进知识库；点击可搜索原话。",
        "Most frequent first: the entries to add. Click one to search for the messages.",
    ),
    "no_unanswered": ("这段时间没有机器人答不上的问题。", "No unanswered questions in this period."),
    "days_back": ("最近天数", "Days back"),
    "show": ("显示", "Show"),
    "question": ("问题", "Question"),
    "edit_entry": ("编辑知识条目", "Edit a knowledge entry"),
    "entry_id_hint": ("条目编号，如 return-how", "entry id, e.g. return-how"),
    "open_entry": ("打开", "Open"),
    "no_entry": ("没有这个编号的条目。", "No entry with this id."),
    "answer": ("回答", "Answer"),
    "alternates": ("其他问法（每行一个）", "Other phrasings (one a line)"),
    "save_entry": ("检查并保存", "Check and save"),
    "edit_refused": ("没有保存：修改后的文件无法加载。", "Not saved: the edited file would not load."),
    "not_editable": (
        "这个条目不在 YAML 文件里，请直接编辑文件。",
        "This entry is not in a YAML file: edit the file by hand.",
    ),
    "file": ("文件", "File"),
    "field": ("字段", "Field"),
    "problem": ("问题", "Problem"),
    "managers_only": ("仅限经理。", "Managers only."),
    "updated": ("自动刷新", "live"),
    "kind_customer": ("客户", "customer"),
    "kind_bot": ("机器人", "bot"),
    "kind_staff": ("客服", "staff"),
    "kind_system": ("系统", "system"),
    "kind_note": ("备注", "note"),
    "kind_event": ("工单变更", "ticket event"),
    "not_found": ("没有这位客户。", "No such customer."),
    "event_opened": ("开单", "opened"),
    "event_assigned": ("接手", "taken"),
    "event_released": ("放回队列", "released"),
    "event_first_response": ("首次回复", "first response"),
    "event_resolved": ("已解决", "resolved"),
    "event_closed": ("已关闭", "closed"),
    "event_reopened": ("重新打开", "reopened"),
    "event_cause": ("改原因", "cause changed"),
    "event_priority": ("改优先级", "priority changed"),
    "event_due": ("改时限", "deadline changed"),
    "event_rated": ("客户评分", "rated"),
    "event_reminded": ("时限提醒", "deadline reminder"),
    "event_breached": ("已超时", "deadline breached"),
    "event_tagged": ("加标签", "tagged"),
    "event_untagged": ("去标签", "untagged"),
    "event_region": ("改地区", "region set"),
    # A ticket's status and priority as the store keeps them (crm_store.models), in the page's words.
    "status_open": ("待处理", "open"),
    "status_assigned": ("处理中", "assigned"),
    "status_resolved": ("已解决", "resolved"),
    "status_closed": ("已关闭", "closed"),
    "status_reopened": ("重开", "reopened"),
    "priority_urgent": ("紧急", "urgent"),
    "priority_high": ("高", "high"),
    "priority_normal": ("普通", "normal"),
    "priority_low": ("低", "low"),
    # The tags the desk's rules and config know (crm_store.tags); staff type the name, the page shows both.
    "tag_key_account": ("重点客户", "key account"),
    "tag_high_value": ("高价值客户", "high value"),
    "tag_potential": ("潜力客户", "potential"),
    "tag_new": ("新客户", "new"),
    "tag_loyal": ("忠实客户", "loyal"),
    "tag_silent": ("沉默客户", "silent"),
    "tag_repeat_complainant": ("重复投诉", "repeat complainant"),
    "tag_open_complaint": ("投诉未结", "open complaint"),
    "tag_at_risk": ("流失风险", "at risk"),
    "tag_price_sensitive": ("价格敏感", "price sensitive"),
    "tag_dominant": ("支配型", "dominant"),
    "tag_expressive": ("表达型", "expressive"),
    "tag_amiable": ("和蔼型", "amiable"),
    "tag_analytical": ("分析型", "analytical"),
}


def label(key: str, language: str) -> str:
    zh, en = LABELS.get(key, (key, key))
    return en if language == "en" else zh


@cache
def names(family: str, language: str) -> dict[str, str]:
    """One family of labels (kind, status, priority, tag) by the value the store keeps, in `language`: a page
    looks each row's value up here instead of building its key. Read only (it is shared)."""
    prefix = f"{family}_"
    return {key.removeprefix(prefix): label(key, language) for key in LABELS if key.startswith(prefix)}


def when(moment: datetime, zone: ZoneInfo, language: str) -> str:
    return local_time(moment, zone, language)


def time_left(due_at: datetime, now: datetime, language: str) -> str:
    """The deadline countdown as staff read it: 3小时05分 / 3 h 05 min, negative once breached."""
    seconds = int((due_at - now).total_seconds())
    sign, seconds = ("-" if seconds < 0 else ""), abs(seconds)
    hours, minutes = seconds // 3600, seconds % 3600 // 60
    if language == "en":
        return f"{sign}{hours} h {minutes:02d} min"
    return f"{sign}{hours}小时{minutes:02d}分"


class Line(NamedTuple):
    """One history item as the page prints it: a long history has thousands, so the words are joined here once."""

    kind: str
    meta: str
    text: str
    heading: str = ""
    problem: str = ""


def history_lines(items: Iterable[HistoryItem], zone: ZoneInfo, language: str) -> Iterator[Line]:
    kinds = names("kind", language)
    entry, confidence = label("entry", language), label("confidence", language)
    for item in items:
        parts = [local_time(item.at, zone, language), kinds.get(item.kind, item.kind)]
        if item.who:
            parts.append(item.who)
        if item.ticket:
            parts.append(item.ticket)
        if item.entry_id:
            parts.append(f"{entry} {item.entry_id}")
        if item.score is not None:
            parts.append(f"{confidence} {item.score:.2f}")
        problem = ""
        if item.undelivered == "pending":
            parts.append(label("pending_delivery", language))
        elif item.undelivered:
            problem = f"{label('undelivered', language)}: {item.undelivered}"
        heading = label(f"event_{item.action}", language) if item.action else ""
        text = item.text
        if item.change:
            change = " → ".join(stored_value(value, language) for value in item.change)
            text = f"{change} · {text}" if text else change
        yield Line(item.kind, " · ".join(parts), text, heading, problem)


def stored_value(value: str, language: str) -> str:
    """A status or priority as the store keeps it (open, urgent…) in the page's words; any other value as it is."""
    return names("status", language).get(value) or names("priority", language).get(value, value)


class QueueLine(NamedTuple):
    item: QueueItem
    due: str
    left: str


def queue_lines(items: Iterable[QueueItem], now: datetime, zone: ZoneInfo, language: str) -> list[QueueLine]:
    late, waiting = label("breached", language), label("waiting", language)
    return [
        QueueLine(item, local_time(item.due_at, zone, language),
                  waiting if item.waiting else
                  time_left(item.due_at, now, language) + (f" · {late}" if item.breached else ""))
        for item in items
    ]  # fmt: skip
