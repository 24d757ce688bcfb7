"""Step 7: the closing request opens by itself at receipt, Sales submits it, Finance
acknowledges and works it, and "close" holds only when every checklist item passes."""

from decimal import Decimal

import pytest
from django.core import mail
from django_fsm import can_proceed

from feedback.returns import request_return
from feedback.services import confirm_receipt, report_problem
from finance import selectors
from finance import services as finance
from finance.models import ChecklistOverride, ClosingRequest, RequestStatus
from logistics.models import Shipment, ShipmentStatus
from logistics.services import record_event
from orders import closing, emails
from orders.models import DeliveryChangeRequest, Notification, NotificationKind, Order, Status
from orders.roles import Role
from orders.services import OrderActionError, TransitionForbidden, TransitionNotAllowed
from tests.factories import settle

pytestmark = pytest.mark.django_db


def failing_keys(order):
    """The checklist's failing items; the database's verdict (what the Finance
    dashboard splits its queue by) must name the same ones."""
    request = ClosingRequest.objects.get(order=order)
    keys = sorted(item.check.key for item in selectors.failing(selectors.checklist(order, request)))
    verdict = selectors.verdicts(ClosingRequest.objects.filter(pk=request.pk))
    assert sorted(c.key for c in verdict[request.pk]) == keys
    return keys


def ready(order, users, **settled):
    settle(order, by=users[Role.FINANCE], **settled)
    finance.submit_request(order.pk, by=users[Role.SALES])
    finance.acknowledge_request(order.pk, by=users[Role.FINANCE])


def test_receipt_opens_the_request_for_the_salesperson_and_restarts_the_clock(order_in, users):
    order = order_in(Status.DELIVERED, salesperson=users[Role.SALES])
    assert not ClosingRequest.objects.filter(order=order).exists()
    receipt, _created = confirm_receipt(order.pk, how="customer")
    request = ClosingRequest.objects.get(order=order)
    assert request.status == RequestStatus.OPEN
    assert request.salesperson == users[Role.SALES]
    order.refresh_from_db()
    assert order.step_started_at == receipt.confirmed_at == request.opened_at
    assert order.events.filter(code="closing_opened").count() == 1
    # A second confirmation opens nothing more.
    confirm_receipt(order.pk, how="phone", by=users[Role.SALES])
    assert ClosingRequest.objects.filter(order=order).count() == 1


def test_a_settled_request_is_approved_and_the_customer_thanked(in_review, users):
    assert failing_keys(in_review) == []
    mail.outbox.clear()
    finance.approve(in_review.pk, by=users[Role.FINANCE])
    in_review.refresh_from_db()
    request = ClosingRequest.objects.get(order=in_review)
    assert in_review.status == Status.CLOSED
    assert request.status == RequestStatus.APPROVED
    assert request.approved_by == users[Role.FINANCE]
    notification = Notification.objects.get(order=in_review, kind=NotificationKind.ORDER_CLOSED)
    assert emails.deliver(notification.pk)
    message = mail.outbox[-1]
    assert message.to == [in_review.contact_email]
    assert in_review.number in message.subject
    assert in_review.get_public_url() in message.body


def test_an_unconfirmed_receipt_blocks_closing(order_in, users):
    order = order_in(Status.DELIVERED)
    assert not can_proceed(order.close)
    with pytest.raises(TransitionNotAllowed):
        finance.submit_request(order.pk, by=users[Role.SALES])
    assert Order.objects.get(pk=order.pk).status == Status.DELIVERED


@pytest.mark.parametrize(
    ("spoil", "expected"),
    [
        ("open_case", ["problem_cases"]),
        ("open_exception", ["delivery_exceptions"]),
        ("unpaid", ["balance"]),
        ("no_invoice", ["invoice"]),
        ("refund_owed", ["invoice", "refunds"]),
        ("open_return", ["returns"]),
        ("pending_change", ["change_requests"]),
        ("undelivered_shipment", ["shipments"]),
    ],
)
def test_each_failing_item_refuses_closing(received, users, spoil, expected):
    """From a request where every item passes, one thing goes wrong: the checklist names
    it, Order.close's condition does not hold, and approve refuses."""
    finance_user = users[Role.FINANCE]
    if spoil == "unpaid":
        ready(received, users, paid=0)
    elif spoil == "no_invoice":
        ready(received, users, invoiced=0)
    else:
        ready(received, users)
    if spoil == "open_case":
        report_problem(received.pk, kind="damaged", details="Broken lid", photos=[], key="k1")
    elif spoil == "open_exception":
        shipment = received.shipments.get()
        record_event(shipment.pk, type="delayed", location="Hangzhou")
    elif spoil == "open_return":
        line = received.lines.first()
        request_return(received.pk, reason_code="damaged", quantities={line.pk: 1}, key="r1")
    elif spoil == "pending_change":
        # Left waiting from before packing (nothing answers it by itself yet).
        DeliveryChangeRequest.objects.create(order=received, instructions="Call first")
    elif spoil == "undelivered_shipment":
        Shipment.objects.filter(order=received).update(status=ShipmentStatus.IN_TRANSIT)
    elif spoil == "refund_owed":
        finance.add_charge(
            received.pk,
            by=finance_user,
            charge_kind="discount",
            amount=Decimal("5.00"),
            reason="Goodwill",
            key="d1",
        )
    assert failing_keys(received) == sorted(expected)
    received.refresh_from_db()
    assert not can_proceed(received.close)
    with pytest.raises(TransitionNotAllowed):
        finance.approve(received.pk, by=finance_user)
    assert Order.objects.get(pk=received.pk).status == Status.DELIVERED
    assert ClosingRequest.objects.get(order=received).status == RequestStatus.IN_REVIEW


def test_every_required_item_is_also_asked_of_the_database(received):
    """The dashboard's verdict covers every required item, under the same label."""
    required = [check for check in closing.checklist(received) if check.required]
    conditions = closing.conditions()
    assert [c.key for c in conditions] == [c.key for c in required]
    assert [str(c.label) for c in conditions] == [str(c.label) for c in required]


def test_the_request_must_be_in_review_to_close(received, users):
    settle(received, by=users[Role.FINANCE])
    assert failing_keys(received) == []
    received.refresh_from_db()
    assert not can_proceed(received.close)  # still with Sales
    finance.submit_request(received.pk, by=users[Role.SALES])
    with pytest.raises(TransitionNotAllowed):
        finance.approve(received.pk, by=users[Role.FINANCE])  # not acknowledged
    finance.acknowledge_request(received.pk, by=users[Role.FINANCE])
    finance.approve(received.pk, by=users[Role.FINANCE])
    assert Order.objects.get(pk=received.pk).status == Status.CLOSED


def test_a_manager_overrides_one_item_only_with_a_reason(received, users):
    ready(received, users, invoiced=0)
    manager = users[Role.MANAGER]
    with pytest.raises(OrderActionError):
        finance.override_item(received.pk, by=manager, key="invoice", reason="   ")
    with pytest.raises(TransitionForbidden):
        finance.override_item(received.pk, by=users[Role.FINANCE], key="invoice", reason="x")
    with pytest.raises(OrderActionError):
        finance.override_item(received.pk, by=manager, key="no-such-item", reason="x")
    assert not ChecklistOverride.objects.exists()

    finance.override_item(
        received.pk, by=manager, key="invoice", reason="Customer declined a fapiao in writing."
    )
    override = ChecklistOverride.objects.get()
    assert (override.key, override.by) == ("invoice", manager)
    event = received.events.get(code="closing_override")
    assert event.note == "Customer declined a fapiao in writing."
    assert failing_keys(received) == []
    finance.approve(received.pk, by=users[Role.FINANCE])
    assert Order.objects.get(pk=received.pk).status == Status.CLOSED


def test_send_back_returns_the_request_to_sales_with_the_reason(received, users):
    finance.submit_request(received.pk, by=users[Role.SALES], note="All attached")
    with pytest.raises(OrderActionError):
        finance.send_back(received.pk, by=users[Role.FINANCE], reason="")
    finance.send_back(received.pk, by=users[Role.FINANCE], reason="Payment proof missing")
    request = ClosingRequest.objects.get(order=received)
    assert request.status == RequestStatus.SENT_BACK
    assert request.sent_back_reason == "Payment proof missing"
    rows = selectors.requests_in([RequestStatus.SENT_BACK, RequestStatus.OPEN])
    assert [row.request.order_id for row in rows] == [received.pk]
    # Sales completes it and submits again; Finance acknowledges (who, when).
    finance.submit_request(received.pk, by=users[Role.SALES], note="Proof added")
    finance.acknowledge_request(received.pk, by=users[Role.FINANCE])
    request.refresh_from_db()
    assert request.status == RequestStatus.IN_REVIEW
    assert request.acknowledged_by == users[Role.FINANCE]
    assert request.acknowledged_at is not None


def test_a_stale_page_changes_nothing(received, users):
    finance.submit_request(received.pk, by=users[Role.SALES])
    finance.acknowledge_request(received.pk, by=users[Role.FINANCE])
    with pytest.raises(OrderActionError):
        finance.send_back(
            received.pk,
            by=users[Role.FINANCE],
            reason="late click",
            expected=RequestStatus.SUBMITTED,
        )
    assert ClosingRequest.objects.get(order=received).status == RequestStatus.IN_REVIEW


def test_only_sales_submits_and_only_finance_works_the_request(received, users):
    with pytest.raises(TransitionForbidden):
        finance.submit_request(received.pk, by=users[Role.WAREHOUSE])
    finance.submit_request(received.pk, by=users[Role.SALES])
    for role in (Role.SALES, Role.WAREHOUSE, Role.LOGISTICS):
        with pytest.raises(TransitionForbidden):
            finance.acknowledge_request(received.pk, by=users[role])
    assert ClosingRequest.objects.get(order=received).status == RequestStatus.SUBMITTED


def test_closing_requests_are_never_deleted(received):
    from finance.models import RefusedDeletion

    with pytest.raises(RefusedDeletion):
        ClosingRequest.objects.get(order=received).delete()
    with pytest.raises(RefusedDeletion):
        ClosingRequest.objects.all().delete()
