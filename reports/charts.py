"""Report charts as PNG files: matplotlib on the Agg backend (no screen), with a CJK font for Chinese labels."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path

import matplotlib
import matplotlib.dates as mdates
from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from reports.labels import duration_text, time_unit, wrap_label
from reports.metrics import OUTCOMES, ReportData

# No screen on a server. Figures are built without pyplot (its global state is not thread-safe)
# and saved through the Agg canvas.
matplotlib.use("Agg")
# rcParams are process-wide: one report draws at a time.
_DRAWING = threading.Lock()

log = logging.getLogger(__name__)

# Simplified Chinese faces first; any of them renders the labels.
CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Microsoft YaHei",
    "PingFang SC",
    "SimHei",
    "Noto Sans CJK JP",
    "Noto Sans CJK TC",
)
NO_CJK_FONT = (
    "No CJK font found: Chinese chart labels will show as boxes. "
    "Run scripts/setup.sh as root, or install one (Debian/Ubuntu: apt-get install fonts-noto-cjk)."
)
BOT, STAFF, CUSTOMER = "#3B82C4", "#F08A24", "#6B7280"
GOOD, BAD, NEUTRAL, WARN = "#2E9D5B", "#D64541", "#A0A7B4", "#E8B10C"
OUTCOME_STYLE = {
    "bot": ("机器人解答 Bot answered", BOT),
    "suggested": ("给出建议 Suggested", "#8CB8E0"),
    "no_answer": ("未能回答 No answer", BAD),
    "staff": ("转人工 To staff", STAFF),
}
STATUS_LABELS = {
    "open": "待处理 open",
    "assigned": "处理中 assigned",
    "resolved": "已解决 resolved",
    "closed": "已关闭 closed",
    "reopened": "重开 reopened",
}
DPI = 150
WIDTH, HEIGHT = 9.0, 5.0
# Ranked charts in inches: title and axis, one 9-point label line, and the gap between two bars' labels.
RANKED_MARGIN, LABEL_LINE, RANKED_GAP = 1.2, 0.17, 0.12


@cache
def cjk_font() -> str | None:
    """The first installed CJK family, or None (then we say so once: boxes instead of 汉字)."""
    installed = {font.name for font in font_manager.fontManager.ttflist}
    found = next((family for family in CJK_FAMILIES if family in installed), None)
    if found is None:
        log.warning(NO_CJK_FONT)
    return found


def _style() -> dict[str, object]:
    font = cjk_font()
    return {
        "font.family": "sans-serif",
        "font.sans-serif": [font, "DejaVu Sans"] if font else ["DejaVu Sans"],
        "axes.unicode_minus": False,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.titleweight": "bold",
        "axes.titlesize": 13,
        "axes.titlepad": 12,
        "axes.labelcolor": "#374151",
        "axes.edgecolor": "#9CA3AF",
        "axes.grid": True,
        # Grid lines behind the bars, not across them.
        "axes.axisbelow": True,
        "grid.color": "#E5E7EB",
        "grid.linewidth": 0.8,
        "xtick.color": "#374151",
        "ytick.color": "#374151",
        "legend.frameon": False,
        "figure.facecolor": "white",
    }


def draw_charts(data: ReportData, folder: Path) -> list[Path]:
    """Write every chart of the report into `folder`; returns the PNG paths in reading order."""
    folder.mkdir(parents=True, exist_ok=True)
    charts: list[tuple[str, Callable[[ReportData], Figure]]] = [
        ("01_contacts_per_day.png", _contacts_per_day),
        ("02_bot_answers.png", _bot_answers),
        ("03_top_questions.png", _top_questions),
        ("04_unanswered.png", _unanswered),
        ("05_complaints.png", _complaints),
        ("06_deadlines_and_times.png", _deadlines_and_times),
        ("07_satisfaction.png", _satisfaction),
    ]
    paths = []
    with _DRAWING, matplotlib.rc_context(_style()):
        for name, draw in charts:
            figure = draw(data)
            # The period in a corner: a chart forwarded on its own still says what it covers.
            figure.supxlabel(f"{data.period.label} ({data.period.zone.key})", x=0.99, ha="right", fontsize=8,
                             color=NEUTRAL)  # fmt: skip
            path = folder / name
            figure.savefig(path, dpi=DPI, format="png")
            paths.append(path)
    return paths


def _figure(ncols: int = 1, height: float = HEIGHT) -> tuple[Figure, list[Axes]]:
    figure = Figure(figsize=(WIDTH, height), layout="constrained")
    axes = figure.subplots(1, ncols, squeeze=False)
    return figure, list(axes[0])


def _empty(ax: Axes, title: str) -> None:
    ax.set_title(title)
    ax.text(0.5, 0.5, "本期暂无数据\nNo data in this period", ha="center", va="center", fontsize=12, color=NEUTRAL)
    ax.set_axis_off()


def _contacts_per_day(data: ReportData) -> Figure:
    figure, [ax] = _figure()
    title = "每日接待量 Contacts per day"
    if not any(d.customer or d.bot or d.staff for d in data.days):
        _empty(ax, title)
        return figure
    days = [d.day for d in data.days]
    bot = [d.bot for d in data.days]
    staff = [d.staff for d in data.days]
    width = 0.8 if len(days) < 60 else 1.0
    ax.bar(days, bot, width=width, color=BOT, label="机器人回复 Bot replies")
    ax.bar(days, staff, width=width, bottom=bot, color=STAFF, label="人工回复 Staff replies")
    ax.plot(days, [d.customer for d in data.days], color=CUSTOMER, marker="o" if len(days) <= 31 else None,
            markersize=4, linewidth=1.8, label="客户消息 Customer messages")  # fmt: skip
    ax.set_title(title)
    ax.set_ylabel("条 Messages")
    if len(days) <= 31:
        # Every day (or every other) labelled as 11-03: what a manager reads on a weekly report.
        ax.xaxis.set_major_locator(mdates.DayLocator(interval=1 if len(days) <= 16 else 2))
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%m-%d"))
    else:
        locator = mdates.AutoDateLocator(minticks=4, maxticks=12)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.grid(axis="x", visible=False)
    # Head room for the legend, so it never covers a busy day.
    peak = max(max(b + s for b, s in zip(bot, staff, strict=True)), max(d.customer for d in data.days))
    ax.set_ylim(0, peak * 1.22 + 1)
    ax.margins(x=0.01)
    ax.legend(loc="upper left", ncols=3, fontsize=9)
    return figure


def _bot_answers(data: ReportData) -> Figure:
    figure, [ax] = _figure()
    title = "客户问题的处理结果 How customer questions ended"
    if not data.questions:
        _empty(ax, title)
        return figure
    kept = [(OUTCOME_STYLE[key], data.outcomes.get(key, 0)) for key in OUTCOMES if data.outcomes.get(key, 0)]
    values = [count for _, count in kept]
    wedges, *_ = ax.pie(
        values,
        colors=[color for (_, color), _ in kept],
        startangle=90,
        counterclock=False,
        wedgeprops={"width": 0.38, "edgecolor": "white", "linewidth": 2},
        autopct=lambda pct: f"{pct:.0f}%" if pct >= 4 else "",
        pctdistance=0.81,
        textprops={"color": "white", "fontsize": 10, "fontweight": "bold"},
    )
    share = data.bot_answer_share or 0
    ax.text(0, 0.08, f"{share:.0%}", ha="center", va="center", fontsize=26, fontweight="bold", color=BOT)
    ax.text(0, -0.18, "机器人独立解答\nanswered by the bot", ha="center", va="center", fontsize=9, color=CUSTOMER)
    labels = [f"{label}: {count}" for (label, _), count in kept]
    ax.legend(wedges, labels, loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=10)
    ax.set_title(title)
    ax.set_aspect("equal")
    return figure


def _ranked(data: Sequence[tuple[str, int]], title: str, color: str, xlabel: str) -> Figure:
    # Questions are wrapped, not cut: "怎么修改收货地址？ (delivery-change-address)" on two lines.
    labels = [wrap_label(label) for label, _ in reversed(data)]
    figure, [ax] = _figure(height=ranked_height(labels))
    if not data:
        _empty(ax, title)
        return figure
    counts = [count for _, count in reversed(data)]
    bars = ax.barh(range(len(counts)), counts, color=color, height=0.65)
    ax.set_yticks(range(len(counts)), labels, fontsize=9)
    ax.bar_label(bars, padding=3, fontsize=9, color="#374151")
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.grid(axis="y", visible=False)
    ax.margins(x=0.12)
    ax.xaxis.get_major_locator().set_params(integer=True)
    return figure


def _top_questions(data: ReportData) -> Figure:
    return _ranked(data.top_questions, "最常问的问题 Most asked questions", BOT, "次 Times asked")


def _unanswered(data: ReportData) -> Figure:
    title = "机器人未能回答的问题 Questions the bot could not answer"
    return _ranked(data.unanswered, title, BAD, "次 Times asked")


def _complaints(data: ReportData) -> Figure:
    figure, axes = _figure(2)
    if not data.complaints:
        figure.delaxes(axes[1])
        _empty(axes[0], "投诉 Complaints")
        return figure
    for ax, rows, title, color in (
        (axes[0], data.by_cause, "投诉原因 Complaints by cause", STAFF),
        (axes[1], [(STATUS_LABELS.get(s, s), n) for s, n in data.by_status], "投诉状态 By status", CUSTOMER),
    ):
        rows = list(reversed(rows[:10]))
        bars = ax.barh(range(len(rows)), [n for _, n in rows], color=color, height=0.6)
        # "交货不准时 late delivery" on two lines: both languages, no truncation.
        ax.set_yticks(range(len(rows)), [_shorten(label, 40).replace(" ", "\n", 1) for label, _ in rows], fontsize=9)
        ax.bar_label(bars, padding=3, fontsize=9)
        ax.set_title(title)
        ax.grid(axis="y", visible=False)
        ax.margins(x=0.15)
        ax.xaxis.get_major_locator().set_params(integer=True)
    figure.suptitle(f"本期新投诉 {data.complaints} 件 · {data.complaints} complaints opened", fontsize=10)
    return figure


def _deadlines_and_times(data: ReportData) -> Figure:
    figure, axes = _figure(2)
    left, right = axes
    title = "处理时限 Deadlines"
    if not sum(data.deadlines.values()):
        _empty(left, title)
    else:
        keys = ("met", "missed", "pending")
        labels = ["按时 met", "超时 missed", "未到期 pending"]
        values = [data.deadlines.get(key, 0) for key in keys]
        bars = left.bar(labels, values, color=[GOOD, BAD, NEUTRAL], width=0.6)
        left.bar_label(bars, padding=3, fontsize=10)
        left.set_title(title)
        left.grid(axis="x", visible=False)
        left.margins(y=0.15)
        left.yaxis.get_major_locator().set_params(integer=True)
    title = "响应与解决用时 Response and resolution"
    if not (data.first_response.count or data.resolution.count):
        _empty(right, title)
        return figure
    minutes = [
        (data.first_response.median, data.first_response.p90),
        (data.resolution.median, data.resolution.p90),
    ]
    # Answers within seconds are drawn in seconds, not as slivers of an hour.
    unit = time_unit(max(value or 0 for pair in minutes for value in pair))
    positions = [0, 1]
    for offset, index, label, color in ((-0.18, 0, "中位数 median", BOT), (0.18, 1, "P90", "#8CB8E0")):
        values = [pair[index] for pair in minutes]
        bars = right.bar([p + offset for p in positions], [unit.of(v or 0) for v in values], width=0.34,
                         color=color, label=label)  # fmt: skip
        # No ticket got that far yet: a dash, not a time of zero.
        texts = ["—" if value is None else duration_text(value) for value in values]
        right.bar_label(bars, labels=texts, padding=3, fontsize=9)
    right.set_xticks(positions, ["首次响应 First response", "解决 Resolution"])
    right.set_ylabel(unit.axis)
    right.set_title(title)
    right.legend(fontsize=9)
    right.grid(axis="x", visible=False)
    right.margins(y=0.18)
    return figure


def _satisfaction(data: ReportData) -> Figure:
    figure, [ax] = _figure()
    title = "满意度评分 Satisfaction scores"
    rated = sum(data.satisfaction.values())
    if not rated:
        _empty(ax, title)
        return figure
    scores = list(range(1, 6))
    colors = [BAD, "#EF8A62", WARN, "#7BC47F", GOOD]
    values = [data.satisfaction.get(score, 0) for score in scores]
    bars = ax.bar([f"{s} {'★' * s}" for s in scores], values, color=colors, width=0.6)
    ax.bar_label(bars, padding=3, fontsize=10)
    ax.set_title(f"{title} · 平均 average {data.mean_satisfaction:.2f} / 5 (n={rated})")
    ax.grid(axis="x", visible=False)
    ax.margins(y=0.15)
    ax.yaxis.get_major_locator().set_params(integer=True)
    return figure


def _shorten(label: str, limit: int) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def ranked_height(labels: Sequence[str]) -> float:
    """Inches of figure for a ranked chart: the usual height, taller when wrapped labels need the room."""
    lines = sum(label.count("\n") + 1 for label in labels)
    return max(HEIGHT, RANKED_MARGIN + lines * LABEL_LINE + len(labels) * RANKED_GAP)
