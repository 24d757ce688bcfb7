"""The step clock and the deadline sweep, tested by moving the clock."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from orders import services
from orders.clock import ClockState, clock_for
from orders.models import EventKind, ProcessStep, Status
from orders.roles import Role
from tests.factories import place


@pytest.fixture
def t0():
    return timezone.now().replace(microsecond=0)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("hours", "state"),
    [
        (1, ClockState.ON_TIME),
        (17.9, ClockState.ON_TIME),
        (18, ClockState.DUE_SOON),  # 75 % of 24 h
        (23.9, ClockState.DUE_SOON),
        (24, ClockState.LATE),
        (25, ClockState.LATE),
    ],
)
def test_confirmation_clock_against_its_24_hour_target(t0, hours, state):
    with time_machine.travel(t0, tick=False):
        order = place()
    with time_machine.travel(t0 + timedelta(hours=hours), tick=False):
        clock = clock_for(order)
    assert clock.step.code == "confirmation"
    assert clock.state == state
    assert clock.due_at == t0 + timedelta(hours=24)


@pytest.mark.django_db
def test_admin_change_of_target_changes_the_clock(t0):
    with time_machine.travel(t0, tick=False):
        order = place()
    ProcessStep.objects.filter(code="confirmation").update(target=timedelta(hours=4))
    with time_machine.travel(t0 + timedelta(hours=5), tick=False):
        assert clock_for(order).state == ClockState.LATE


@pytest.mark.django_db
def test_closed_and_cancelled_orders_have_no_clock(order_in):
    assert clock_for(order_in(Status.CLOSED)) is None
    assert clock_for(order_in(Status.CANCELLED)) is None


@pytest.mark.django_db
def test_each_state_runs_the_clock_of_its_step(order_in):
    expected = {
        Status.PLACED: "confirmation",
        Status.CONFIRMED: "processing",
        Status.BACKORDERED: "processing",
        Status.PICKED: "shipping",
        Status.SHIPPED: "tracking",
        Status.DELIVERED: "closing",
    }
    for status, code in expected.items():
        assert clock_for(order_in(status)).step.code == code


@pytest.mark.django_db
def test_sweep_at_23_25_hours_and_again(t0, users):
    with time_machine.travel(t0, tick=False):
        order = place()
    with time_machine.travel(t0 + timedelta(hours=23), tick=False):
        assert services.mark_overdue_steps() == 0
    with time_machine.travel(t0 + timedelta(hours=25), tick=False):
        assert services.mark_overdue_steps() == 1
        assert services.mark_overdue_steps() == 0  # once per step, however often it runs
    events = order.events.filter(kind=EventKind.SYSTEM, code="step_overdue")
    assert events.count() == 1
    assert events.get().data["step"] == "confirmation"
    assert not events.get().public

    # Confirming starts a new step with a fresh clock; it can be late again later.
    with time_machine.travel(t0 + timedelta(hours=26), tick=False):
        services.confirm_order(
            order.pk, by=users[Role.SALES], promised_date=timezone.localdate() + timedelta(days=3)
        )
    with time_machine.travel(t0 + timedelta(hours=26 + 25), tick=False):
        assert services.mark_overdue_steps() == 1
    assert order.events.filter(code="step_overdue").count() == 2


@pytest.mark.django_db
def test_order_page_shows_the_clock_of_the_current_step(client, users, t0):
    with time_machine.travel(t0, tick=False):
        order = place()
    client.force_login(users[Role.SALES])
    with time_machine.travel(t0 + timedelta(hours=20), tick=False):
        html = client.get(order.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en").text
    assert 'id="step-clock"' in html
    assert "Order confirmation" in html
    assert "clock-due_soon" in html
    assert "83% of the target time used" in html
