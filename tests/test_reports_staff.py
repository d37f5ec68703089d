"""The report's per-staff table: tickets handled, first-response and resolution times, deadlines, scores."""

from __future__ import annotations

from datetime import timedelta

from crm_store import Store
from crm_store.models import Customer, Ticket
from reports.metrics import collect_report
from reports.periods import parse_period
from reports.staff import staff_figures
from reports.summary import summary_text
from tests.test_reports_queries import NOW, TODAY, ZONE


def _seed(store: Store) -> None:
    with store.transaction() as session:
        customer = Customer(channel="telegram", external_id="1", display_name="芳",
                            first_contact_at=NOW - timedelta(days=9), last_contact_at=NOW)  # fmt: skip
        session.add(customer)
        session.flush()

        def ticket(number: str, user: int | None, name: str, *, respond: float, resolve: float | None,
                   due: float = 12, score: int | None = None) -> Ticket:  # fmt: skip
            opened = NOW - timedelta(days=1)
            return Ticket(
                number=number, customer_id=customer.id, status="resolved" if resolve else "assigned",
                cause="other", priority="normal", opened_at=opened, due_at=opened + timedelta(hours=due),
                first_response_at=opened + timedelta(minutes=respond),
                resolved_at=opened + timedelta(hours=resolve) if resolve else None,
                assignee_user_id=user, assignee_name=name if user else None, satisfaction=score,
            )  # fmt: skip

        session.add_all([
            ticket("T1", 900, "李雷", respond=10, resolve=2, score=5),
            ticket("T2", 900, "李雷", respond=30, resolve=20, score=3),  # resolved after its 12 h deadline
            ticket("T3", 900, "李雷", respond=20, resolve=None, due=48),
            ticket("T4", 902, "韩梅梅", respond=5, resolve=1, score=4),
            ticket("T5", None, "", respond=1, resolve=None),  # nobody held it: not in the table
        ])  # fmt: skip


def test_one_row_per_person_with_medians_p90_deadlines_and_scores(store: Store) -> None:
    _seed(store)
    period = parse_period("7d", ZONE, today=TODAY)
    with store.sessions() as session:
        lilei, meimei = staff_figures(session, period, NOW)
    assert (lilei.name, lilei.handled, meimei.name, meimei.handled) == ("李雷", 3, "韩梅梅", 1)
    assert lilei.first_response.median == 20 and lilei.first_response.count == 3
    assert lilei.resolution.count == 2 and lilei.resolution.median == 11 * 60
    assert lilei.deadlines == {"met": 1, "missed": 1, "pending": 1}
    assert (lilei.mean_satisfaction, lilei.rated) == (4.0, 2)
    with store.sessions() as session:
        text = summary_text(collect_report(session, period, now=NOW), ZONE)
    assert "按工作人员" in text and "李雷: 3 · 20 min/" in text and "韩梅梅: 1" in text
