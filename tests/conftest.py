"""Shared fixtures: a store on SQLite and on PostgreSQL, a small knowledge base, a desk."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from crm_store import Store
from crm_store.types import utcnow
from desk.context import DeskContext
from desk.service import Desk
from knowledge import Entry, KnowledgeBase

# Loopback must never go through a proxy.
os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
os.environ.setdefault("no_proxy", "127.0.0.1,localhost")
# Desks built from settings match on words: the semantic stage would embed the knowledge base in the
# background of every such test and slow the timing-sensitive ones. Its own tests turn it on
# (tests/test_knowledge_semantic.py).
os.environ.setdefault("DESK_KNOWLEDGE__SEMANTIC__ENABLED", "false")

POSTGRES_URL = os.environ.get("DESK_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REQUIRE_POSTGRES = os.environ.get("DESK_REQUIRE_POSTGRES") == "1"
ROOT = Path(__file__).resolve().parent.parent


def _postgres_problem() -> str | None:
    try:
        engine = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(text("select 1"))
        engine.dispose()
    except OperationalError as exc:
        return f"PostgreSQL not reachable at {POSTGRES_URL}: {str(exc).splitlines()[0]}"
    return None


_PG_PROBLEM: str | bool | None = False


def postgres_or_skip() -> None:
    global _PG_PROBLEM
    if _PG_PROBLEM is False:
        _PG_PROBLEM = _postgres_problem()
    if _PG_PROBLEM:
        if REQUIRE_POSTGRES:
            pytest.fail(f"DESK_REQUIRE_POSTGRES=1 but {_PG_PROBLEM}")
        pytest.skip(str(_PG_PROBLEM))


@pytest.fixture(params=["aiohttp", "httpx"])
def each_http_client(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The test runs once with each Bot API transport: they must behave alike, faults included."""
    from tests import bot_harness

    monkeypatch.setattr(bot_harness, "HTTP_CLIENT", request.param)
    return request.param


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A PostgreSQL URL whose tables live in a fresh schema, dropped afterwards."""
    postgres_or_skip()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in POSTGRES_URL else "?"
    yield f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'crm.sqlite3'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    store = Store(database_url)
    store.upgrade()
    yield store
    store.close()


SAMPLE_ENTRIES = [
    Entry(
        id="return-how",
        question="怎么退货？",
        alternates=["我想退货", "退货流程是什么", "买的东西怎么退回去"],
        keywords=["退货", "退货流程"],
        category="退换货",
        answer="在「我的订单」中点击「申请售后」→「退货」，审核通过后寄回商品即可。",
    ),
    Entry(
        id="refund-time",
        question="退款多久到账？",
        alternates=["钱什么时候退回来", "退款几天能到"],
        keywords=["退款", "到账"],
        category="退款",
        answer="退款原路退回，一般 1–7 个工作日到账。",
    ),
    Entry(
        id="invoice-how",
        question="怎么开发票？",
        alternates=["我要开发票", "发票在哪里开"],
        keywords=["发票", "开票"],
        category="发票",
        answer="在订单详情页点击「申请发票」，电子发票会发到您的邮箱。",
    ),
    Entry(
        id="store-hours",
        question="门店几点开门？",
        alternates=["营业时间", "你们几点关门"],
        keywords=["营业时间", "门店"],
        category="门店",
        answer="门店营业时间为每天 10:00–22:00。",
    ),
    Entry(
        id="en-return",
        question="How do I return an item?",
        alternates=["return policy", "I want to send it back"],
        keywords=["return"],
        category="Returns",
        answer="Open your order, choose 'After-sales' then 'Return', and send the item back within 7 days.",
    ),
]


@pytest.fixture(scope="session")
def sample_kb() -> KnowledgeBase:
    return KnowledgeBase.from_entries(SAMPLE_ENTRIES)


@pytest.fixture
def desk(store: Store, sample_kb: KnowledgeBase) -> Iterator[Desk]:
    desk = Desk(store=store, context=DeskContext(kb=sample_kb, clock=utcnow, business_name="测试商城"))
    yield desk
    desk.close()
