"""The right to be forgotten, end to end: the customer asks, only a manager confirms, everything is anonymised."""

from __future__ import annotations

import logging
import re

from crm_store import Contact, Customer
from crm_store.models import CustomerTag, Erasure, Ticket
from desk.privacy import ERASED
from tests.bot_harness import eventually, running_bot
from tests.bot_harness import stored as _rows
from tests.bot_harness import texts_sent as _texts

GROUP = -1004321
STAFF, MANAGER = 900, 901
CUSTOMER = 8101
SECTIONS = {"roles": {"staff": [STAFF], "managers": [MANAGER]}, "staff_group": {"chat_id": GROUP}}


async def test_forget_is_confirmed_by_a_manager_only_and_anonymises_everything(database_url: str, caplog) -> None:
    caplog.set_level(logging.INFO)
    async with running_bot(database_url, **SECTIONS) as bot:
        bot.fake.push_text(CUSTOMER, "我要投诉，我的手机号是13800001111，快递还没到")
        await bot.fake.wait_for("copyMessage", chat_id=GROUP)
        bot.fake.push_text(CUSTOMER, "/forget")
        notice = await eventually(lambda: [t for t in _texts(bot, GROUP) if "/erase" in t])
        customer_id = int(re.search(r"/erase (\d+)", notice[0]).group(1))
        assert any("经理确认" in t for t in _texts(bot, CUSTOMER))

        bot.fake.push_text(STAFF, f"/erase {customer_id}", chat_id=GROUP)
        await eventually(lambda: any("只有经理" in t for t in _texts(bot, GROUP)))
        assert all(c.text != ERASED for c in _rows(bot, Contact))

        bot.fake.push_text(MANAGER, f"/erase {customer_id}", chat_id=GROUP)
        await eventually(lambda: any("已按您的要求删除" in t for t in _texts(bot, CUSTOMER)))
        contacts = [c for c in _rows(bot, Contact) if c.customer_id == customer_id]
        erased_before = [c for c in contacts if "13800001111" in c.text]
        assert erased_before == [] and any(c.text == ERASED for c in contacts)
        [customer] = _rows(bot, Customer)
        assert customer.erased_at is not None and customer.display_name == "" and customer.username is None
        assert customer.language is None and customer.written_language is None
        assert _rows(bot, CustomerTag) == []
        [ticket] = _rows(bot, Ticket)
        assert ticket.summary == ERASED
        [erasure] = _rows(bot, Erasure)
        assert erasure.confirmed_by_user_id == MANAGER and erasure.contacts_anonymised == len(contacts)
    # Customers' words never reach the application log at INFO.
    assert "13800001111" not in caplog.text
