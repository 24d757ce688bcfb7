"""The process review pack: how the order-to-delivery process really ran in a period.

``orders`` builds the steps' figures from the step runs (``pack.build_pack``); each
department adds its own sections (hand-off waits, rework, customer scores...) through
this registry, as it adds closing checks (``orders.closing``) and panels
(``orders.panels``), so that ``orders`` knows none of them. A department registers a
provider from its AppConfig.ready():

    review.register(provider, position=20)

``provider(start_dt, end_dt)`` (aware datetimes, the end excluded) returns a Section
or a list of them, computed in a constant number of queries, in the database (the
pack must stay fast at a million orders). Sections sharing a ``key`` are merged into
one table, rows in provider order: ``HANDOFFS`` (the waits between departments) and
``REWORK`` (what had to be done again) are such shared tables, with the columns
given here.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.db.models import Case, Count, FloatField, Max, When
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .db import Percentile, Seconds  # (db registers the SQLite percentile on connections)

__all__ = ["Percentile", "Seconds"]

HANDOFFS = "handoffs"
REWORK = "rework"


@dataclass(frozen=True)
class Duration:
    """A time in seconds, shown as staff say it ("3 h 20 min", "2 d 4 h")."""

    seconds: float | None

    def __str__(self):
        return format_duration(self.seconds)

    @property
    def value(self):
        return None if self.seconds is None else round(self.seconds)

    unit = "s"


@dataclass(frozen=True)
class Share:
    """A part of a whole, shown as a percentage."""

    part: int
    whole: int

    def __str__(self):
        if not self.whole:
            return "—"
        return f"{100 * self.part / self.whole:.1f}%"

    @property
    def value(self):
        return None if not self.whole else round(100 * self.part / self.whole, 2)

    unit = "%"


@dataclass(frozen=True)
class Number:
    """A figure with decimals (an average score)."""

    number: float | None
    places: int = 2

    def __str__(self):
        return "—" if self.number is None else f"{self.number:.{self.places}f}"

    @property
    def value(self):
        return None if self.number is None else round(self.number, self.places)

    unit = ""


@dataclass(frozen=True)
class Link:
    """Text linking to a page (e.g. an order number to the order)."""

    text: str
    url: str

    def __str__(self):
        return str(self.text)


@dataclass(frozen=True)
class Flag:
    """A marked cell (e.g. a late action item): shown as a badge."""

    text: str

    def __str__(self):
        return str(self.text)


@dataclass
class Section:
    """One table of the pack: ``columns`` are the headers, each row a list of cells
    (str, int, Duration, Share, Number, Link, Flag; the first names the item), an
    optional chart (orders.charts.Chart) drawn from the same figures."""

    title: str
    columns: list
    rows: list = field(default_factory=list)
    key: str = ""
    note: str = ""
    chart: object = None
    empty: str = _("Nothing in this period.")

    @property
    def header(self) -> list[tuple[str, bool]]:
        """(column, numeric): a column is numeric when a cell of it is (right-aligned)."""
        numeric = [False] * len(self.columns)
        for row in self.table:
            for i, cell in enumerate(row[: len(numeric)]):
                numeric[i] = numeric[i] or (i > 0 and cell.numeric)
        return list(zip(self.columns, numeric, strict=False))

    @property
    def table(self) -> list[list["Cell"]]:
        """The rows as the templates show them."""
        return [[Cell.of(cell) for cell in row] for row in self.rows]


@dataclass(frozen=True)
class Cell:
    text: str
    url: str = ""
    flag: bool = False
    numeric: bool = False

    @classmethod
    def of(cls, cell) -> "Cell":
        if isinstance(cell, Link):
            return cls(str(cell), url=cell.url)
        if isinstance(cell, Flag):
            return cls(str(cell), flag=True)
        numeric = isinstance(cell, Duration | Share | Number | int | float)
        return cls(str(cell), numeric=numeric and not isinstance(cell, bool))


def handoff_columns():
    return [_("Hand-off"), _("Counted"), _("Median wait"), _("90th percentile"), _("Longest")]


def rework_columns():
    return [_("What was done again"), _("Count"), _("Orders")]


def handoff_row(label, figures) -> list:
    """A row of the hand-off table from an aggregate with n, median, p90 and longest."""
    return [
        label,
        figures.get("n") or 0,
        Duration(figures.get("median")),
        Duration(figures.get("p90")),
        Duration(figures.get("longest")),
    ]


def handoff_figures(queryset, seconds, counted="pk") -> dict:
    """n, median, p90 and longest of the ``seconds`` expression over ``queryset``; n
    counts the rows whose ``counted`` is not NULL."""
    return queryset.aggregate(
        n=Count(counted),
        median=Percentile(seconds, 0.5),
        p90=Percentile(seconds, 0.9),
        longest=Max(seconds),
    )


def handoffs_figures(queryset, **waits) -> dict[str, dict]:
    """``handoff_figures`` of several waits over one pass of ``queryset``: each wait is
    ``(condition, seconds)``, a Q choosing its rows and its seconds expression; the
    figures of each are keyed by its name."""
    aggregates = {}
    for name, (condition, seconds) in waits.items():
        chosen = Case(When(condition, then=seconds), output_field=FloatField())
        aggregates[f"{name}__n"] = Count("pk", filter=condition)
        aggregates[f"{name}__median"] = Percentile(chosen, 0.5)
        aggregates[f"{name}__p90"] = Percentile(chosen, 0.9)
        aggregates[f"{name}__longest"] = Max(chosen)
    found = queryset.aggregate(**aggregates)
    return {
        name: {figure: found[f"{name}__{figure}"] for figure in ("n", "median", "p90", "longest")}
        for name in waits
    }


Provider = Callable[..., Section | list[Section] | None]
_PROVIDERS: list[tuple[int, Provider]] = []


def register(provider: Provider, *, position: int = 100) -> None:
    """Add ``provider(start_dt, end_dt)``'s sections to every pack; lower positions first."""
    if any(registered is provider for _, registered in _PROVIDERS):
        return
    _PROVIDERS.append((position, provider))
    _PROVIDERS.sort(key=lambda entry: entry[0])


def department_sections(start_dt, end_dt) -> list[Section]:
    """Every registered provider's sections, in order."""
    found: list[Section] = []
    for _position, provider in _PROVIDERS:
        result = provider(start_dt, end_dt)
        if result is None:
            continue
        found.extend(result if isinstance(result, list | tuple) else [result])
    return found


def format_duration(seconds) -> str:
    """``seconds`` as a short duration in the reader's language."""
    if seconds is None:
        return "—"
    seconds = max(0, round(seconds))
    if seconds < 60:
        return ngettext("%(n)d second", "%(n)d seconds", seconds) % {"n": seconds}
    minutes = seconds // 60
    if minutes < 60:
        return ngettext("%(n)d min", "%(n)d min", minutes) % {"n": minutes}
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        text = ngettext("%(n)d h", "%(n)d h", hours) % {"n": hours}
        if minutes:
            text += " " + ngettext("%(n)d min", "%(n)d min", minutes) % {"n": minutes}
        return text
    days, hours = divmod(hours, 24)
    text = ngettext("%(n)d day", "%(n)d days", days) % {"n": days}
    if hours:
        text += " " + ngettext("%(n)d h", "%(n)d h", hours) % {"n": hours}
    return text
