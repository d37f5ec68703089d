"""Canned replies: the content file is validated like the knowledge base, and filled in per customer."""

from __future__ import annotations

from pathlib import Path

import pytest

from crm_store.models import Actor
from crm_store.tickets import Who
from desk.canned import current_replies, fill, manage, matching
from knowledge.__main__ import main as knowledge_cli
from knowledge.canned import CannedReply, load_canned, placeholder_problem
from knowledge.model import KnowledgeError

ROOT = Path(__file__).resolve().parent.parent


def test_the_shipped_file_is_valid_and_has_the_reply_staff_use_most() -> None:
    replies = load_canned(ROOT / "knowledge" / "canned.yaml")
    assert "refund-time" in replies and all(reply.en for reply in replies.values())
    assert knowledge_cli(["canned", str(ROOT / "knowledge" / "canned.yaml")]) == 0


def test_every_problem_of_a_file_is_listed_at_once(tmp_path: Path) -> None:
    bad = tmp_path / "canned.yaml"
    bad.write_text(
        "replies:\n"
        "  - {code: Refund, text: 您好}\n"
        "  - {code: ok, text: '您好 {name}'}\n"
        "  - {code: ok2, text: '您好 {customer'}\n"
        "  - {code: dup, text: 一}\n"
        "  - {code: dup, text: 二}\n"
        "  - {code: empty, text: ''}\n",
        encoding="utf-8",
    )
    with pytest.raises(KnowledgeError) as caught:
        load_canned(bad)
    messages = [str(problem) for problem in caught.value.problems]
    assert len(messages) == 5, messages
    assert any("Refund" in m and "lower case" in m for m in messages)
    assert any("{name}" in m for m in messages) and any("unbalanced" in m for m in messages)
    assert any("duplicate code" in m for m in messages)
    assert knowledge_cli(["canned", str(bad)]) == 1


def test_placeholders_are_filled_in_the_customers_language() -> None:
    reply = CannedReply(code="x", text="{customer}您好，工单 {ticket}，{deadline} 前，{staff}", en="Hi {customer}")
    values = {"customer": "芳", "ticket": "T000001", "deadline": "12月4日 10:00", "staff": "李雷"}
    assert fill(reply, "zh", **values) == "芳您好，工单 T000001，12月4日 10:00 前，李雷"
    assert fill(reply, "en", **values) == "Hi 芳"
    assert placeholder_problem("{{literal}} {ticket}") is None
    assert [r.code for r in matching({"x": reply, "y": CannedReply(code="y", text="退款")}, "退款")] == ["y"]


def test_a_manager_adds_a_reply_of_several_lines_and_staff_cannot(store, desk) -> None:  # type: ignore[no-untyped-def]
    manager, staff = Who(Actor.STAFF, 950, "经理"), Who(Actor.STAFF, 900, "李雷")
    with store.transaction() as session:
        assert "只有经理" in manage(session, desk.context, staff, is_manager=False, argument="add hi 您好")
        added = manage(session, desk.context, manager, is_manager=True, argument="add  steps 第一步\n第二步 {ticket}")
        assert "已添加" in added
        assert "最多" in manage(session, desk.context, manager, is_manager=True, argument="add long " + "字" * 4001)
        assert "不可用" in manage(session, desk.context, manager, is_manager=True, argument="add 中文 文字")
    with store.transaction() as session:
        replies = current_replies(session, desk.context)
    assert replies["steps"].text == "第一步\n第二步 {ticket}" and "hi" not in replies
