"""Returns and exchanges, the request and Sales' decision: lines and quantities within
what was delivered, a reason whose window (days after delivery) decides what may be
asked, one open return per order, approval (whole or part) with an RMA number or a
refusal with a reason, each on the timeline and emailed in the customer's language;
an open return keeps the order from closing."""

import threading
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.utils import timezone, translation

from feedback import returns
from feedback.models import ReturnLine, ReturnPhoto, ReturnReason, ReturnRequest, ReturnStatus
from feedback.photos import check_photo
from feedback.services import confirm_receipt
from finance import selectors as finance_selectors
from finance.models import ClosingRequest
from orders import emails
from orders.models import Notification, NotificationKind, Status
from orders.roles import Role
from orders.services import OrderActionError, TransitionForbidden, TransitionNotAllowed

from .conftest import photo

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def lines_of(order):
    return list(order.lines.order_by("pk"))


def ask(order, *, key="k" * 32, reason="damaged", quantities=None, by=None, now=None, **kwargs):
    if quantities is None:
        quantities = {line.pk: 1 for line in lines_of(order)}
    return returns.request_return(
        order.pk, reason_code=reason, quantities=quantities, key=key, by=by, now=now, **kwargs
    )


def test_the_customer_asks_and_the_request_waits_for_sales(delivered, users):
    (line,) = lines_of(delivered)
    pic = check_photo(photo())
    request, created = ask(
        delivered, quantities={line.pk: 2}, details="两个杯子都碎了", photos=[pic]
    )
    assert created
    assert request.status == ReturnStatus.REQUESTED
    assert request.owner == users[Role.SALES]
    assert request.channel == "customer"
    assert request.rma_number is None
    assert [(rl.line_id, rl.quantity) for rl in request.lines.all()] == [(line.pk, 2)]
    assert ReturnPhoto.objects.filter(request=request).count() == 1
    event = delivered.events.get(code="return_requested")
    assert event.public
    assert event.data["units"] == 2
    notification = Notification.objects.get(order=delivered, kind=NotificationKind.RETURN_RECEIVED)
    message = emails.render_notification(notification)
    assert delivered.number in message.subject
    assert "× 2" in message.body


def test_the_same_form_twice_opens_one_request(delivered):
    first, created = ask(delivered)
    again, created_again = ask(delivered)
    assert created and not created_again
    assert first == again
    assert ReturnRequest.objects.count() == 1


def test_a_second_open_return_is_refused(delivered):
    ask(delivered, quantities={lines_of(delivered)[0].pk: 1})
    with pytest.raises(TransitionNotAllowed, match="already open"):
        ask(delivered, key="x" * 32, quantities={lines_of(delivered)[0].pk: 1})


@pytest.mark.parametrize(
    ("quantities", "message"),
    [
        ("empty", "at least one item"),
        ("zero", "at least one item"),
        ("three", "At most 2"),
        ("negative", "whole number"),
        ("other", "goods of this order"),
    ],
)
def test_quantities_are_checked_and_nothing_is_written(delivered, quantities, message):
    (line,) = lines_of(delivered)
    quantities = {
        "empty": {},
        "zero": {line.pk: 0},
        "three": {line.pk: 3},
        "negative": {line.pk: -1},
        "other": {line.pk + 999: 1},
    }[quantities]
    with pytest.raises(OrderActionError, match=message):
        ask(delivered, quantities=quantities)
    assert not ReturnRequest.objects.exists()
    assert not ReturnLine.objects.exists()
    assert not delivered.events.filter(code="return_requested").exists()


def test_what_was_returned_cannot_be_asked_again(delivered, users):
    (line,) = lines_of(delivered)  # two units delivered
    request, _created = ask(delivered, quantities={line.pk: 1})
    returns.approve_return(request.pk, by=users[Role.SALES], outcome="refund")
    assert returns.returnable(delivered) == {line.pk: 1}
    # The approved return is still open (goods on their way): no second one yet.
    with pytest.raises(TransitionNotAllowed, match="already open"):
        ask(delivered, key="y" * 32, quantities={line.pk: 1})


def test_a_refused_request_gives_its_units_back(delivered, users):
    (line,) = lines_of(delivered)
    request, _created = ask(delivered, quantities={line.pk: 2})
    assert returns.returnable(delivered) == {line.pk: 0}
    returns.refuse_return(request.pk, by=users[Role.SALES], answer="Used goods cannot return.")
    assert returns.returnable(delivered) == {line.pk: 2}
    second, created = ask(delivered, key="z" * 32, quantities={line.pk: 2})
    assert created and second.pk != request.pk


def test_the_window_depends_on_the_reason(delivered):
    delivered_at = returns.delivered_at(delivered)
    changed_mind = ReturnReason.objects.get(code="changed_mind")
    damaged = ReturnReason.objects.get(code="damaged")
    assert (changed_mind.window_days, damaged.window_days) == (7, 30)
    late = delivered_at + timedelta(days=8)
    with pytest.raises(TransitionNotAllowed, match="contact Sales"):
        ask(delivered, reason="changed_mind", now=late)
    assert not ReturnRequest.objects.exists()
    request, created = ask(delivered, reason="damaged", now=late)
    assert created and request.reason == damaged


def test_the_window_closes_at_its_last_moment(delivered):
    closes = returns.delivered_at(delivered) + timedelta(days=7)
    window = next(w for w in returns.windows(delivered) if w.reason.code == "changed_mind")
    assert window.closes_at == closes
    assert window.is_open(closes)
    assert not window.is_open(closes + timedelta(seconds=1))
    _request, created = ask(delivered, reason="changed_mind", now=closes)
    assert created


def test_no_return_before_delivery_or_of_an_inactive_reason(order_in, delivered):
    shipped = order_in(Status.SHIPPED)
    with pytest.raises(TransitionNotAllowed, match="once they are delivered"):
        ask(shipped)
    ReturnReason.objects.filter(code="damaged").update(active=False)
    with pytest.raises(OrderActionError, match="Choose why"):
        ask(delivered)


def test_sales_records_a_phone_request_and_other_roles_may_not(delivered, users):
    request, _created = ask(delivered, by=users[Role.SALES])
    assert request.channel == "phone"
    assert request.recorded_by == users[Role.SALES]
    with pytest.raises(TransitionForbidden):
        ask(delivered, key="w" * 32, by=users[Role.WAREHOUSE])


def test_approval_in_part_gives_an_rma_number_and_tells_the_customer(delivered, users):
    (line,) = lines_of(delivered)
    request, _created = ask(delivered, quantities={line.pk: 2})
    approved = returns.approve_return(
        request.pk,
        by=users[Role.SALES],
        outcome="exchange",
        approved={line.pk: 1},
        answer="One cup is broken; we exchange it.",
    )
    assert approved.status == ReturnStatus.APPROVED
    assert approved.rma_number == f"R{delivered.number}-1"
    assert approved.lines.get().approved_quantity == 1
    event = delivered.events.get(code="return_approved_in_part")
    assert event.public and event.note == "One cup is broken; we exchange it."
    notification = Notification.objects.get(order=delivered, kind=NotificationKind.RETURN_APPROVED)
    with translation.override("zh-hans"):
        message = emails.render_notification(notification)
    assert approved.rma_number in message.subject
    assert "One cup is broken" in message.body
    assert "× 1" in message.body


def test_the_customer_reads_the_approval_in_their_language(delivered, users):
    delivered.contact_language = "zh-hans"
    delivered.save(update_fields=["contact_language"])
    request, _created = ask(delivered)
    returns.approve_return(request.pk, by=users[Role.SALES], outcome="refund")
    notification = Notification.objects.get(order=delivered, kind=NotificationKind.RETURN_APPROVED)
    message = emails.render_notification(notification)
    assert "退" in message.subject
    assert "Dear" not in message.body


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"outcome": "gift"}, "what happens next"),
        ({"outcome": "refund", "approved": "more"}, "at most the units"),
        ({"outcome": "refund", "approved": "none"}, "at least one unit"),
        ({"outcome": "refund", "answer": "x" * 2001}, "at most 2000"),
    ],
)
def test_a_bad_approval_changes_nothing(delivered, users, kwargs, message):
    (line,) = lines_of(delivered)
    request, _created = ask(delivered, quantities={line.pk: 1})
    kwargs = dict(kwargs)
    if "approved" in kwargs:
        kwargs["approved"] = {line.pk: 2} if kwargs["approved"] == "more" else {line.pk: 0}
    with pytest.raises(OrderActionError, match=message):
        returns.approve_return(request.pk, by=users[Role.SALES], **kwargs)
    request.refresh_from_db()
    assert request.status == ReturnStatus.REQUESTED
    assert request.lines.get().approved_quantity is None


def test_a_refusal_needs_a_reason_and_only_sales_decides(delivered, users):
    request, _created = ask(delivered)
    with pytest.raises(OrderActionError, match="reason"):
        returns.refuse_return(request.pk, by=users[Role.SALES], answer="  ")
    with pytest.raises(TransitionForbidden):
        returns.refuse_return(request.pk, by=users[Role.FINANCE], answer="No")
    with pytest.raises(TransitionForbidden):
        returns.approve_return(request.pk, by=users[Role.WAREHOUSE], outcome="refund")
    refused = returns.refuse_return(request.pk, by=users[Role.SALES], answer="The seal was opened.")
    assert refused.status == ReturnStatus.REFUSED
    notification = Notification.objects.get(order=delivered, kind=NotificationKind.RETURN_REFUSED)
    assert "The seal was opened." in emails.render_notification(notification).body
    with pytest.raises(returns.ReturnChanged):
        returns.approve_return(request.pk, by=users[Role.SALES], outcome="refund")


@pytest.mark.django_db(transaction=True)
def test_two_people_deciding_at_once_decide_once(delivered, users):
    request, _created = ask(delivered)
    barrier = threading.Barrier(2)
    outcomes = []

    def decide(action):
        try:
            barrier.wait()
            if action == "approve":
                returns.approve_return(request.pk, by=users[Role.SALES], outcome="refund")
            else:
                returns.refuse_return(request.pk, by=users[Role.MANAGER], answer="No.")
            outcomes.append(action)
        except returns.ReturnChanged:
            outcomes.append("refused by the lock")
        finally:
            connection.close()

    threads = [threading.Thread(target=decide, args=(a,)) for a in ("approve", "refuse")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes).count("refused by the lock") == 1
    request.refresh_from_db()
    decided = delivered.events.filter(code__in=["return_approved", "return_refused"])
    assert decided.count() == 1
    assert request.status in (ReturnStatus.APPROVED, ReturnStatus.REFUSED)


def test_an_open_return_keeps_the_order_from_closing(delivered, users):
    confirm_receipt(delivered.pk, how="phone", by=users[Role.SALES], note="ok")
    request, _created = ask(delivered)
    closing = ClosingRequest.objects.get(order=delivered)
    checklist = finance_selectors.checklist(delivered, closing)
    failing = [item.check.key for item in finance_selectors.failing(checklist)]
    assert "returns" in failing
    item = next(i for i in checklist if i.check.key == "returns")
    assert item.check.links[0][1].endswith(f"#return-{request.pk}")
    returns.refuse_return(request.pk, by=users[Role.SALES], answer="Outside the rules.")
    checklist = finance_selectors.checklist(delivered, closing)
    assert "returns" not in [item.check.key for item in finance_selectors.failing(checklist)]


def test_the_window_counts_in_days_after_the_delivery_whatever_the_hour(delivered):
    # Delivered at any hour, a 7-day window closes 7 x 24 hours later.
    with time_machine.travel(returns.delivered_at(delivered) + timedelta(days=6, hours=23)):
        assert ask(delivered, reason="changed_mind")[1]
    assert timezone.now() >= returns.delivered_at(delivered)
