"""Database pieces of the review pack: a percentile aggregate and seconds between two
times, that compile for PostgreSQL (production) and SQLite (the demo) alike.

PostgreSQL has ``percentile_cont(p) WITHIN GROUP (ORDER BY expr)``; SQLite has no
percentile, so the same aggregate calls a Python aggregate function registered on
every new SQLite connection (``connection_created``), which interpolates exactly as
``percentile_cont`` does. Medians are the 0.5 percentile."""

import contextlib
import math

from django.db import DatabaseError, connection
from django.db.backends.signals import connection_created
from django.db.models import Aggregate, FloatField, Func

SQLITE_PERCENTILE = "o2d_percentile"


class _SqlitePercentile:
    """percentile_cont for SQLite: a continuous percentile with linear interpolation
    between the two nearest values (NULLs skipped; no rows: NULL)."""

    def __init__(self):
        self.values = []
        self.fraction = None

    def step(self, value, fraction):
        if value is not None:
            self.values.append(float(value))
        if self.fraction is None and fraction is not None:
            self.fraction = float(fraction)

    def finalize(self):
        return interpolate(self.values, self.fraction)


def interpolate(values, fraction):
    """The ``fraction`` percentile of ``values`` as percentile_cont computes it."""
    if not values or fraction is None:
        return None
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low, high = math.floor(position), math.ceil(position)
    if low == high:
        return ordered[low]
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def register_sqlite_functions(connection) -> None:
    """Add the Python aggregate to a SQLite connection (once per connection)."""
    if connection.vendor != "sqlite" or connection.connection is None:
        return
    raw = connection.connection
    if getattr(raw, "_o2d_percentile", False):
        return
    raw.create_aggregate(SQLITE_PERCENTILE, 2, _SqlitePercentile)
    # sqlite3.Connection takes attributes only in a subclass: else register each time.
    with contextlib.suppress(AttributeError):
        raw._o2d_percentile = True


def _on_connection_created(sender, connection, **kwargs):
    register_sqlite_functions(connection)


connection_created.connect(_on_connection_created, dispatch_uid="o2d_review_percentile")


class Percentile(Aggregate):
    """The ``fraction`` (0..1) percentile of ``expression`` over the group, continuous
    (interpolated), as a float; ``Percentile(expr, 0.5)`` is the median."""

    function = "percentile_cont"
    name = "Percentile"
    output_field = FloatField()
    allow_distinct = False
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"

    def __init__(self, expression, fraction, **extra):
        fraction = float(fraction)
        if not 0 <= fraction <= 1:
            raise ValueError("A percentile is between 0 and 1.")
        self.fraction = fraction
        super().__init__(expression, **extra)

    def as_sql(self, compiler, connection, **extra_context):
        extra_context.setdefault("fraction", repr(self.fraction))
        return super().as_sql(compiler, connection, **extra_context)

    def as_sqlite(self, compiler, connection, **extra_context):
        # A connection opened before this module was imported has no function yet.
        register_sqlite_functions(connection)
        return super().as_sql(
            compiler,
            connection,
            function=SQLITE_PERCENTILE,
            template="%(function)s(%(expressions)s, " + repr(self.fraction) + ")",
            **extra_context,
        )


class Seconds(Func):
    """The seconds in a duration expression (e.g. ``F("b") - F("a")`` of two times), as
    a float: PostgreSQL's interval through EXTRACT(EPOCH ...), SQLite's durations are
    microseconds."""

    output_field = FloatField()

    def as_sql(self, compiler, connection, **extra_context):
        return super().as_sql(
            compiler, connection, template="EXTRACT(EPOCH FROM %(expressions)s)", **extra_context
        )

    def as_sqlite(self, compiler, connection, **extra_context):
        return super().as_sql(
            compiler, connection, template="(%(expressions)s / 1000000.0)", **extra_context
        )


@contextlib.contextmanager
def without_jit():
    """PostgreSQL's JIT compilation off for the queries inside (then back to the
    server's setting). It compiles the plan of every query it estimates as costly, which
    each of the pack's aggregates over a period's rows is: on the million-order database
    this costs 20 to 100 ms a query, several hundred per pack, and saves nothing on rows the
    queries read in a few hundred milliseconds (benchmarks/README.md, "review_pack.py").
    Two queries; nothing on SQLite."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET jit = off")
    try:
        yield
    finally:
        if not connection.needs_rollback:
            # A failed statement outside atomic() leaves nothing to reset; inside one, the
            # rollback undoes the SET.
            with contextlib.suppress(DatabaseError), connection.cursor() as cursor:
                cursor.execute("RESET jit")
