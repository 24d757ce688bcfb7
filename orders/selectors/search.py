"""The staff order list: its search box and filters, each read through an index."""

import re
from datetime import datetime, time, timedelta

from django.contrib.postgres.fields import ArrayField
from django.db import connection, models, transaction
from django.db.models import F, Func, Q, Value
from django.utils import timezone

from ..models import Order

# The staff list counts at most this many matches ("1,000+"): an exact count of a
# broad search would read every matching row of a million-order table.
SEARCH_COUNT_LIMIT = 1000
# Up to this many matches of a search are sorted by themselves (by their ids); more
# are common enough for the newest to be found early walking the placed_at index.
SEARCH_SORT_LIMIT = 5000
# Below this length a search term has no whole trigram, so the trigram indexes cannot
# narrow it down: short terms match the start of a name instead (an index range).
TRIGRAM_MIN_LENGTH = 3


def order_search(**filters):
    """Orders matching the staff list's search box and filters, newest first."""
    return search_orders(**filters)[0]


def search_orders(*, q="", status="", channel="", date_from=None, date_to=None):
    """(orders, how many there are) for the staff list's search box and filters, the
    orders newest first. How many is known for a search (up to SEARCH_COUNT_LIMIT + 1,
    "more than the limit"), else None (the list counts, bounded).

    The search box finds an order by what was typed with it, each form through an
    index (orders 0019): an exact order number, an exact phone number (the contact's
    or the recipient's), else a part of the number, names or phones (trigram
    indexes), or for a term of one or two characters the start of a name.
    """
    # The list shows what was typed with each order (its contact), so no join: a broad
    # search sorts its matches alone before taking a page.
    qs = Order.objects.all()
    if status:
        qs = qs.filter(status=status)
    if channel:
        qs = qs.filter(channel=channel)
    if date_from:
        qs = qs.filter(placed_at__gte=_day_start(date_from))
    if date_to:
        qs = qs.filter(placed_at__lt=_day_start(date_to + timedelta(days=1)))
    q = (q or "").strip()
    if not q:
        return qs.order_by("-placed_at"), None
    matches = qs.filter(_search_filter(q, qs))
    # Newest first, but not by walking the placed_at index backwards until a page of
    # matches turns up: for a rare name that walk reads the whole table, and the
    # planner cannot tell a rare name from a common one. The matches are found through
    # the search indexes first; when they are few enough, the page sorts just them.
    # More are common enough for the newest to be near the top of the placed_at index.
    found = _ids_through_search_indexes(matches, SEARCH_SORT_LIMIT + 1)
    if len(found) <= SEARCH_SORT_LIMIT:
        return _newest_first(found), len(found)
    return matches.order_by("-placed_at"), len(found)


def _newest_first(found):
    """The orders of ``found`` ((pk, placed_at) pairs), newest first. PostgreSQL gets
    them in the order of an id array, sorted here: told to sort by placed_at, it would
    walk that index from the newest order down to the few matches (0.15 s for a
    thousand matches spread over two years) rather than sort just them."""
    ids = [pk for pk, _placed_at in sorted(found, key=lambda pair: (pair[1], pair[0]))][::-1]
    orders = Order.objects.filter(pk__in=ids)
    if not ids or connection.vendor != "postgresql":
        return orders.order_by("-placed_at", "-pk")
    position = Func(
        Value(ids, output_field=ArrayField(models.BigIntegerField())),
        F("pk"),
        function="array_position",
        output_field=models.IntegerField(),
    )
    return orders.order_by(position)


def _ids_through_search_indexes(matches, limit: int) -> list[tuple]:
    """The (id, placed_at) of up to ``limit`` of ``matches``, read through the search
    indexes.

    A substring's selectivity is beyond PostgreSQL's statistics (a rare name and a
    common phone prefix look alike), and with a LIMIT a low guess makes it scan the
    table until enough rows match, which for a rare name means all of it. So this one
    query may use bitmap scans only (the trigram and prefix indexes, OR-ed), whose
    cost grows with the matches found, never with the table."""
    query = matches.order_by().values_list("pk", "placed_at")[:limit]
    if connection.vendor != "postgresql":
        return list(query)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off; SET LOCAL enable_indexscan = off")
        ids = list(query)
        cursor.execute("SET LOCAL enable_seqscan TO DEFAULT; SET LOCAL enable_indexscan TO DEFAULT")
    return ids


def _day_start(day):
    """The first instant of ``day`` in the business's time zone: a range on the indexed
    ``placed_at`` instead of a per-row ``placed_at::date`` that no index serves."""
    return timezone.make_aware(datetime.combine(day, time.min))


ORDER_NUMBER = re.compile(r"\d{8}-\d{4,6}")


def _search_filter(q: str, qs) -> Q:
    if ORDER_NUMBER.fullmatch(q):
        return Q(number=q)
    phone = _as_phone(q)
    if phone:
        exact = Q(contact_phone=phone) | Q(delivery_phone=phone)
        if qs.filter(exact).exists():
            return exact
    if len(q) < TRIGRAM_MIN_LENGTH:
        return Q(contact_name__istartswith=q) | Q(delivery_recipient__istartswith=q)
    return (
        Q(number__icontains=q)
        | Q(contact_name__icontains=q)
        | Q(contact_phone__icontains=q)
        | Q(delivery_recipient__icontains=q)
        | Q(delivery_phone__icontains=q)
    )


def _as_phone(text: str) -> str:
    """``text`` as a stored (E.164) phone number, or "" when it is not one."""
    from django.core.exceptions import ValidationError

    from ..phones import normalize_phone

    if not any(ch.isdigit() for ch in text):
        return ""
    try:
        return normalize_phone(text, "CN")
    except ValidationError:
        return ""
