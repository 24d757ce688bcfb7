"""The sane range of every date and time that enters O2D, decided in one place.

Forms, the carriers' webhook, the admin and the services that record times call these
checks, so "how far ahead may a delivery date be" or "how far in the future may a
tracking event claim to be" has one answer. Each check returns the value or raises
django.core.exceptions.ValidationError with a translated message; the checks work as
form-field validators as they are.
"""

from datetime import UTC, date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# Clocks drift: a carrier's or a colleague's clock may run this far from ours, so a
# tracking event may be this much "in the future", or before the recorded hand-over.
CLOCK_TOLERANCE = timedelta(minutes=10)

# Nothing in O2D happened before this: an earlier date is a typing or parsing mistake.
EARLIEST_DATE = date(2000, 1, 1)
EARLIEST_TIME = datetime(2000, 1, 1, tzinfo=UTC)


def one_year_after(day: date) -> date:
    """The same day next year (28 February for a 29 February)."""
    try:
        return day.replace(year=day.year + 1)
    except ValueError:
        return day.replace(year=day.year + 1, day=28)


def _day(value: date) -> str:
    return value.isoformat()


def check_delivery_date(value: date, *, today: date | None = None, past_message=None) -> date:
    """A delivery date asked for by a customer or Sales: from today (the business's
    local day) to one year ahead."""
    today = today or timezone.localdate()
    if value < today:
        raise ValidationError(
            past_message or _("The delivery date cannot be in the past."), code="past"
        )
    last = one_year_after(today)
    if value > last:
        raise ValidationError(
            _("Choose a delivery date within the coming year, at the latest %(last)s."),
            code="too_far",
            params={"last": _day(last)},
        )
    return value


def check_promised_date(value: date, *, today: date | None = None) -> date:
    """A delivery date promised to the customer: the same range as a requested one."""
    return check_delivery_date(
        value, today=today, past_message=_("The promised delivery date cannot be in the past.")
    )


def check_search_date(value: date, *, today: date | None = None) -> date:
    """A date to search orders by: between the system's first day and a year ahead."""
    last = one_year_after(today or timezone.localdate())
    if not EARLIEST_DATE <= value <= last:
        raise ValidationError(
            _("Enter a date between %(first)s and %(last)s."),
            code="out_of_range",
            params={"first": _day(EARLIEST_DATE), "last": _day(last)},
        )
    return value


def _as_utc(value: datetime) -> datetime | None:
    """``value`` in UTC (a naive value is read in the business's time zone), or None
    when it has no UTC equivalent (year 1 east of Greenwich, year 9999 west of it)."""
    try:
        if timezone.is_naive(value):
            value = timezone.make_aware(value, timezone.get_current_timezone())
        return value.astimezone(UTC)
    except (OverflowError, ValueError):
        return None


def check_tracking_time(
    value: datetime, *, shipped_at: datetime | None = None, now: datetime | None = None
) -> datetime:
    """When something happened to a shipment: not before it was handed to the carrier
    (``shipped_at``, when known) and not in the future, each give or take
    CLOCK_TOLERANCE; never before EARLIEST_TIME."""
    future = ValidationError(
        _("This time is in the future. Enter when it happened."), code="future"
    )
    too_old = ValidationError(
        _("This date is too far in the past. Enter when it happened."), code="too_old"
    )
    utc = _as_utc(value)
    if utc is None:  # at the very edge of the calendar
        raise too_old if value.year < EARLIEST_TIME.year else future
    if utc > (now or timezone.now()) + CLOCK_TOLERANCE:
        raise future
    handed_over = _as_utc(shipped_at) if shipped_at is not None else None
    if handed_over is not None and utc < handed_over - CLOCK_TOLERANCE:
        raise ValidationError(
            _("This is before the shipment was handed to the carrier (%(shipped)s)."),
            code="before_shipment",
            params={"shipped": timezone.localtime(shipped_at).strftime("%Y-%m-%d %H:%M")},
        )
    if utc < EARLIEST_TIME:
        raise too_old
    return value


def check_due_time(value: datetime, *, now: datetime | None = None) -> datetime:
    """A deadline set by hand (a follow-up's due time): from now to one year ahead."""
    utc = _as_utc(value)
    now = now or timezone.now()
    if utc is None or not now - CLOCK_TOLERANCE <= utc <= now + timedelta(days=365):
        raise ValidationError(
            _("Choose a time between now and one year from now."), code="out_of_range"
        )
    return value
