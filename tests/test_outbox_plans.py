"""The outbox's plain decisions: how posts are joined, when staff hear a post is late, retry delays, pacing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from desk.messages import Envelope
from desk.outbox import COPY, NOTICE, STAFF, TOPIC, late_note, plan_posts, retry_delay
from desk.sender import Pacer

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def _envelope(number: int, kind: str, **payload: object) -> Envelope:
    return Envelope(number, STAFF, kind, None, 7, None, dict(payload), NOW)


def test_a_group_that_keeps_up_gets_each_item_and_native_copies() -> None:
    header = _envelope(1, TOPIC, text="🆕 新工单 T000001")
    copy = _envelope(2, COPY, from_chat=5, message_id=9, text="我要投诉")
    posts = plan_posts("👤 card", [header, copy], coalesce=False)
    assert [p.text for p in posts] == ["👤 card", "🆕 新工单 T000001", None]
    assert posts[2].copy is copy and posts[0].envelopes == ()


def test_behind_its_limit_the_card_header_and_words_become_one_post() -> None:
    header = _envelope(1, TOPIC, text="🆕 新工单 T000001")
    copy = _envelope(2, COPY, from_chat=5, message_id=9, text="我要投诉")
    photo = _envelope(3, COPY, from_chat=5, message_id=10, text=None)
    notice = _envelope(4, NOTICE, text="⏰ 提醒")
    posts = plan_posts("👤 card", [header, copy, photo, notice], coalesce=True)
    assert len(posts) == 3  # the text, the photo (media is always copied), the alert
    assert posts[0].text == "👤 card\n\n🆕 新工单 T000001\n\n👤 客户：我要投诉"
    assert posts[0].envelopes == (header, copy)
    assert posts[1].copy is photo and posts[2].envelopes == (notice,)


def test_joined_posts_stay_within_telegram_size() -> None:
    many = [_envelope(n, COPY, from_chat=5, message_id=n, text="长" * 1000) for n in range(10)]
    posts = plan_posts(None, many, coalesce=True)
    assert len(posts) > 1 and all(len(p.text or "") <= 4096 for p in posts)
    assert sum(len(p.envelopes) for p in posts) == 10


def test_staff_are_told_how_late_a_post_is() -> None:
    assert late_note(NOW - timedelta(seconds=30), NOW) is None
    assert "迟到 3 分钟" in (late_note(NOW - timedelta(minutes=3, seconds=5), NOW) or "")
    posts = plan_posts(None, [_envelope(1, TOPIC, text="🆕")], late_note="⏱ 迟到 3 分钟")
    assert posts[0].text == "⏱ 迟到 3 分钟\n🆕"


def test_retries_back_off_and_never_come_sooner_than_telegram_asks() -> None:
    assert [retry_delay(n, None) for n in (1, 2, 3)] == [0.5, 1.0, 2.0]
    assert retry_delay(1, 7) == 7
    assert retry_delay(20, None) == 60.0


def test_the_pacer_allows_its_share_per_sliding_minute() -> None:
    now = [0.0]
    pacer = Pacer(3, clock=lambda: now[0])
    for _ in range(3):
        assert pacer.wait_needed() == 0
        pacer.record()
    assert pacer.wait_needed() == 61.0  # a minute, and a second's margin for the way to Telegram
    now[0] = 60.0
    assert pacer.wait_needed() == 1.0
    now[0] = 61.0
    assert pacer.wait_needed() == 0
    assert Pacer(0).wait_needed() == 0  # 0: not paced
