"""Finance's CSV exports for the accounting system: the ledger entries and the orders
closed between two local dates, streamed as they are read.

Rows come from the database in chunks through a server-side cursor (``iterator``),
and each chunk is written as one piece of the response: memory stays flat however
many rows a year holds, and a month of a busy year (180,000 entries) costs one
``csv.writer.writerows`` per 2,000 rows rather than one response chunk per row."""

import csv
import io
import re
from itertools import islice

from django.http import StreamingHttpResponse
from django.shortcuts import render

from orders.access import role_required
from orders.roles import Role

from . import selectors
from .forms import ExportForm

finance_required = role_required(Role.FINANCE)

CHUNK = 2000
# A cell that a spreadsheet would read as a formula (it starts with =, +, -, @, or a
# tab or carriage return before one) is quoted as text, unless it is a number.
FORMULA = re.compile(r"[=+\-@\t\r]")
NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")

LEDGER_HEADER = [
    "entry",
    "order",
    "recorded_at",
    "date",
    "kind",
    "charge",
    "amount",
    "currency",
    "method",
    "reference",
    "refund_for",
    "reverses",
    "reason",
]
# The columns whose text a person typed (the others are numbers, dates and codes).
TYPED = (LEDGER_HEADER.index("reference"), LEDGER_HEADER.index("reason"))


def guard(text: str) -> str:
    """``text`` as a spreadsheet shows it: a would-be formula starts with a quote."""
    if FORMULA.match(text) and not NUMBER.fullmatch(text):
        return "'" + text
    return text


def _chunks(header, rows):
    """The CSV text of ``header`` and then of each CHUNK rows of ``rows``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    rows = iter(rows)
    while True:
        writer.writerows(islice(rows, CHUNK))
        text = buffer.getvalue()
        if not text:
            return
        yield text
        buffer.seek(0)
        buffer.truncate()


def _csv_response(header, rows, filename):
    response = StreamingHttpResponse(_chunks(header, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


def _export_range(request):
    form = ExportForm(request.GET)
    if not form.is_valid():
        return None, form
    return (form.cleaned_data["start"], form.cleaned_data["end"]), form


def _bad_export(request, form):
    context = {"export_form": form}
    return render(request, "finance/export_invalid.html", context, status=400)


def ledger_rows(start, end):
    entries = selectors.ledger_between(start, end).values_list(
        "pk",
        "order__number",
        "recorded_at",
        "happened_on",
        "kind",
        "charge_kind",
        "amount",
        "currency",
        "method__code",
        "reference",
        "refund_for",
        "reverses_id",
        "reason",
    )
    reference, reason = TYPED
    for row in entries.iterator(chunk_size=CHUNK):
        row = list(row)
        row[2] = row[2].isoformat()
        row[3] = row[3].isoformat()
        row[reference] = guard(row[reference])
        row[reason] = guard(row[reason])
        yield row


CLOSED_HEADER = [
    "order",
    "closed_at",
    "currency",
    "total",
    "charged",
    "paid",
    "refunded",
    "balance",
]


def closed_rows(start, end):
    requests = selectors.closed_orders(start, end).values_list(
        "order__number",
        "approved_at",
        "order__currency",
        "order__total",
        "order__account__charged",
        "order__account__paid",
        "order__account__refunded",
        "order__account__balance",
    )
    for number, approved_at, currency, total, *money in requests.iterator(chunk_size=CHUNK):
        yield [number, approved_at.isoformat(), currency, total, *money]


@finance_required
def export_ledger(request):
    dates, form = _export_range(request)
    if dates is None:
        return _bad_export(request, form)
    start, end = dates
    return _csv_response(LEDGER_HEADER, ledger_rows(start, end), f"ledger-{start}-{end}.csv")


@finance_required
def export_closed(request):
    dates, form = _export_range(request)
    if dates is None:
        return _bad_export(request, form)
    start, end = dates
    filename = f"closed-orders-{start}-{end}.csv"
    return _csv_response(CLOSED_HEADER, closed_rows(start, end), filename)
