"""Every transition from every source state, allowed and refused, for each role."""

import pytest

from orders import services
from orders.models import EventKind, Order, OrderEvent, Status
from orders.roles import Role
from tests.factories import close, deliver, promise_date, ship, through_warehouse

# Steps taken on their department's own pages rather than as generic actions.
SPECIAL = {"warehouse": through_warehouse, "ship": ship, "deliver": deliver, "close": close}
SPECIAL_TARGET = {
    "warehouse": Status.PICKED,
    "ship": Status.SHIPPED,
    "deliver": Status.DELIVERED,
    "close": Status.CLOSED,
}

# Which role may take each transition, and from which states (the business rules).
RULES = {
    "confirm": ({Status.PLACED}, {Role.SALES}),
    "cancel": ({Status.PLACED, Status.CONFIRMED, Status.BACKORDERED}, {Role.SALES}),
    "backorder": ({Status.CONFIRMED}, {Role.WAREHOUSE}),
    "release_backorder": ({Status.BACKORDERED}, {Role.WAREHOUSE}),
}
TARGET = {
    "confirm": Status.CONFIRMED,
    "cancel": Status.CANCELLED,
    "backorder": Status.BACKORDERED,
    "release_backorder": Status.CONFIRMED,
}
CASES = [(name, status, role) for name in RULES for status in Status.values for role in Role.values]


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "source", "role"), CASES)
def test_transition_matrix(name, source, role, users, order_in):
    order = order_in(source)
    sources, roles = RULES[name]
    events_before = order.events.filter(kind=EventKind.TRANSITION).count()
    right_state = source in sources
    right_role = role in roles or role == Role.MANAGER

    fields = {"promised_date": promise_date()} if name == "confirm" else {}
    if right_state and right_role:
        services.perform_action(order.pk, name, by=users[role], note="a reason", **fields)
        order.refresh_from_db()
        assert order.status == TARGET[name]
        assert order.events.filter(kind=EventKind.TRANSITION).count() == events_before + 1
        return

    expected = services.TransitionNotAllowed if not right_state else services.TransitionForbidden
    with pytest.raises(expected) as refused:
        services.perform_action(order.pk, name, by=users[role], note="a reason", **fields)
    assert str(refused.value.message)
    order.refresh_from_db()
    assert order.status == source
    assert order.events.filter(kind=EventKind.TRANSITION).count() == events_before


@pytest.mark.django_db
def test_each_transition_writes_one_event_with_who_from_to_and_note(users, order_in):
    order = order_in(Status.PLACED)
    path = [
        ("confirm", Role.SALES),
        ("backorder", Role.WAREHOUSE),
        ("release_backorder", Role.WAREHOUSE),
        ("warehouse", Role.WAREHOUSE),
        ("ship", Role.LOGISTICS),
        ("deliver", Role.LOGISTICS),
        # Closing is Finance approving the closing request (tests/finance); the
        # manager holds every role that step 7 needs, from receipt to approval.
        ("close", Role.MANAGER),
    ]
    for name, role in path:
        before = order.status
        if name in SPECIAL:
            SPECIAL[name](order, by=users[role])
            event = order.events.filter(kind=EventKind.TRANSITION).latest("created_at", "pk")
            assert (event.from_status, event.to_status) == (before, SPECIAL_TARGET[name])
            # Delivery is the carrier's word: the system takes it, not a person.
            assert event.actor == (None if name == "deliver" else users[role])
            order.refresh_from_db()
            continue
        fields = {"promised_date": promise_date()} if name == "confirm" else {}
        services.perform_action(order.pk, name, by=users[role], note=f"note for {name}", **fields)
        event = OrderEvent.objects.filter(order=order, kind=EventKind.TRANSITION).latest(
            "created_at", "pk"
        )
        assert (event.from_status, event.to_status) == (before, TARGET[name])
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
    services.confirm_order(order.pk, by=users[Role.SALES], promised_date=promise_date())
    with pytest.raises(services.OrderChanged):
        services.cancel_order(
            order.pk, by=users[Role.SALES], note="too late", expected_status=Status.PLACED
        )
    assert Order.objects.get(pk=order.pk).status == Status.CONFIRMED


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["pick", "repick", "ship", "deliver", "await_rest", "close"])
def test_warehouse_transitions_are_not_generic_actions(users, order_in, name):
    """Picking is confirmed line by line on the pick list, only a failed review sends
    goods back, shipping records a carrier and tracking number, and delivery comes from
    tracking: no role may take these as a bare button or admin action."""
    source = {"pick": Status.CONFIRMED, "deliver": Status.SHIPPED, "close": Status.DELIVERED}.get(
        name, Status.PICKED
    )
    order = order_in(source)
    with pytest.raises(services.OrderActionError):
        services.perform_action(order.pk, name, by=users[Role.MANAGER], note="x")
    assert Order.objects.get(pk=order.pk).status == order.status


@pytest.mark.django_db
def test_ship_is_refused_before_the_warehouse_review(users, order_in):
    order = order_in(Status.CONFIRMED)
    through_warehouse(order, by=users[Role.WAREHOUSE], review=False)
    assert order.status == Status.PICKED
    with pytest.raises(services.TransitionNotAllowed):
        services.ship_order(order.pk, by=users[Role.LOGISTICS])
    assert Order.objects.get(pk=order.pk).status == Status.PICKED


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
    services.confirm_order(order.pk, by=users[Role.SALES], promised_date=promise_date())
    order.refresh_from_db()
    assert order.step_started_at > started
    assert order.step_overdue_at is None


@pytest.mark.django_db
def test_confirm_needs_verified_contact_and_address(users):
    from tests.factories import place

    order = place(verified=False)
    sales = users[Role.SALES]
    with pytest.raises(services.TransitionNotAllowed):
        services.confirm_order(order.pk, by=sales, promised_date=promise_date())
    services.verify_order(order.pk, by=sales, contact=True, method="phone")
    with pytest.raises(services.TransitionNotAllowed):
        services.confirm_order(order.pk, by=sales, promised_date=promise_date())
    services.verify_order(order.pk, by=sales, address=True, method="email", note="地址已核对")
    services.confirm_order(order.pk, by=sales, promised_date=promise_date(), agreed="2 箱")
    order.refresh_from_db()
    assert order.status == Status.CONFIRMED
    assert order.promised_date == promise_date()
    promise = order.promises.get()
    assert (promise.date, promise.by, promise.agreed) == (promise_date(), sales, "2 箱")
    verified = order.events.filter(code="verified")
    assert [e.data for e in verified] == [
        {"contact": True, "address": False, "method": "phone"},
        {"contact": False, "address": True, "method": "email"},
    ]


@pytest.mark.django_db
def test_confirm_refuses_missing_or_past_promised_date(users, order_in):
    import datetime

    order = order_in(Status.PLACED)
    sales = users[Role.SALES]
    with pytest.raises(services.OrderActionError):
        services.confirm_order(order.pk, by=sales)
    with pytest.raises(services.OrderActionError):
        services.confirm_order(order.pk, by=sales, promised_date=datetime.date(2020, 1, 1))
    order.refresh_from_db()
    assert order.status == Status.PLACED
    assert not order.promises.exists()


@pytest.mark.django_db
def test_only_sales_verifies_and_only_placed_orders(users, order_in):
    order = order_in(Status.PLACED)
    with pytest.raises(services.TransitionForbidden):
        services.verify_order(order.pk, by=users[Role.WAREHOUSE], contact=True, method="phone")
    with pytest.raises(services.OrderActionError):
        services.verify_order(order.pk, by=users[Role.SALES], method="phone")
    confirmed = order_in(Status.CONFIRMED)
    with pytest.raises(services.TransitionNotAllowed):
        services.verify_order(confirmed.pk, by=users[Role.SALES], contact=True, method="phone")
