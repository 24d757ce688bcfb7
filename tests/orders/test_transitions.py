"""Every transition from every source state, allowed and refused, for each role."""

import pytest

from orders import services
from orders.models import EventKind, Order, OrderEvent, Status
from orders.roles import Role

# Which role may take each transition, and from which states (the business rules).
RULES = {
    "confirm": ({Status.PLACED}, {Role.SALES}),
    "cancel": ({Status.PLACED, Status.CONFIRMED, Status.BACKORDERED}, {Role.SALES}),
    "backorder": ({Status.CONFIRMED}, {Role.WAREHOUSE}),
    "release_backorder": ({Status.BACKORDERED}, {Role.WAREHOUSE}),
    "pick": ({Status.CONFIRMED}, {Role.WAREHOUSE}),
    "ship": ({Status.PICKED}, {Role.LOGISTICS}),
    "deliver": ({Status.SHIPPED}, {Role.LOGISTICS}),
    "close": ({Status.DELIVERED}, {Role.FINANCE}),
}
TARGET = {
    "confirm": Status.CONFIRMED,
    "cancel": Status.CANCELLED,
    "backorder": Status.BACKORDERED,
    "release_backorder": Status.CONFIRMED,
    "pick": Status.PICKED,
    "ship": Status.SHIPPED,
    "deliver": Status.DELIVERED,
    "close": Status.CLOSED,
}
CASES = [(name, status, role) for name in RULES for status in Status.values for role in Role.values]


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "source", "role"), CASES)
def test_transition_matrix(name, source, role, users, order_in):
    order = order_in(source)
    sources, roles = RULES[name]
    events_before = order.events.count()
    right_state = source in sources
    right_role = role in roles or role == Role.MANAGER

    if right_state and right_role:
        services.perform_action(order.pk, name, by=users[role], note="a reason")
        order.refresh_from_db()
        assert order.status == TARGET[name]
        assert order.events.count() == events_before + 1
        return

    expected = services.TransitionNotAllowed if not right_state else services.TransitionForbidden
    with pytest.raises(expected) as refused:
        services.perform_action(order.pk, name, by=users[role], note="a reason")
    assert str(refused.value.message)
    order.refresh_from_db()
    assert order.status == source
    assert order.events.count() == events_before


@pytest.mark.django_db
def test_each_transition_writes_one_event_with_who_from_to_and_note(users, order_in):
    order = order_in(Status.PLACED)
    path = [
        ("confirm", Role.SALES),
        ("backorder", Role.WAREHOUSE),
        ("release_backorder", Role.WAREHOUSE),
        ("pick", Role.WAREHOUSE),
        ("ship", Role.LOGISTICS),
        ("deliver", Role.LOGISTICS),
        ("close", Role.FINANCE),
    ]
    for name, role in path:
        before = order.status
        services.perform_action(order.pk, name, by=users[role], note=f"note for {name}")
        event = OrderEvent.objects.filter(order=order).latest("created_at", "pk")
        assert (event.kind, event.from_status, event.to_status) == (
            EventKind.TRANSITION,
            before,
            TARGET[name],
        )
        assert event.actor == users[role]
        assert event.note == f"note for {name}"
        order.refresh_from_db()
    # placed + one per transition
    assert order.events.filter(kind=EventKind.TRANSITION).count() == 1 + len(path)


@pytest.mark.django_db
def test_cancel_and_backorder_require_a_reason(users, order_in):
    order = order_in(Status.CONFIRMED)
    for name, role in [("cancel", Role.SALES), ("backorder", Role.WAREHOUSE)]:
        with pytest.raises(services.OrderActionError):
            services.perform_action(order.pk, name, by=users[role], note="   ")
    order.refresh_from_db()
    assert order.status == Status.CONFIRMED


@pytest.mark.django_db
def test_stale_expected_status_is_refused_as_changed(users, order_in):
    order = order_in(Status.PLACED)
    services.confirm_order(order.pk, by=users[Role.SALES])
    with pytest.raises(services.OrderChanged):
        services.cancel_order(
            order.pk, by=users[Role.SALES], note="too late", expected_status=Status.PLACED
        )
    assert Order.objects.get(pk=order.pk).status == Status.CONFIRMED


@pytest.mark.django_db
def test_unknown_action_name_is_refused(users, order_in):
    order = order_in(Status.PLACED)
    with pytest.raises(services.OrderActionError):
        services.perform_action(order.pk, "delete", by=users[Role.MANAGER])
    with pytest.raises(services.OrderActionError):
        services.perform_action(order.pk, "_enter_step", by=users[Role.MANAGER])


@pytest.mark.django_db
def test_status_field_is_protected_from_direct_assignment(order_in):
    order = order_in(Status.PLACED)
    with pytest.raises(AttributeError):
        order.status = Status.CLOSED


@pytest.mark.django_db
def test_entering_a_state_restarts_the_step_clock(users, order_in):
    order = order_in(Status.PLACED)
    started = order.step_started_at
    services.confirm_order(order.pk, by=users[Role.SALES])
    order.refresh_from_db()
    assert order.step_started_at > started
    assert order.step_overdue_at is None
