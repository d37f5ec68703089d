"""Report labels: questions wrapped to fit beside their bars, durations in the unit their size calls for."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from reports.charts import HEIGHT, _deadlines_and_times, ranked_height
from reports.complaints import Durations
from reports.labels import LABEL_COLUMNS, columns, duration_text, time_unit, wrap_label
from reports.metrics import ReportData
from reports.periods import parse_period


def test_a_question_and_its_entry_are_shown_whole_on_two_lines() -> None:
    """The label that used to be cut (`怎么修改收货地址？ (delivery-chang…`) fits, entry id and all."""
    assert wrap_label("怎么修改收货地址？ (delivery-change-address)") == "怎么修改收货地址？\n(delivery-change-address)"
    assert wrap_label("退款多久到账 (refund-time)") == "退款多久到账 (refund-time)"


def test_english_breaks_between_words_and_every_line_fits() -> None:
    label = wrap_label("How do I change my delivery address? (en-delivery-change)")
    assert label == "How do I change my delivery\naddress? (en-delivery-change)"
    assert all(columns(line) <= LABEL_COLUMNS for line in label.splitlines())


def test_only_a_pasted_paragraph_is_cut_after_three_lines() -> None:
    """Chinese breaks between characters; what does not fit in three lines ends in an ellipsis."""
    late = "我昨天买的那个东西到现在还没有发货，而且客服电话也打不通，"
    paragraph = late + "你们到底怎么回事，能不能给个说法，不然我就投诉了"
    label = wrap_label(paragraph)
    lines = label.splitlines()
    assert len(lines) == 3 and lines[-1].endswith("…") and all(columns(line) <= LABEL_COLUMNS for line in lines)
    assert "".join(lines).removesuffix("…") == paragraph[: len("".join(lines)) - 1]
    assert wrap_label("x" * 70) == "x" * 30 + "\n" + "x" * 30 + "\n" + "x" * 10


def test_columns_count_chinese_characters_twice() -> None:
    assert columns("发票 VAT") == 8 and columns("？") == 2


def test_ranked_charts_grow_only_when_their_labels_need_it() -> None:
    assert ranked_height(["发票 (invoice)"] * 3) == HEIGHT
    assert ranked_height([wrap_label("怎么修改收货地址？ (delivery-change-address)")] * 10) > HEIGHT


@pytest.mark.parametrize(
    ("minutes", "unit", "text"),
    [
        (0, "s", "0 s"),
        (0.0036, "s", "0.2 s"),  # 0.00006 hours, once drawn as "0 min"
        (0.75, "s", "45 s"),
        (1, "min", "1 min"),
        (3.5, "min", "3.5 min"),
        (42, "min", "42 min"),
        (90, "h", "1.5 h"),
        (26 * 60, "h", "26 h"),
    ],
)
def test_durations_read_in_the_unit_their_size_calls_for(minutes: float, unit: str, text: str) -> None:
    assert time_unit(minutes).symbol == unit
    assert duration_text(minutes) == text


def _times(first: Durations, resolution: Durations) -> ReportData:
    period = parse_period("7d", ZoneInfo("Asia/Shanghai"))
    return ReportData(period=period, generated_at=datetime.now(UTC), first_response=first, resolution=resolution)


@pytest.mark.parametrize(
    ("first", "resolution", "axis", "labels"),
    [
        (Durations(3, 0.0036, 0.01), Durations(2, 0.2, 0.5), "秒 Seconds", ["0.2 s", "12 s", "0.6 s", "30 s"]),
        (Durations(3, 0.5, 2), Durations(2, 30, 75), "分钟 Minutes", ["30 s", "30 min", "2 min", "75 min"]),
        (Durations(3, 5, 20), Durations(2, 600, 1800), "小时 Hours", ["5 min", "10 h", "20 min", "30 h"]),
        (Durations(1, 0.5, 0.5), Durations(), "秒 Seconds", ["30 s", "—", "30 s", "—"]),
    ],
)
def test_the_response_chart_takes_its_unit_from_the_data(
    first: Durations, resolution: Durations, axis: str, labels: list[str]
) -> None:
    """The axis is in the unit of the longest time; each bar says its own time in its own unit."""
    figure = _deadlines_and_times(_times(first, resolution))
    times = figure.axes[1]
    assert times.get_ylabel() == axis
    assert [text.get_text() for text in times.texts] == labels
