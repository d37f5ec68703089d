"""Business hours as plain functions: open or not, when people are back, working time on the calendar."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.config import ConfigError, load_settings
from app.startup import complaint_policy
from desk.complaints import DeadlineRules, due_time
from desk.hours import BusinessHours, HoursError, add_working, is_open, next_open, parse_spans, working_between

SHANGHAI = ZoneInfo("Asia/Shanghai")
NINE_TO_SIX = parse_spans("09:00-18:00")
# A shop open Monday to Friday, 9:00–18:00, closed on New Year's Day 2027 (a Friday).
SHOP = BusinessHours(zone=SHANGHAI, week=(NINE_TO_SIX,) * 5 + ((), ()), holidays=frozenset({date(2027, 1, 1)}))


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def test_spans_are_read_and_bad_ones_refused() -> None:
    """'09:00-12:00, 13:00-18:00' is two spans; reversed, overlapping or unreadable hours are errors."""
    assert parse_spans("09:00-12:00, 13:00-18:00") == ((540, 720), (780, 1080))
    assert parse_spans("") == () and parse_spans("00:00-24:00") == ((0, 1440),)
    for bad in ("9-18", "18:00-09:00", "09:00-12:00,11:00-13:00", "09:00-25:00"):
        with pytest.raises(HoursError):
            parse_spans(bad)
    with pytest.raises(HoursError):
        BusinessHours(week=((),) * 7)


def test_a_saturday_night_waits_for_monday_morning() -> None:
    """Saturday 22:00 is closed; people are back Monday 9:00; a weekday afternoon is open."""
    saturday_night = local(2026, 12, 5, 22, 0)
    assert not is_open(saturday_night, SHOP)
    assert next_open(saturday_night, SHOP) == local(2026, 12, 7, 9, 0)
    assert is_open(local(2026, 12, 7, 15, 0), SHOP) and not is_open(local(2026, 12, 7, 18, 0), SHOP)
    assert next_open(local(2026, 12, 7, 15, 0), SHOP) == local(2026, 12, 7, 15, 0)


def test_working_hours_skip_nights_weekends_and_holidays() -> None:
    """12 working hours from Saturday night end Tuesday 12:00; a holiday Friday moves it past the weekend."""
    assert add_working(local(2026, 12, 5, 22, 0), timedelta(hours=12), SHOP) == local(2026, 12, 8, 12, 0)
    assert add_working(local(2026, 12, 31, 17, 0), timedelta(hours=4), SHOP) == local(2027, 1, 4, 12, 0)
    assert working_between(local(2026, 12, 31, 17, 0), local(2027, 1, 4, 12, 0), SHOP) == timedelta(hours=4)


def test_an_extra_working_day_opens_a_weekend() -> None:
    """A Saturday listed as an extra working day (调休) is open with the extra day's hours."""
    hours = BusinessHours(zone=SHANGHAI, week=SHOP.week, extra_days=frozenset({date(2026, 12, 5)}))
    assert is_open(local(2026, 12, 5, 10, 0), hours)
    assert next_open(local(2026, 12, 5, 8, 0), hours) == local(2026, 12, 5, 9, 0)


def test_deadlines_follow_the_clock_they_are_given() -> None:
    """On the working clock a 24 h promise counts working hours; without hours it counts calendar hours."""
    opened = local(2026, 12, 5, 22, 0).astimezone(UTC)
    working = DeadlineRules(hours=SHOP)
    assert due_time(working, opened, None, ()) == local(2026, 12, 9, 15, 0)  # 9 + 9 + 6 hours
    assert due_time(DeadlineRules(), opened, None, ()) == opened + timedelta(hours=24)
    assert due_time(working, opened, None, ("VIP",)) == due_time(working, opened, None, ())
    vip = DeadlineRules(hours=SHOP, tag_hours={"VIP": 4})
    assert due_time(vip, opened, None, ("VIP",)) == local(2026, 12, 7, 13, 0)


def test_hours_come_from_config_toml(tmp_path) -> None:
    """[hours] is read into business hours; a misspelt span names the key."""
    config = tmp_path / "config.toml"
    config.write_text('[hours]\nsaturday = ""\nsunday = ""\nholidays = [2027-01-01]\n', encoding="utf-8")
    hours = load_settings(config).hours.business_hours(SHANGHAI)
    assert hours.spans_on(date(2027, 1, 1)) == () and hours.spans_on(date(2026, 12, 7)) == ((0, 1440),)
    config.write_text('[hours]\nmonday = "9-18"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"hours\.monday"):
        load_settings(config)


def test_hours_follow_the_wall_clock_across_a_dst_change() -> None:
    """In Berlin 09:00 is 08:00 UTC in winter and 07:00 UTC after the clocks go forward (28 March 2027)."""
    berlin = ZoneInfo("Europe/Berlin")
    hours = BusinessHours(zone=berlin, week=(NINE_TO_SIX,) * 7)
    saturday_night = datetime(2027, 3, 27, 20, 0, tzinfo=UTC)
    assert next_open(saturday_night, hours) == datetime(2027, 3, 28, 7, 0, tzinfo=UTC)
    assert next_open(datetime(2027, 3, 26, 20, 0, tzinfo=UTC), hours) == datetime(2027, 3, 27, 8, 0, tzinfo=UTC)


def test_sla_clock_chooses_working_or_calendar_hours() -> None:
    """sla.clock = "working" (the default) puts [hours] under the deadlines; "calendar" leaves them out."""
    assert complaint_policy(load_settings(None)).deadlines.hours is not None
    assert complaint_policy(load_settings(None, sla={"clock": "calendar"})).deadlines.hours is None
