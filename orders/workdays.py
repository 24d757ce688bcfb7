"""Working days in mainland China, for promised delivery dates and carrier transit.

A working day is one the State Council's yearly holiday arrangement says people work:
Monday to Friday, less the public holidays (Spring Festival, National Day...), plus the
adjusted working weekends (调休) that pay for the long holiday weeks. In 2026 those
Saturdays and Sundays are 01-04, 02-14, 02-28, 05-09, 09-20 and 10-10.

The calendar comes from chinesecalendar (``import chinese_calendar``), chosen over
python-holidays (``holidays.China``), both compared with 2026 (chinesecalendar 1.11.0,
holidays 0.109):

- chinesecalendar is made for exactly this question: a table per year, from 2004, of
  every holiday and every adjusted working weekend as announced, with no dependencies.
  ``is_workday(date(2026, 10, 1))`` is False, ``is_workday(date(2026, 10, 10))`` (a
  Saturday) is True. For a year whose arrangement it does not hold it raises
  NotImplementedError ("no available data for year 2027, only year between [2004,
  2026] supported"), so we know we are guessing.
- holidays.China lists the 2026 holidays and, in recent releases, the adjusted
  weekends too (``weekend_workdays``, ``is_working_day``) with the same 2026 dates.
  But for a year not yet announced it answers silently from fixed rules (2027: no
  adjusted weekend at all, festival days only), indistinguishable from real data, and
  it brings python-dateutil and a large multi-country package for one country.

The State Council announces next year's arrangement each autumn; chinesecalendar
releases it soon after: raise the pin in requirements.txt then. Until then a year
without data counts Monday to Friday (logged once per year and process), so a date
far ahead never raises.
"""

import logging
from datetime import date, timedelta

import chinese_calendar

logger = logging.getLogger(__name__)

_years_without_data: set[int] = set()


def is_working_day(day: date) -> bool:
    """Whether ``day`` is a working day in mainland China (holidays and 调休 included).

    A year chinesecalendar has no arrangement for counts Monday to Friday."""
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        if day.year not in _years_without_data:
            _years_without_data.add(day.year)
            logger.warning(
                "No holiday calendar for %s (chinesecalendar %s): counting Monday to "
                "Friday as working days. Upgrade chinesecalendar once the year's "
                "arrangement is published.",
                day.year,
                chinese_calendar.__version__,
            )
        return day.weekday() < 5


def add_working_days(start: date, n: int) -> date:
    """The date ``n`` working days after ``start``: each day after ``start`` that is a
    working day counts one. ``n == 0`` returns ``start`` itself, whatever day it is.
    Raises ValueError for a negative ``n``."""
    if n < 0:
        raise ValueError("add_working_days counts forward only (n >= 0).")
    day = start
    while n > 0:
        day += timedelta(days=1)
        if is_working_day(day):
            n -= 1
    return day
