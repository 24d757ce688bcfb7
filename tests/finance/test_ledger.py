"""The order's money: charges follow the order, payments and refunds are recorded
once, the database keeps the balance exact to the fen, and nothing is ever deleted."""

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine

from finance import selectors
from finance import services as finance
from finance.models import Account, LedgerEntry, RefundFor, RefusedDeletion
from orders import services as order_services
from orders.models import Status
from orders.roles import Role
from tests.factories import ProductFactory, place, promise_date

from .conftest import pay

pytestmark = pytest.mark.django_db


def account(order):
    return Account.objects.get(order=order)


def test_confirming_charges_the_goods_once(order_in, users):
    order = order_in(Status.CONFIRMED)
    charges = LedgerEntry.objects.filter(order=order, kind="charge")
    assert [(c.charge_kind, c.amount) for c in charges] == [("goods", order.total)]
    assert account(order).balance == order.total
    assert order.events.filter(code="ledger_charge").count() == 1


def test_many_small_payments_leave_a_balance_exact_to_the_fen(users):
    product = ProductFactory(unit_price=Decimal("33.33"))
    order = place(lines=[order_services.LineRequest(product, 3)])
    order_services.confirm_order(order.pk, by=users[Role.SALES], promised_date=promise_date())
    total = Decimal("99.99")
    # 0.01 + 0.02 + ... 0.30 (4.65), then 0.10 refunded three times: amounts a float
    # sum would not keep exact.
    for cents in range(1, 31):
        pay(order, Decimal(cents) / 100, by=users[Role.FINANCE], key=f"p{cents}")
    for n in range(3):
        finance.record_refund(
            order.pk,
            finance.MoneyMovement(
                amount=Decimal("0.10"),
                happened_on=order.placed_at.date(),
                refund_for=RefundFor.OVERPAYMENT,
                reason="test",
            ),
            by=users[Role.FINANCE],
            key=f"r{n}",
        )
    expected = total - Decimal("4.65") + Decimal("0.30")
    assert expected == Decimal("95.64")
    held = account(order)
    assert (held.charged, held.paid, held.refunded, held.balance) == (
        total,
        Decimal("4.65"),
        Decimal("0.30"),
        expected,
    )
    assert selectors.ledger_totals(order.pk)["balance"] == expected


def test_a_form_sent_twice_records_once(order_in, users):
    order = order_in(Status.CONFIRMED)
    first = pay(order, Decimal("10.00"), by=users[Role.FINANCE], key="same")
    second = pay(order, Decimal("10.00"), by=users[Role.FINANCE], key="same")
    assert first.pk == second.pk
    assert account(order).paid == Decimal("10.00")


def test_a_wrong_entry_is_reversed_by_a_counter_entry_never_deleted(order_in, users):
    order = order_in(Status.CONFIRMED)
    entry = pay(order, Decimal("50.00"), by=users[Role.FINANCE], key="p")
    with pytest.raises(RefusedDeletion):
        entry.delete()
    with pytest.raises(RefusedDeletion):
        LedgerEntry.objects.filter(order=order).delete()
    reversal = finance.reverse_entry(
        entry.pk, by=users[Role.FINANCE], reason="Typed the wrong order", key="r"
    )
    assert (reversal.kind, reversal.amount, reversal.reverses_id) == (
        "payment",
        Decimal("-50.00"),
        entry.pk,
    )
    assert account(order).balance == order.total
    assert LedgerEntry.objects.filter(order=order).count() == 3  # goods, payment, reversal
    with pytest.raises(order_services.OrderActionError):
        finance.reverse_entry(entry.pk, by=users[Role.FINANCE], reason="again", key="r2")
    with pytest.raises(order_services.OrderActionError):
        finance.reverse_entry(reversal.pk, by=users[Role.FINANCE], reason="undo", key="r3")
    goods = LedgerEntry.objects.get(order=order, charge_kind="goods")
    with pytest.raises(order_services.OrderActionError):
        finance.reverse_entry(goods.pk, by=users[Role.FINANCE], reason="no", key="r4")
    with pytest.raises(order_services.OrderActionError):
        finance.reverse_entry(entry.pk, by=users[Role.FINANCE], reason="", key="r5")


def test_a_cancelled_paid_order_shows_a_refund_due_until_refunded(order_in, users):
    order = order_in(Status.CONFIRMED)
    pay(order, order.total, by=users[Role.FINANCE], key="p")
    assert account(order).balance == 0
    order_services.cancel_order(order.pk, by=users[Role.SALES], note="Customer cancelled")
    held = account(order)
    assert (held.charged, held.balance) == (Decimal("0.00"), -order.total)
    assert [a.order_id for a in selectors.refunds_due()] == [order.pk]
    assert selectors.refunds_due_count() == 1
    finance.record_refund(
        order.pk,
        finance.MoneyMovement(
            amount=order.total,
            happened_on=order.placed_at.date(),
            refund_for=RefundFor.CANCELLATION,
            reason="Cancelled after payment",
        ),
        by=users[Role.FINANCE],
        key="refund",
    )
    assert account(order).balance == 0
    assert list(selectors.refunds_due()) == []


def test_changed_lines_or_freight_after_payment_show_the_difference(users):
    product = ProductFactory(unit_price=Decimal("20.00"))
    order = place(lines=[order_services.LineRequest(product, 2)])
    pay(order, Decimal("40.00"), by=users[Role.FINANCE], key="prepaid")
    order_services.change_order(
        order.pk, by=users[Role.SALES], lines=[order_services.LineRequest(product, 3)], fields={}
    )
    order_services.confirm_order(order.pk, by=users[Role.SALES], promised_date=promise_date())
    assert account(order).balance == Decimal("20.00")  # one more to collect
    finance.add_charge(
        order.pk, by=users[Role.FINANCE], charge_kind="freight", amount=Decimal("12.50"), key="f"
    )
    assert account(order).balance == Decimal("32.50")
    finance.add_charge(
        order.pk,
        by=users[Role.FINANCE],
        charge_kind="discount",
        amount=Decimal("40.00"),
        reason="Loyal customer",
        key="d",
    )
    assert account(order).balance == Decimal("-7.50")
    assert selectors.refunds_due_count() == 1


def test_unsettled_balances_are_aged_by_when_they_left_zero(users):
    zone = ZoneInfo("Asia/Shanghai")
    start = datetime(2026, 6, 1, 10, 0, tzinfo=zone)
    product = ProductFactory(unit_price=Decimal("10.00"))
    ages = [5, 45, 75, 120]
    for age in ages:
        with time_machine.travel(start - timedelta(days=age), tick=False):
            order = place(lines=[order_services.LineRequest(product, 1)])
            order_services.confirm_order(
                order.pk, by=users[Role.SALES], promised_date=promise_date()
            )
    rows = selectors.unsettled_by_age(now=start)
    assert [row["currency"] for row in rows] == ["CNY"]
    cells = rows[0]["cells"]
    assert [(c["n"], c["amount"]) for c in cells] == [(1, Decimal("10.00"))] * 4
    assert (rows[0]["n"], rows[0]["amount"]) == (4, Decimal("40.00"))


@pytest.mark.parametrize(
    "amount", [Decimal("0"), Decimal("-1.00"), Decimal("0.001"), Decimal("1e12"), Decimal("NaN")]
)
def test_bad_amounts_are_refused_and_nothing_written(order_in, users, amount):
    order = order_in(Status.CONFIRMED)
    before = LedgerEntry.objects.count()
    with pytest.raises(order_services.OrderActionError):
        pay(order, amount, by=users[Role.FINANCE], key="bad")
    assert LedgerEntry.objects.count() == before


def test_only_finance_records_money(order_in, users):
    order = order_in(Status.CONFIRMED)
    for role in (Role.SALES, Role.WAREHOUSE, Role.LOGISTICS):
        with pytest.raises(order_services.TransitionForbidden):
            pay(order, Decimal("1.00"), by=users[role], key=f"x-{role}")
    assert not LedgerEntry.objects.filter(kind="payment").exists()


def test_the_goods_charge_reads_in_the_readers_language(order_in):
    from django.utils import translation

    from orders.timeline import describe

    order = order_in(Status.CONFIRMED)
    event = order.events.get(code="ledger_charge", data__what="goods")
    assert event.note == ""  # not stored in one language
    assert event.data["reason"] == "Goods as confirmed"
    with translation.override("zh-hans"):
        assert describe(event).endswith("（已确认的货款）")
    with translation.override("en"):
        assert describe(event).endswith("(Goods as confirmed)")
