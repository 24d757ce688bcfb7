"""The review pack as CSV: one row per figure (section, item, metric, value, unit,
as shown), in the reader's language. The pack is small (a few hundred figures), so
the file is written whole."""

import csv
import io
import re

from django.utils.translation import gettext as _

from . import Duration, Flag, Link, Number, Share

# A cell a spreadsheet would read as a formula (it starts with =, +, -, @, or a tab or
# carriage return) is quoted as text, unless it is a number (as finance/exports.py).
FORMULA = re.compile(r"[=+\-@\t\r]")
NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def guard(text) -> str:
    text = str(text)
    if FORMULA.match(text) and not NUMBER.fullmatch(text):
        return "'" + text
    return text


def figure(cell) -> tuple:
    """(value, unit, shown) of a cell."""
    if isinstance(cell, Duration | Share | Number):
        value = "" if cell.value is None else cell.value
        return value, cell.unit, str(cell)
    if isinstance(cell, bool):
        return int(cell), "", str(cell)
    if isinstance(cell, int | float):
        return cell, "", str(cell)
    if isinstance(cell, Link | Flag):
        return guard(cell), "", guard(cell)
    return guard(cell), "", guard(cell)


def header() -> list[str]:
    return [_("section"), _("item"), _("metric"), _("value"), _("unit"), _("shown")]


def rows(pack):
    yield [_("period"), guard(pack.start.isoformat()), _("to"), pack.end.isoformat(), "", ""]
    for section in pack.sections:
        for row in section.rows:
            item = guard(row[0]) if row else ""
            for column, cell in zip(section.columns[1:], row[1:], strict=False):
                value, unit, shown = figure(cell)
                yield [guard(section.title), item, guard(column), value, unit, shown]


def pack_csv(pack) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header())
    writer.writerows(rows(pack))
    return buffer.getvalue()
