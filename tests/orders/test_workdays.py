"""Working days in mainland China (orders.workdays): public holidays, adjusted working
weekends (调休) from the State Council's 2026 arrangement, and the Monday-to-Friday
fallback for a year the calendar library has no data for."""

import logging
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest
import time_machine

from orders import services, workdays
from orders.models import Status
from orders.workdays import add_working_days, is_working_day

# The 2026 adjusted working weekends, as published by the State Council.
WORKING_WEEKENDS_2026 = [
    date(2026, 1, 4),  # Sunday, for New Year's Day
    date(2026, 2, 14),  # Saturday, for Spring Festival
    date(2026, 2, 28),  # Saturday, for Spring Festival
    date(2026, 5, 9),  # Saturday, for Labour Day
    date(2026, 9, 20),  # Sunday, for National Day
    date(2026, 10, 10),  # Saturday, for National Day
]


@pytest.fixture
def fresh_fallback_log(monkeypatch):
    monkeypatch.setattr(workdays, "_years_without_data", set())


def test_library_data_matches_the_2026_working_weekends():
    weekends = [
        date(2026, 1, 1) + timedelta(days=offset)
        for offset in range(365)
        if (date(2026, 1, 1) + timedelta(days=offset)).weekday() >= 5
    ]
    assert [day for day in weekends if chinese_calendar.is_workday(day)] == WORKING_WEEKENDS_2026


@pytest.mark.parametrize("day", WORKING_WEEKENDS_2026)
def test_adjusted_working_weekend_is_a_working_day(day):
    assert day.weekday() >= 5
    assert is_working_day(day)


def test_ordinary_weekend_and_weekday():
    assert not is_working_day(date(2026, 11, 28))  # Saturday
    assert not is_working_day(date(2026, 11, 29))  # Sunday
    assert is_working_day(date(2026, 11, 30))  # Monday


def test_national_day_week_is_not_worked():
    for day in range(1, 8):
        assert not is_working_day(date(2026, 10, day)), f"2026-10-0{day}"
    assert is_working_day(date(2026, 10, 8))


def test_national_day_week_is_skipped():
    assert add_working_days(date(2026, 9, 30), 1) == date(2026, 10, 8)
    # Friday 10-09, then the adjusted working Saturday 10-10.
    assert add_working_days(date(2026, 10, 8), 2) == date(2026, 10, 10)
    assert add_working_days(date(2026, 9, 30), 4) == date(2026, 10, 12)


def test_spring_festival_is_skipped():
    for day in range(15, 24):
        assert not is_working_day(date(2026, 2, day)), f"2026-02-{day}"
    # Friday 02-13 → the adjusted working Saturday 02-14 → after the festival, 02-24.
    assert add_working_days(date(2026, 2, 13), 1) == date(2026, 2, 14)
    assert add_working_days(date(2026, 2, 13), 2) == date(2026, 2, 24)


def test_crossing_the_year_end():
    # 2026-01-01 to 01-03 are New Year holidays; Sunday 01-04 is worked.
    assert add_working_days(date(2025, 12, 31), 1) == date(2026, 1, 4)
    assert add_working_days(date(2025, 12, 31), 2) == date(2026, 1, 5)


def test_zero_days_is_the_start_itself():
    assert add_working_days(date(2026, 10, 3), 0) == date(2026, 10, 3)  # a holiday
    assert add_working_days(date(2026, 11, 30), 0) == date(2026, 11, 30)


def test_negative_days_are_refused():
    with pytest.raises(ValueError):
        add_working_days(date(2026, 11, 30), -1)


def test_year_without_data_counts_monday_to_friday_and_logs_once(fresh_fallback_log, caplog):
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(date(2030, 1, 1))
    caplog.set_level(logging.WARNING, logger="orders.workdays")

    assert is_working_day(date(2030, 10, 1))  # a Tuesday: no holiday data, so worked
    assert not is_working_day(date(2030, 10, 5))  # Saturday
    assert add_working_days(date(2030, 10, 4), 1) == date(2030, 10, 7)  # Fri → Mon
    assert add_working_days(date(2030, 12, 31), 3) == date(2031, 1, 3)

    warnings = [r.getMessage() for r in caplog.records if r.name == "orders.workdays"]
    assert len([w for w in warnings if "2030" in w]) == 1
    assert len([w for w in warnings if "2031" in w]) == 1


@pytest.mark.django_db
def test_the_online_confirmation_promises_the_lead_time_in_working_days(order_in):
    """Three working days from Wednesday 30 September 2026: the National Day week is off
    and Saturday 10 October is worked (调休), so Thursday 8, Friday 9, Saturday 10."""
    order = order_in(Status.PLACED)
    eve = datetime(2026, 9, 30, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    with time_machine.travel(eve, tick=False):
        assert services.proposed_delivery_date(order) == date(2026, 10, 10)
        order.requested_date = date(2026, 10, 12)
        assert services.proposed_delivery_date(order) == date(2026, 10, 12)
