"""Read any date or time the database holds, however absurd.

PostgreSQL keeps years 4713 BC to 294276 AD; Python's datetime only 1 to 9999. A time
stored before orders.validators guarded the inputs (0001-01-01 in Shanghai time is
1 BC in UTC) made every page that read it fail with "year -1 is out of range", and a
time on the last day of year 9999 fails when shown in local time. Such values are read
as the nearest time that every page can still show and compute with, so one bad row
cannot take an order's pages down. Only readings change: nothing is written back.
"""

from datetime import UTC, date, datetime

# A year inside Python's range, so that what pages do with a time still works: show it
# in local time (UTC-12 to UTC+14), add a step's target (at most 365 days) to it.
FIRST_READABLE_TIME = datetime(2, 1, 1, tzinfo=UTC)
LAST_READABLE_TIME = datetime(9998, 12, 31, tzinfo=UTC)
FIRST_READABLE_DATE = date(2, 1, 1)
LAST_READABLE_DATE = date(9998, 12, 31)

TIMESTAMPTZ_OID = 1184
DATE_OID = 1082


def _caster(parse, first, last):
    def cast(raw, cursor):
        if raw is None:
            return None
        try:
            value = parse(raw, cursor)
        except (ValueError, OverflowError):  # BC, or a year after 9999
            return first if raw.endswith("BC") else last
        if isinstance(value, datetime) and value.tzinfo is None:  # "infinity"
            value = value.replace(tzinfo=UTC)
        if value < first:
            return first
        if value > last:
            return last
        return value

    return cast


def install(sender=None, connection=None, **kwargs):
    """Register the forgiving readers on a new database connection (connect it to
    django.db.backends.signals.connection_created)."""
    if connection is None or connection.vendor != "postgresql":
        return
    from django.db.backends.postgresql.psycopg_any import is_psycopg3

    if is_psycopg3:  # pragma: no cover - the project runs psycopg2 (see requirements)
        return
    import psycopg2.extensions as pg

    raw = connection.connection
    for oid, name, parse, first, last in (
        (
            TIMESTAMPTZ_OID,
            "O2D_TIMESTAMPTZ",
            pg.PYDATETIMETZ,
            FIRST_READABLE_TIME,
            LAST_READABLE_TIME,
        ),
        (DATE_OID, "O2D_DATE", pg.PYDATE, FIRST_READABLE_DATE, LAST_READABLE_DATE),
    ):
        pg.register_type(pg.new_type((oid,), name, _caster(parse, first, last)), raw)
