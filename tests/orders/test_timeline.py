import pytest
from django.db import connection, transaction
from django.db.utils import InternalError

from orders import services
from orders.models import (
    EventKind,
    ImmutableEventError,
    Order,
    OrderDeletionRefused,
    OrderEvent,
    Status,
)
from orders.roles import Role
from tests.factories import place


@pytest.mark.django_db
def test_placing_writes_the_first_public_event(order_in):
    order = place(verified=False)
    (event,) = order.events.all()
    assert (event.kind, event.from_status, event.to_status, event.public) == (
        EventKind.TRANSITION,
        "",
        Status.PLACED,
        True,
    )
    assert event.data == {"channel": "phone"}


@pytest.mark.django_db
def test_events_cannot_be_changed_or_deleted_through_the_orm(order_in):
    event = order_in(Status.PLACED).events.first()
    event.note = "rewritten"
    with pytest.raises(ImmutableEventError):
        event.save()
    with pytest.raises(ImmutableEventError):
        event.delete()
    with pytest.raises(ImmutableEventError):
        OrderEvent.objects.filter(pk=event.pk).update(note="x")
    with pytest.raises(ImmutableEventError):
        OrderEvent.objects.all().delete()


@pytest.mark.django_db
def test_orders_cannot_be_deleted_through_the_orm(order_in):
    order = order_in(Status.CANCELLED)
    with pytest.raises(OrderDeletionRefused):
        order.delete()
    with pytest.raises(OrderDeletionRefused):
        Order.objects.all().delete()
    assert Order.objects.filter(pk=order.pk).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE orders_orderevent SET note = 'forged' WHERE order_id = %s",
        "DELETE FROM orders_orderevent WHERE order_id = %s",
        "DELETE FROM orders_order WHERE id = %s",
    ],
)
def test_database_refuses_rewriting_history_even_bypassing_the_orm(sql, order_in):
    order = order_in(Status.CONFIRMED)
    with (
        pytest.raises(InternalError, match="not allowed"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, [order.pk])
    assert order.events.count() == 4  # placed, verified, confirmed, goods charged
    assert not order.events.filter(note="forged").exists()


@pytest.mark.django_db
def test_every_department_can_comment_and_sees_the_others(users, order_in):
    order = order_in(Status.CONFIRMED)
    for role in (Role.SALES, Role.WAREHOUSE, Role.LOGISTICS, Role.FINANCE):
        services.add_comment(order.pk, by=users[role], text=f"from {role}")
    comments = order.events.filter(kind=EventKind.COMMENT)
    assert [c.note for c in comments] == [
        "from Sales",
        "from Warehouse",
        "from Logistics",
        "from Finance",
    ]
    assert not comments.filter(public=True).exists()
    assert Order.objects.get(pk=order.pk).status == Status.CONFIRMED


@pytest.mark.django_db
@pytest.mark.parametrize("text", ["", "   ", "x" * (services.COMMENT_MAX_LENGTH + 1)])
def test_empty_or_huge_comments_are_refused(text, users, order_in):
    order = order_in(Status.PLACED)
    with pytest.raises(services.OrderActionError):
        services.add_comment(order.pk, by=users[Role.SALES], text=text)
    assert not order.events.filter(kind=EventKind.COMMENT).exists()


@pytest.mark.django_db
def test_user_without_role_cannot_comment(order_in):
    from tests.factories import make_user

    order = order_in(Status.PLACED)
    with pytest.raises(services.TransitionForbidden):
        services.add_comment(order.pk, by=make_user(None), text="hello")
