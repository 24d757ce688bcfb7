"""Confirming receipt: by the customer, by Sales after a phone call, once only, and
only for delivered orders."""

import pytest
from django.utils import translation

from feedback import services
from feedback.models import Receipt, ReceiptMethod
from orders.models import OrderEvent, Status
from orders.roles import Role
from orders.services import TransitionForbidden, TransitionNotAllowed


@pytest.mark.django_db
def test_customer_confirms_receipt_once_on_the_timeline(delivered):
    receipt, created = services.confirm_receipt(delivered.pk, how=ReceiptMethod.CUSTOMER)
    assert created
    assert (receipt.how, receipt.by) == ("customer", None)
    again, created_again = services.confirm_receipt(delivered.pk, how=ReceiptMethod.CUSTOMER)
    assert (again.pk, created_again) == (receipt.pk, False)
    events = OrderEvent.objects.filter(order=delivered, code="receipt_confirmed")
    assert events.count() == 1
    event = events.get()
    assert event.public
    with translation.override("en"):
        assert event.message == "The customer confirmed receipt"
    delivered.refresh_from_db()
    assert delivered.status == Status.DELIVERED  # closing is Finance's step


@pytest.mark.django_db
def test_sales_records_a_phone_confirmation_with_a_note(delivered, users):
    receipt, created = services.confirm_receipt(
        delivered.pk, how=ReceiptMethod.PHONE, by=users[Role.SALES], note="  客户电话确认  "
    )
    assert created
    assert (receipt.how, receipt.by, receipt.note) == ("phone", users[Role.SALES], "客户电话确认")
    event = OrderEvent.objects.get(order=delivered, code="receipt_confirmed_by_phone")
    assert (event.actor, event.note, event.public) == (users[Role.SALES], "客户电话确认", True)
    with translation.override("en"):
        assert event.message == "Receipt confirmed by phone"


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.WAREHOUSE, Role.LOGISTICS, Role.FINANCE])
def test_other_roles_may_not_record_a_phone_confirmation(delivered, users, role):
    with pytest.raises(TransitionForbidden):
        services.confirm_receipt(delivered.pk, how=ReceiptMethod.PHONE, by=users[role])
    assert not Receipt.objects.exists()


@pytest.mark.django_db
def test_phone_confirmation_without_a_user_is_refused(delivered):
    with pytest.raises(TransitionForbidden):
        services.confirm_receipt(delivered.pk, how=ReceiptMethod.PHONE, by=None)


@pytest.mark.django_db
def test_manager_may_record_a_phone_confirmation(delivered, users):
    _receipt, created = services.confirm_receipt(
        delivered.pk, how=ReceiptMethod.PHONE, by=users[Role.MANAGER]
    )
    assert created


@pytest.mark.django_db
@pytest.mark.parametrize(
    "status",
    [
        Status.PLACED,
        Status.CONFIRMED,
        Status.BACKORDERED,
        Status.PICKED,
        Status.SHIPPED,
        Status.CANCELLED,
    ],
)
def test_receipt_is_refused_unless_delivered(order_in, status):
    order = order_in(status)
    with pytest.raises(TransitionNotAllowed) as refused:
        services.confirm_receipt(order.pk, how=ReceiptMethod.CUSTOMER)
    assert order.number in refused.value.message
    assert not Receipt.objects.exists()
    assert not OrderEvent.objects.filter(order=order, code__startswith="receipt").exists()


@pytest.mark.django_db
def test_unknown_method_and_overlong_note_are_refused(delivered, users):
    from orders.services import OrderActionError

    with pytest.raises(OrderActionError):
        services.confirm_receipt(delivered.pk, how="telepathy")
    with pytest.raises(OrderActionError):
        services.confirm_receipt(
            delivered.pk, how=ReceiptMethod.PHONE, by=users[Role.SALES], note="x" * 2001
        )
    assert not Receipt.objects.exists()


@pytest.mark.django_db
def test_a_second_confirmation_by_phone_keeps_the_customers(delivered, users):
    first, _ = services.confirm_receipt(delivered.pk, how=ReceiptMethod.CUSTOMER)
    second, created = services.confirm_receipt(
        delivered.pk, how=ReceiptMethod.PHONE, by=users[Role.SALES], note="later call"
    )
    assert (second.pk, second.how, created) == (first.pk, "customer", False)
    assert OrderEvent.objects.filter(order=delivered, code__startswith="receipt_").count() == 1
