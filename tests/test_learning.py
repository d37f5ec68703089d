"""The learning loop end to end: picks and staff links become candidates; managers accept them into the
knowledge files (comments kept), see unanswered questions, and reload; a broken edit keeps the old KB."""

from __future__ import annotations

import html
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa

from crm_store.models import CandidatePhrasing
from knowledge import KnowledgeBase
from knowledge.__main__ import main as knowledge_cli
from knowledge.alternates import LearningError, add_alternate
from tests.bot_harness import ROOT, RunningBot, eventually, running_bot
from tests.bot_harness import texts_sent as _texts

CUSTOMER, MANAGER, STAFF, GROUP = 9501, 901, 900, -1003131
AMBIGUOUS, PICKED = "开票信息不对", "invoice-title-change"


@pytest.fixture
def kb_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "kb"
    shutil.copytree(ROOT / "knowledge" / "kb", folder)
    return folder


def _sections(kb_folder: Path) -> dict:
    return {
        "roles": {"staff": [STAFF], "managers": [MANAGER]},
        "staff_group": {"chat_id": GROUP},
        "knowledge": {"paths": [str(kb_folder)]},
    }


def _candidates(bot: RunningBot) -> list[CandidatePhrasing]:
    with bot.desk.store.transaction() as session:
        rows = list(session.scalars(sa.select(CandidatePhrasing).order_by(CandidatePhrasing.id)))
        session.expunge_all()
        return rows


def test_an_accepted_phrasing_is_added_to_its_entry_and_the_comments_stay(kb_copy: Path) -> None:
    before = {path.name: path.read_text(encoding="utf-8") for path in kb_copy.glob("*.yaml")}
    written = add_alternate([kb_copy], "account-login", "我登录老是失败怎么搞")
    after = written.read_text(encoding="utf-8")
    added = [line for line in after.splitlines() if line not in before[written.name].splitlines()]
    assert added == ["      - 我登录老是失败怎么搞"]
    assert after.splitlines()[0] == before[written.name].splitlines()[0]  # the header comment survived
    assert add_alternate([kb_copy], "account-login", "我登录老是失败怎么搞") == written  # twice: no duplicate
    assert written.read_text(encoding="utf-8") == after
    entry = KnowledgeBase.load([kb_copy]).get("account-login")
    assert entry is not None and "我登录老是失败怎么搞" in entry.alternates
    with pytest.raises(LearningError):
        add_alternate([kb_copy], "no-such-entry", "whatever")


async def test_a_pick_teaches_a_phrasing_that_a_manager_accepts_and_the_bot_then_knows(
    database_url: str, kb_copy: Path
) -> None:
    async with running_bot(database_url, **_sections(kb_copy)) as bot:
        bot.fake.push_text(CUSTOMER, AMBIGUOUS)
        [suggested] = await bot.fake.wait_for("sendMessage", chat_id=CUSTOMER)
        buttons = [b["callback_data"] for row in suggested.params["reply_markup"]["inline_keyboard"] for b in row]
        assert f"pick:{PICKED}" in buttons
        bot.fake.push_callback(CUSTOMER, f"pick:{PICKED}")
        [candidate] = await eventually(lambda: _candidates(bot))
        assert (candidate.entry_id, candidate.phrasing, candidate.source) == (PICKED, AMBIGUOUS, "pick")

        bot.fake.push_text(CUSTOMER, "/review")  # a customer may not review
        bot.fake.push_text(MANAGER, "/review")
        await eventually(lambda: any(f"#{candidate.id}" in t for t in _texts(bot, MANAGER)))
        assert any("仅限管理人员" in t for t in _texts(bot, CUSTOMER))

        bot.fake.push_text(MANAGER, f"/accept {candidate.id}")
        await eventually(lambda: any("已重新加载" in t for t in _texts(bot, MANAGER)))
        assert bot.desk.kb.get(PICKED) is not None and AMBIGUOUS in bot.desk.kb.get(PICKED).alternates
        assert _candidates(bot)[0].status == "accepted" and _candidates(bot)[0].decided_by_user_id == MANAGER
        # The same words now find the entry first.
        assert bot.desk.kb.match(AMBIGUOUS).candidates[0].entry.id == PICKED


async def test_a_broken_edit_keeps_the_old_knowledge_serving(tmp_path: Path, kb_copy: Path) -> None:
    async with running_bot(f"sqlite:///{tmp_path / 'crm.sqlite3'}", **_sections(kb_copy)) as bot:
        entries_before = len(bot.desk.kb.entries)
        (kb_copy / "broken.yaml").write_text("entries:\n  - id: bad entry\n    question: ''\n", encoding="utf-8")
        bot.fake.push_text(MANAGER, "/reload")
        [reply] = await eventually(lambda: [t for t in _texts(bot, MANAGER) if "原来的版本" in t])
        assert "broken.yaml" in reply and "bad entry" in reply
        assert len(bot.desk.kb.entries) == entries_before
        bot.fake.push_text(CUSTOMER, "怎么退货")
        await eventually(lambda: any("退货" in t for t in _texts(bot, CUSTOMER)))


async def test_a_reload_points_out_phrasings_that_will_match_badly(tmp_path: Path, kb_copy: Path) -> None:
    async with running_bot(f"sqlite:///{tmp_path / 'crm.sqlite3'}", **_sections(kb_copy)) as bot:
        (kb_copy / "extra.yaml").write_text(
            "entries:\n  - {id: return-again, question: 怎么退货？, answer: 见退货说明。}\n", encoding="utf-8"
        )
        bot.fake.push_text(MANAGER, "/reload")
        [reply] = await eventually(lambda: [t for t in _texts(bot, MANAGER) if "已重新加载" in t])
        # Files load in name order: the advice lands on the later of the two entries.
        advice = html.unescape(reply).split("💡", 1)[1]
        assert "returns.yaml: entry 'return-how': field 'question': the same phrasing as entry 'return-again'" in advice
        assert bot.desk.kb.get("return-again") is not None


async def test_staff_link_and_the_unanswered_list(tmp_path: Path, kb_copy: Path) -> None:
    async with running_bot(f"sqlite:///{tmp_path / 'crm.sqlite3'}", **_sections(kb_copy)) as bot:
        for customer in (9601, 9602, 9603):
            bot.fake.push_text(customer, "量子纠缠是什么")
        bot.fake.push_text(9604, "宇宙有多大")
        await bot.fake.wait_for("sendMessage", 4)
        bot.fake.push_text(MANAGER, "/unanswered 7d")
        [listing] = await eventually(lambda: [t for t in _texts(bot, MANAGER) if "答不上" in t])
        assert listing.index("×3 量子纠缠是什么") < listing.index("×1 宇宙有多大")

        bot.fake.push_text(9601, "转人工")
        [copied] = await bot.fake.wait_for("copyMessage", chat_id=GROUP)
        bot.fake.push_text(9601, "能用数字人民币付款吗")
        await bot.fake.wait_for("copyMessage", 2, chat_id=GROUP)
        thread = copied.params["message_thread_id"]
        bot.fake.push_text(STAFF, "/link order-pay-methods", chat_id=GROUP, message_thread_id=thread)
        await eventually(lambda: [c for c in _candidates(bot) if c.source == "staff"])
        [candidate] = _candidates(bot)
        assert (candidate.entry_id, candidate.phrasing) == ("order-pay-methods", "能用数字人民币付款吗")


def test_the_review_command_line(tmp_path: Path, kb_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        (ROOT / "config.toml")
        .read_text(encoding="utf-8")
        .replace('url = "sqlite:///data/crm.sqlite3"', f'url = "sqlite:///{tmp_path / "crm.sqlite3"}"')
        .replace('paths = ["knowledge/kb"]', f'paths = ["{kb_copy}"]'),
        encoding="utf-8",
    )
    assert knowledge_cli(["review", "list", "--config", str(config)]) == 0
    assert "没有待审核" in capsys.readouterr().out
    assert knowledge_cli(["review", "accept", "99", "--config", str(config)]) == 0
    assert "没有待审核的 #99" in capsys.readouterr().out
