"""The goods of an approved return: the parcel back, the warehouse's receipt against
the RMA, the inspection by a second person with its stock movements, and the outcome
(a refund credited to the customer and paid by Finance, or Sales' completion)."""

import threading
from decimal import Decimal

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone, translation

from feedback import return_goods, returns
from feedback.models import ReturnReason, ReturnRequest, ReturnStatus
from feedback.return_goods import Counted
from feedback.selectors import open_returns, warehouse_returns
from feedback.services import confirm_receipt
from finance import selectors as finance_selectors
from finance import services as finance
from finance.models import Account, ChargeKind, ClosingRequest, LedgerEntry, PaymentMethod
from orders import emails
from orders.models import Notification, NotificationKind, Status
from orders.roles import Role
from orders.services import (
    LineRequest,
    OrderActionError,
    TransitionForbidden,
    place_replacement,
)
from tests.factories import (
    ProductFactory,
    deliver,
    make_user,
    settle,
    ship,
    through_warehouse,
)
from warehouse.models import MovementKind, StockItem, StockMovement

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def checker():
    """A second warehouse user: the inspection's four eyes."""
    return make_user(Role.WAREHOUSE, username="warehouse-checker")


@pytest.fixture
def three_lines(order_in, users):
    """A delivered, paid order of three products (10.00, 25.50 and 99.90 a unit)."""
    prices = [Decimal("10.00"), Decimal("25.50"), Decimal("99.90")]
    lines = [
        LineRequest(ProductFactory(unit_price=price), n)
        for price, n in zip(prices, (1, 3, 2), strict=True)
    ]
    order = order_in(Status.DELIVERED, salesperson=users[Role.SALES], lines=lines)
    settle(order, by=users[Role.FINANCE])
    return order


def lines_of(order):
    return list(order.lines.order_by("pk"))


def approved(order, users, quantities, *, outcome="refund", reason="damaged", approve=None):
    request, _created = returns.request_return(
        order.pk, reason_code=reason, quantities=quantities, key="r" * 32
    )
    return returns.approve_return(
        request.pk, by=users[Role.SALES], outcome=outcome, approved=approve
    )


def received(request, users, quantities=None, note=""):
    quantities = quantities or {rl.line_id: rl.approved_quantity for rl in request.lines.all()}
    return return_goods.receive(
        request.pk, by=users[Role.WAREHOUSE], quantities=quantities, note=note
    )


def balance(order):
    return Account.objects.get(order=order).balance


def test_a_partial_return_of_one_line_of_three_is_refunded_by_finance(three_lines, users, checker):
    order = three_lines
    _one, middle, _two = lines_of(order)
    assert balance(order) == 0  # paid in full
    freight = sum(
        e.amount for e in LedgerEntry.objects.filter(order=order, charge_kind=ChargeKind.FREIGHT)
    )
    # Asked: 3 of the middle line; Sales approves 2.
    request = approved(order, users, {middle.pk: 3}, approve={middle.pk: 2})
    assert request.status == ReturnStatus.APPROVED and request.rma_number

    return_goods.send_back(request.pk, tracking="sf 1234 5678 90", carrier="顺丰")
    request.refresh_from_db()
    assert (request.status, request.return_tracking) == (ReturnStatus.IN_TRANSIT, "SF1234567890")

    received(request, users)
    request = return_goods.inspect(
        request.pk, by=checker, counted={middle.pk: Counted(restock=2)}, note="Intact"
    )
    # Two units of 25.50, and the freight (the reason is the seller's fault).
    assert request.status == ReturnStatus.INSPECTED
    assert request.refund_amount == Decimal("51.00")
    credit = LedgerEntry.objects.get(order=order, charge_kind=ChargeKind.RETURN)
    assert credit.amount == -(Decimal("51.00") + freight)
    assert credit.reference == request.rma_number
    assert balance(order) == credit.amount
    assert order.pk in [a.order_id for a in finance_selectors.refunds_due()]
    assert [r.pk for r in open_returns()["refund_due"]] == [request.pk]

    # Finance pays it in two parts: the return is refunded with the second, and the
    # customer told.
    first_part = Decimal("20.00")
    for key, amount in (("refund-1", first_part), ("refund-2", -credit.amount - first_part)):
        finance.record_refund(
            order.pk,
            finance.MoneyMovement(
                amount=amount,
                happened_on=timezone.localdate(),
                method_id=PaymentMethod.objects.get(code="bank_transfer").pk,
                refund_for="return",
                reason="Return " + request.rma_number,
            ),
            by=users[Role.FINANCE],
            key=key,
        )
        request.refresh_from_db()
        if key == "refund-1":
            assert request.status == ReturnStatus.INSPECTED
            assert request.refund_paid == first_part
    assert request.status == ReturnStatus.REFUNDED and request.settled_at
    assert request.refund_paid == -credit.amount
    assert balance(order) == 0
    codes = list(order.events.filter(code__startswith="return_").values_list("code", flat=True))
    assert codes == [
        "return_requested",
        "return_approved_in_part",
        "return_sent",
        "return_received",
        "return_inspected",
        "return_refunded",
    ]
    sent = Notification.objects.get(order=order, kind=NotificationKind.RETURN_REFUNDED)
    assert emails.deliver(sent.pk)
    assert f"{-credit.amount} CNY" in mail.outbox[-1].body
    assert mail.outbox[-1].to == [order.contact_email]


def test_a_change_of_mind_refunds_the_goods_less_the_fee_and_not_the_freight(
    three_lines, users, checker
):
    ReturnReason.objects.filter(code="changed_mind").update(restocking_fee=Decimal("10"))
    order = three_lines
    *_rest, last = lines_of(order)
    request = approved(order, users, {last.pk: 1}, reason="changed_mind")
    received(request, users)
    request = return_goods.inspect(request.pk, by=checker, counted={last.pk: Counted(restock=1)})
    assert request.refund_amount == Decimal("89.91")  # 99.90 less 10 %, half up
    credit = LedgerEntry.objects.get(order=order, charge_kind=ChargeKind.RETURN)
    assert credit.amount == Decimal("-89.91")


def test_an_inspection_writes_off_one_unit_and_restocks_the_rest(three_lines, users, checker):
    order = three_lines
    _one, middle, _two = lines_of(order)
    stock = StockItem.objects.get(product_id=middle.product_id)
    before = (stock.on_hand, stock.reserved)
    request = approved(order, users, {middle.pk: 3})
    received(request, users)
    return_goods.inspect(
        request.pk, by=checker, counted={middle.pk: Counted(restock=2, write_off=1)}
    )
    stock.refresh_from_db()
    assert (stock.on_hand, stock.reserved) == (before[0] + 2, before[1])
    moves = StockMovement.objects.filter(stock_item=stock, order=order).exclude(
        kind__in=[MovementKind.RESERVATION, MovementKind.SHIPMENT, MovementKind.RELEASE]
    )
    assert sorted((m.kind, m.on_hand_change, m.reserved_change, m.by) for m in moves) == [
        (MovementKind.RETURN_RESTOCK, 2, 0, checker),
        (MovementKind.RETURN_WRITE_OFF, 0, 0, checker),
    ]
    request.refresh_from_db()
    line = request.lines.get()
    assert (line.restocked, line.written_off, line.to_repair) == (2, 1, 0)


def test_a_second_person_inspects(three_lines, users, checker):
    order = three_lines
    first, *_rest = lines_of(order)
    request = approved(order, users, {first.pk: 1})
    received(request, users)
    counted = {first.pk: Counted(restock=1)}
    with pytest.raises(TransitionForbidden, match="second person"):
        return_goods.inspect(request.pk, by=users[Role.WAREHOUSE], counted=counted)
    with pytest.raises(TransitionForbidden):
        return_goods.inspect(request.pk, by=users[Role.SALES], counted=counted)
    assert ReturnRequest.objects.get(pk=request.pk).status == ReturnStatus.RECEIVED
    assert not StockMovement.objects.filter(kind=MovementKind.RETURN_RESTOCK).exists()
    return_goods.inspect(request.pk, by=checker, counted=counted)
    assert ReturnRequest.objects.get(pk=request.pk).status == ReturnStatus.INSPECTED


def test_every_received_unit_is_inspected_once(three_lines, users, checker):
    order = three_lines
    _one, middle, _two = lines_of(order)
    request = approved(order, users, {middle.pk: 2})
    received(request, users)
    for counted in (
        Counted(restock=1),
        Counted(restock=2, repair=1),
        Counted(restock=-1, repair=3),
    ):
        with pytest.raises(OrderActionError):
            return_goods.inspect(request.pk, by=checker, counted={middle.pk: counted})
    assert ReturnRequest.objects.get(pk=request.pk).status == ReturnStatus.RECEIVED
    assert not LedgerEntry.objects.filter(charge_kind=ChargeKind.RETURN).exists()


def test_a_parcel_that_holds_something_else_goes_back_to_sales(three_lines, users, checker):
    order = three_lines
    first, middle, _last = lines_of(order)
    request = approved(order, users, {middle.pk: 2}, outcome="exchange")
    assert [r.pk for r in warehouse_returns()["to_receive"]] == [request.pk]
    request = received(request, users, {middle.pk: 1}, note="Only one cup in the box")
    assert request.mismatch
    assert order.events.filter(code="return_mismatch").count() == 1
    lanes = open_returns()
    assert [r.pk for r in lanes["to_settle"]] == [request.pk]
    assert [r.pk for r in warehouse_returns()["to_inspect"]] == [request.pk]
    # Goods of the order that were not part of the return are not counted in.
    with pytest.raises(OrderActionError):
        return_goods._received(request, {first.pk: 1})


def test_an_exchange_ships_a_replacement_and_charges_nothing(three_lines, users, checker):
    order = three_lines
    _one, middle, _two = lines_of(order)
    request = approved(order, users, {middle.pk: 2}, outcome="exchange", reason="wrong_item")
    received(request, users)
    request = return_goods.inspect(
        request.pk, by=checker, counted={middle.pk: Counted(restock=1, write_off=1)}
    )
    assert request.status == ReturnStatus.REPLACED and not request.is_open
    replacement = request.replacement
    assert (replacement.replaces, replacement.status, replacement.total) == (
        order,
        Status.CONFIRMED,
        Decimal("0.00"),
    )
    assert [(li.product_id, li.quantity, li.unit_price) for li in replacement.lines.all()] == [
        (middle.product_id, 2, Decimal("0.00"))
    ]
    assert (replacement.customer, replacement.contact_email, replacement.delivery_street) == (
        order.customer,
        order.contact_email,
        order.delivery_street,
    )
    assert replacement.promised_date and replacement.salesperson == order.salesperson
    # Placed once: the same RMA finds it again.
    again = place_replacement(order, [LineRequest(middle.product, 2)], reference=request.rma_number)
    assert again == replacement
    # The same process as any order from confirmed: stock, picking, review, the carrier.
    manager = users[Role.MANAGER]
    through_warehouse(replacement, by=manager)
    ship(replacement, by=manager)
    replacement.refresh_from_db()
    assert replacement.status == Status.SHIPPED
    # Nothing charged: not the goods, not the freight; nothing refunded on the original.
    assert not LedgerEntry.objects.filter(order=replacement).exclude(amount=0).exists()
    assert replacement.events.filter(code="freight_replacement").count() == 1
    assert not LedgerEntry.objects.filter(order=order, charge_kind=ChargeKind.RETURN).exists()
    assert balance(order) == 0
    assert order.events.filter(code="replacement_placed").count() == 1
    # Delivered and received, it closes with nothing to invoice.
    deliver(replacement, by=manager)
    confirm_receipt(replacement.pk, how="phone", by=users[Role.SALES])
    closing = ClosingRequest.objects.get(order=replacement)
    assert finance_selectors.failing(finance_selectors.checklist(replacement, closing)) == []
    assert finance_selectors.verdicts(ClosingRequest.objects.filter(pk=closing.pk)) == {
        closing.pk: []
    }


def test_a_repair_is_completed_by_sales_with_what_was_done(three_lines, users, checker):
    order = three_lines
    first, *_rest = lines_of(order)
    request = approved(order, users, {first.pk: 1}, outcome="repair")
    received(request, users)
    return_goods.inspect(request.pk, by=checker, counted={first.pk: Counted(repair=1)})
    assert not LedgerEntry.objects.filter(order=order, charge_kind=ChargeKind.RETURN).exists()
    with pytest.raises(OrderActionError):
        return_goods.settle(request.pk, by=users[Role.SALES], note="  ")
    with pytest.raises(TransitionForbidden):
        return_goods.settle(request.pk, by=users[Role.WAREHOUSE], note="Sent")
    request = return_goods.settle(request.pk, by=users[Role.SALES], note="Repaired, sent back")
    assert request.status == ReturnStatus.CLOSED and request.settled_by == users[Role.SALES]
    assert not request.is_open


def test_a_refund_return_is_not_completed_by_sales(three_lines, users, checker):
    order = three_lines
    first, *_rest = lines_of(order)
    request = approved(order, users, {first.pk: 1})
    received(request, users)
    return_goods.inspect(request.pk, by=checker, counted={first.pk: Counted(restock=1)})
    with pytest.raises(OrderActionError, match="Finance"):
        return_goods.settle(request.pk, by=users[Role.SALES], note="Paid")


def test_a_bad_tracking_number_is_refused_and_the_same_one_again_changes_nothing(
    three_lines, users
):
    order = three_lines
    first, *_rest = lines_of(order)
    request = approved(order, users, {first.pk: 1})
    for bad in ("", "12", "<script>", "x" * 41):
        with pytest.raises(OrderActionError):
            return_goods.send_back(request.pk, tracking=bad)
    return_goods.send_back(request.pk, tracking="YT1234567")
    return_goods.send_back(request.pk, tracking="yt1234567")
    assert order.events.filter(code="return_sent").count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_warehouse_users_receiving_at_once_record_one_receipt(three_lines, users, checker):
    order = three_lines
    first, *_rest = lines_of(order)
    request = approved(order, users, {first.pk: 1})
    barrier = threading.Barrier(2)
    outcomes = []

    def receive(user):
        try:
            barrier.wait()
            return_goods.receive(request.pk, by=user, quantities={first.pk: 1})
            outcomes.append("ok")
        except return_goods.ReturnChanged:
            outcomes.append("conflict")
        finally:
            connection.close()

    threads = [
        threading.Thread(target=receive, args=(u,)) for u in (users[Role.WAREHOUSE], checker)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["conflict", "ok"]
    assert order.events.filter(code="return_received").count() == 1


def test_keeping_the_goods_with_a_partial_refund_is_due_at_once_and_paid(three_lines, users):
    order = three_lines
    _one, middle, _two = lines_of(order)
    request, _created = returns.request_return(
        order.pk, reason_code="not_as_described", quantities={middle.pk: 2}, key="k" * 32
    )
    for bad in (None, "0", "-1", "51.01", "abc"):  # two units cost 51.00
        with pytest.raises(OrderActionError):
            returns.approve_return(
                request.pk, by=users[Role.SALES], outcome="partial_refund", refund=bad
            )
    assert ReturnRequest.objects.get(pk=request.pk).status == ReturnStatus.REQUESTED
    assert not LedgerEntry.objects.filter(order=order, charge_kind=ChargeKind.RETURN).exists()
    request = returns.approve_return(
        request.pk, by=users[Role.SALES], outcome="partial_refund", refund="15.5"
    )
    assert (request.status, request.refund_amount) == (ReturnStatus.APPROVED, Decimal("15.50"))
    credit = LedgerEntry.objects.get(order=order, charge_kind=ChargeKind.RETURN)
    assert credit.amount == Decimal("-15.50")  # the goods only, no freight
    # No parcel is expected: the warehouse does not wait for it, nor is the customer
    # reminded; Sales sees it waiting for Finance.
    assert not warehouse_returns()["to_receive"]
    assert [r.pk for r in open_returns()["refund_due"]] == [request.pk]
    assert return_goods.remind_senders(now=timezone.now() + timezone.timedelta(days=30)) == 0
    finance.record_refund(
        order.pk,
        finance.MoneyMovement(
            amount=Decimal("15.50"),
            happened_on=timezone.localdate(),
            method_id=PaymentMethod.objects.get(code="bank_transfer").pk,
            refund_for="return",
            reason="Kept with a scratch",
        ),
        by=users[Role.FINANCE],
        key="keep-1",
    )
    request.refresh_from_db()
    assert (request.status, request.refund_paid) == (ReturnStatus.REFUNDED, Decimal("15.50"))
    assert balance(order) == 0
