"""load_benchmark_data: its guards, and the data it writes (a small run on the test
database, which is not named *bench*: the loading function is called with the name
guard off, everything else as the command runs it)."""

import re
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from o2d.benchmark_data import ddl, load
from o2d.benchmark_data.loader import loaded_tables
from orders.models import Customer, Order, OrderEvent, OrderLine, Product, Status
from tests.factories import place

pytestmark = pytest.mark.django_db


def _row_counts():
    return {
        "orders": Order.objects.count(),
        "customers": Customer.objects.count(),
        "products": Product.objects.count(),
        "users": get_user_model().objects.count(),
    }


def test_refuses_with_debug_false(settings):
    settings.DEBUG = False
    before = _row_counts()
    with pytest.raises(CommandError, match="DEBUG=False"):
        call_command("load_benchmark_data", "--orders", "10")
    assert _row_counts() == before


def test_refuses_a_database_not_named_bench(settings):
    settings.DEBUG = True
    assert "bench" not in connection.settings_dict["NAME"]
    before = _row_counts()
    with pytest.raises(CommandError, match='contains "bench"'):
        call_command("load_benchmark_data", "--orders", "10")
    assert _row_counts() == before


def test_refuses_other_databases_than_postgresql(settings, monkeypatch):
    settings.DEBUG = True
    monkeypatch.setattr(connection, "vendor", "sqlite")
    before = _row_counts()
    with pytest.raises(CommandError, match="PostgreSQL"):
        load(orders_count=10, require_bench_name=False, log=lambda line: None)
    monkeypatch.undo()
    assert _row_counts() == before


def _structure():
    with connection.cursor() as cursor:
        return ddl.snapshot(cursor, loaded_tables())


@pytest.fixture
def loaded(settings):
    """300 orders over ten days (so that every state has some), written as the command
    writes them."""
    settings.DEBUG = True
    structure = _structure()
    inserted = load(
        orders_count=300, days=10, seed=7, require_bench_name=False, log=lambda line: None
    )
    return structure, inserted


def test_orders_in_every_state_each_with_lines_and_events(loaded):
    structure, inserted = loaded
    assert inserted["orders_order"] == Order.objects.count() == 300
    assert set(Order.objects.values_list("status", flat=True)) == set(Status.values)
    assert not Order.objects.filter(lines__isnull=True).exists()
    assert not Order.objects.filter(events__isnull=True).exists()
    # The keys, indexes and foreign keys dropped for the load are all back.
    # (Index definitions are compared by name: PostgreSQL words a partial index's
    # condition differently once it has parsed its own wording again.)
    after = _structure()
    assert sorted(after.keys) == sorted(structure.keys)
    assert sorted(after.foreign_keys) == sorted(structure.foreign_keys)
    assert sorted(name for name, _ in after.indexes) == sorted(
        name for name, _ in structure.indexes
    )


def test_loaded_fields_agree_with_the_status(loaded):
    shipped = [Status.SHIPPED, Status.DELIVERED, Status.CLOSED]
    lines = OrderLine.objects.select_related("order")
    for line in lines:
        expected = line.quantity if line.order.status in shipped else 0
        assert line.shipped_quantity == expected, (line.order.status, line.pk)
    now = timezone.now()
    numbers = set()
    for order in Order.objects.all():
        assert order.placed_at <= order.step_started_at <= now
        assert re.fullmatch(r"\d{8}-\d{4}", order.number)
        assert re.fullmatch(r"[A-Za-z0-9_\-]{32}", order.public_token)
        assert order.contact_phone and order.delivery_street
        numbers.add(order.number)
        last = order.events.order_by("created_at", "pk").last()
        if order.status != Status.PLACED:
            transitions = order.events.filter(kind="transition").order_by("created_at", "pk")
            assert transitions.last().to_status == order.status
        assert last.created_at <= now
    assert len(numbers) == 300
    picked = Order.objects.filter(status__in=[Status.PICKED, *shipped])
    assert not picked.filter(fulfilment__isnull=True).exists()
    assert not Order.objects.filter(status__in=shipped, shipments__isnull=True).exists()


def test_the_app_writes_new_rows_after_loading(loaded, order_in, users):
    """Sequences and day counters continue after the loaded rows: new orders are placed
    and driven to the end through the services (timeline, emails, warehouse, logistics,
    receipt rows)."""
    new = place()
    assert not Order.objects.exclude(pk=new.pk).filter(number=new.number).exists()
    closed = order_in(Status.CLOSED)
    assert closed.status == Status.CLOSED
    assert OrderEvent.objects.filter(order=closed).count() >= 6


def test_pages_of_loaded_orders_answer(loaded, client, users):
    client.force_login(users["Manager"])
    assert client.get(reverse("order_list")).status_code == 200
    for status in (Status.CONFIRMED, Status.SHIPPED, Status.CLOSED):
        order = Order.objects.filter(status=status).first()
        assert client.get(order.get_absolute_url()).status_code == 200
        client.logout()
        assert client.get(order.get_public_url()).status_code == 200
        client.force_login(users["Manager"])


# ---------------------------------------------------------------------------
# Finance's rows


def test_every_account_is_the_sum_of_its_ledger(loaded):
    """Each account holds exactly the sums of its entries (what the app's own
    _recompute_account makes of them), unsettled since a time exactly when its balance
    is not zero; every order confirmed at some time has its goods charged, and each
    shipment's freight is the carrier's price of its packages, charged under the
    freight terms."""
    from finance.models import Account, FreightTerms, LedgerEntry
    from finance.selectors import ledger_totals
    from finance.services import _recompute_account
    from logistics.models import Shipment

    _structure, inserted = loaded
    accounts = list(Account.objects.select_related("order"))
    assert accounts and inserted["finance_ledgerentry"] == LedgerEntry.objects.count()
    assert {a.order_id for a in accounts} == set(
        LedgerEntry.objects.values_list("order_id", flat=True)
    )
    for account in accounts:
        totals = ledger_totals(account.order_id)
        held = {k: getattr(account, k) for k in ("charged", "paid", "refunded", "balance")}
        assert held == totals, account.order.number
        assert (account.since is None) == (account.balance == 0), account.order.number
        again = _recompute_account(account.order, timezone.now())
        assert (again.balance, again.since) == (account.balance, account.since)
    for order in Order.objects.exclude(status__in=[Status.PLACED, Status.CANCELLED]):
        goods = LedgerEntry.objects.get(order=order, submission_key="goods:0")
        assert goods.amount == order.total and goods.reason == "Goods as confirmed"
    terms = FreightTerms.current()
    for shipment in Shipment.objects.select_related("service", "order"):
        weight = sum(p.weight_kg for p in shipment.packages.all())
        cost = shipment.service.base_price + shipment.service.price_per_kg * weight
        assert shipment.freight_cost == cost.quantize(Decimal("0.01"))
        freight = LedgerEntry.objects.filter(submission_key=f"freight:{shipment.pk}").first()
        charged = terms.charge_customer and (
            terms.free_from is None or shipment.order.total < terms.free_from
        )
        assert (freight.amount if freight else None) == (shipment.freight_cost if charged else None)


def test_cancelled_orders_are_charged_back_and_refunded(loaded):
    from finance.models import Account, LedgerEntry

    for order in Order.objects.filter(status=Status.CANCELLED):
        goods = list(
            LedgerEntry.objects.filter(order=order, charge_kind="goods").order_by("recorded_at")
        )
        if not goods:  # cancelled before confirmation: nothing was charged
            assert not Account.objects.filter(order=order).exists()
            continue
        assert [g.amount for g in goods] == [order.total, -order.total]
        assert goods[1].reason == "Order cancelled"
        account = Account.objects.get(order=order)
        assert account.charged == 0 and account.balance in (0, -account.paid)
        for refund in LedgerEntry.objects.filter(order=order, kind="refund"):
            assert refund.refund_for == "cancellation" and refund.recorded_at > goods[1].recorded_at


def test_every_ledger_entry_is_on_the_timeline(loaded):
    """As finance.services._write_entry records it: code, actor, note and the data's
    shape, with the balance after the entry."""
    from finance.models import LedgerEntry

    codes = {"charge": "ledger_charge", "payment": "ledger_payment", "refund": "ledger_refund"}
    entries = LedgerEntry.objects.order_by("order_id", "recorded_at", "pk")
    balance, order_id = Decimal("0"), None
    for entry in entries:
        balance = Decimal("0") if entry.order_id != order_id else balance
        order_id = entry.order_id
        balance += entry.effect
        event = OrderEvent.objects.get(order_id=entry.order_id, data__entry=entry.pk)
        assert event.code == codes[entry.kind] and event.created_at == entry.recorded_at
        assert event.actor_id == entry.recorded_by_id and event.note == entry.reason
        assert event.data == {
            "what": entry.charge_kind or entry.kind,
            "amount": str(entry.amount),
            "currency": entry.currency,
            "balance": str(balance),
            "entry": entry.pk,
        }


def test_closing_requests_agree_with_the_orders(loaded):
    """Closed orders: approved before the close, paid and invoiced for what they were
    charged; delivered and receipted ones: spread over Sales' and Finance's hands,
    waiting since their last hand-off; no request without a receipt."""
    from finance.models import Account, ClosingRequest, Invoice, RequestStatus

    closed = Order.objects.filter(status=Status.CLOSED)
    assert closed.exists()
    for order in closed:
        request = ClosingRequest.objects.get(order=order)
        assert request.status == RequestStatus.APPROVED and request.escalated_at is None
        assert request.opened_at < request.submitted_at < request.acknowledged_at
        assert request.acknowledged_at < request.approved_at <= order.step_started_at
        assert request.approved_by_id and request.submitted_by_id and request.acknowledged_by_id
        account = Account.objects.get(order=order)
        invoiced = sum(i.amount for i in Invoice.objects.filter(order=order))
        assert account.balance == 0 and invoiced == account.charged > 0
        assert order.notifications.filter(kind="order_closed").exists() == bool(order.contact_email)
    delivered = ClosingRequest.objects.filter(order__status=Status.DELIVERED)
    assert delivered.exists()
    assert not delivered.filter(status=RequestStatus.APPROVED).exists()
    for request in delivered.select_related("order"):
        assert request.order.step_started_at == request.opened_at  # the step counts from receipt
        last = max(
            t
            for t in (
                request.opened_at,
                request.submitted_at,
                request.acknowledged_at,
                request.sent_back_at,
            )
            if t
        )
        assert request.step_started_at == last
        assert (request.sent_back_at is not None) == bool(request.sent_back_reason)
    receipted = set(Order.objects.filter(receipt__isnull=False).values_list("pk", flat=True))
    assert set(ClosingRequest.objects.values_list("order_id", flat=True)) == receipted
    steps = {
        "opened": "closing_opened",
        "submitted": "closing_submitted",
        "acknowledged": "closing_acknowledged",
    }
    for request in ClosingRequest.objects.all()[:50]:
        codes = set(request.order.events.values_list("code", flat=True))
        assert steps["opened"] in codes
        if request.submitted_at:
            assert steps["submitted"] in codes


def test_the_finance_dashboard_has_something_to_show(loaded):
    from finance import selectors
    from finance.models import ClosingRequest, RequestStatus

    aging, _refunds = selectors.balances()
    assert aging and aging[0]["n"] > 0
    waiting = [s for s in RequestStatus.values if s != RequestStatus.APPROVED]
    rows = selectors.requests_in(waiting)
    assert rows and all(row.request.status in waiting for row in rows)
    # As the app leaves them: online orders nobody took have no salesperson.
    assert any(row.request.salesperson_id is None for row in rows)
    # Requests in review, split by the database's verdict as the checklist would.
    in_review = ClosingRequest.objects.filter(status="in_review").select_related("order")
    verdicts = selectors.verdicts(in_review)
    for request in in_review:
        checks = selectors.failing(selectors.checklist(request.order, request))
        assert [c.key for c in verdicts[request.pk]] == [i.check.key for i in checks]
    assert selectors.requests_in([RequestStatus.APPROVED])


def test_finance_pages_of_loaded_orders_answer(loaded, client, users):
    """The pages that show one order with a salesperson, and the export."""
    from finance.models import ClosingRequest

    client.force_login(users["Finance"])
    for status in ("approved", "in_review", "submitted", "open"):
        request = ClosingRequest.objects.filter(status=status, salesperson__isnull=False).first()
        if request:
            page = reverse("finance:request", args=[request.order.number])
            assert client.get(page).status_code == 200, status
    today = timezone.localdate()
    response = client.get(
        reverse("finance:export_ledger"), {"start": today.replace(day=1), "end": today}
    )
    assert response.status_code == 200
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert lines[0].startswith("entry,order,") and len(lines) > 1


def test_finance_pages_with_requests_without_a_salesperson_answer(loaded, client, users):
    """Online orders nobody took have no salesperson, nor do their closing requests:
    the queues and the request page still answer."""
    from finance.models import ClosingRequest

    orphan = ClosingRequest.objects.filter(salesperson__isnull=True).exclude(status="approved")
    client.raise_request_exception = False
    client.force_login(users["Finance"])
    pages = [
        reverse("finance:dashboard"),
        reverse("finance:closing_requests"),
        reverse("finance:request", args=[orphan.first().order.number]),
    ]
    assert [client.get(page).status_code for page in pages] == [200, 200, 200]


# ---------------------------------------------------------------------------
# The process review's rows: step runs and surveys

# The step whose clock runs in each state, as written in the process definition
# (PROCESS.md); a state not listed (closed, cancelled) starts no run.
STEP_OF_STATE = {
    "placed": "confirmation",
    "confirmed": "processing",
    "backordered": "processing",
    "picked": "shipping",
    "shipped": "tracking",
    "delivered": "closing",
}


@pytest.fixture
def loaded_review(settings):
    """300 orders over 20 days, phone orders with their own confirmation target (30
    minutes, where the step's own is longer)."""
    from datetime import timedelta

    from orders.models import ProcessStep, StepChannelTarget

    settings.DEBUG = True
    confirmation = ProcessStep.objects.get(code="confirmation")
    assert confirmation.target > timedelta(minutes=30)
    StepChannelTarget.objects.update_or_create(
        step=confirmation, channel="phone", defaults={"target": timedelta(minutes=30)}
    )
    return load(orders_count=300, days=20, seed=11, require_bench_name=False, log=lambda _: None)


def test_step_runs_are_what_the_app_writes_when_an_order_leaves_a_state(loaded_review):
    """Each order's runs, recomputed from its timeline by record_step_run's rule: two
    transitions in a row, the state left and its step, the step's owner, the second
    event's actor, whole seconds between them, the channel's target, breached when
    the time reached it."""
    from itertools import pairwise

    from orders.models import ProcessStep, StepRun

    steps = {step.code: step for step in ProcessStep.objects.all()}
    expected_total = 0
    for order in Order.objects.all():
        transitions = list(order.events.filter(kind="transition").order_by("created_at", "pk"))
        expected = []
        for before, event in pairwise(transitions):
            code = STEP_OF_STATE.get(before.to_status)
            if code is None:
                continue
            step = steps[code]
            if code == "confirmation" and order.channel == "phone":
                target = 1800
            else:
                target = int(step.target.total_seconds()) if step.target else None
            seconds = int((event.created_at - before.created_at).total_seconds())
            expected.append(
                (code, before.to_status, event.to_status, order.channel, step.role,
                 event.actor_id, before.created_at, event.created_at, seconds, target,
                 target is not None and seconds >= target)
            )  # fmt: skip
        got = [
            (r.step, r.status, r.to_status, r.channel, r.role, r.by_id, r.started_at,
             r.ended_at, r.seconds, r.target_seconds, r.breached)
            for r in StepRun.objects.filter(order=order).order_by("started_at")
        ]  # fmt: skip
        assert got == expected, order.number
        expected_total += len(expected)
    assert loaded_review["orders_steprun"] == StepRun.objects.count() == expected_total
    # Every kind of run is there: each step, a wait for stock, a cancellation, and
    # phone confirmations judged against their own 30 minutes.
    assert set(StepRun.objects.values_list("step", flat=True)) == {
        "confirmation", "processing", "shipping", "tracking", "closing"
    }  # fmt: skip
    assert StepRun.objects.filter(status="backordered", to_status="confirmed").exists()
    assert StepRun.objects.filter(to_status="cancelled").exists()
    phone = StepRun.objects.filter(step="confirmation", channel="phone")
    assert phone.exists() and set(phone.values_list("target_seconds", flat=True)) == {1800}
    assert phone.filter(breached=True).exists()


def test_surveys_only_for_received_orders_with_their_answers(loaded_review):
    """A survey three days (the settings' default) after each of about 60 % of the
    receipts, valid 21 days; answered ones have a score and one answer per question
    (the problem question only after a problem case), unanswered ones none."""
    from datetime import timedelta

    from feedback.models import ProblemCase, Receipt, Survey, SurveyAnswer

    surveys = list(Survey.objects.select_related("order", "question_set"))
    now = timezone.now()
    assert surveys
    assert not Survey.objects.filter(order__receipt__isnull=True).exists()
    receipts = {r.order_id: r for r in Receipt.objects.all()}
    due = [r for r in receipts.values() if r.confirmed_at + timedelta(days=3) <= now]
    assert 0.35 * len(due) <= len(surveys) <= 0.85 * len(due)
    answered = [s for s in surveys if s.answered_at]
    assert 0 < len(answered) < len(surveys)
    always = {"confirmed_as_agreed", "packaging", "arrived_on_time"}
    for survey in surveys:
        receipt = receipts[survey.order_id]
        assert survey.sent_at == receipt.confirmed_at + timedelta(days=3) <= now
        assert survey.expires_at == survey.sent_at + timedelta(days=21)
        assert survey.question_set.version == 1 and survey.question_set.active
        case = ProblemCase.objects.filter(order_id=survey.order_id).first()
        assert survey.had_problem == bool(case and case.opened_at <= survey.sent_at)
        shipment = survey.order.shipments.select_related("carrier").order_by("pk").first()
        assert survey.carrier == shipment.carrier.name
        codes = set(
            SurveyAnswer.objects.filter(survey=survey).values_list("question__code", flat=True)
        )
        if survey.answered_at is None:
            assert survey.score is None and survey.recommend is None and not codes
            continue
        assert survey.sent_at < survey.answered_at <= now
        assert 1 <= survey.score <= 5 and 0 <= survey.recommend <= 10
        assert codes == (always | {"problem_handled"} if survey.had_problem else always)
        if survey.score <= 2:
            assert survey.comment
    # Scores lean to the good side.
    assert sum(s.score >= 4 for s in answered) > len(answered) / 2
