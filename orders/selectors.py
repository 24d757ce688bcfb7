"""Queries that pages and tasks read. Nothing here writes."""

import contextlib
import hmac
import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.contrib.postgres.fields import ArrayField
from django.db import connection, models, transaction
from django.db.models import Count, F, Func, Prefetch, Q, Value
from django.http import Http404
from django.utils import timezone

from .clock import (
    annotate_due_at,
    attach_clocks,
    deadline_reached,
    step_for_status,
    steps_by_code,
)
from .models import OPEN_STATUSES, Order, OrderEvent, Product, Status, format_address

# The public order form lists every product on sale on each GET and POST. Named rows
# cost a fifth of what 200 model instances do; the few a customer orders become models
# (product_from_row) for the order's lines.
_PRODUCT_ROW = ("pk", "sku", "name", "unit_price", "currency", "active")
_PRODUCT_ATTNAMES = ("id", *_PRODUCT_ROW[1:])


def products_on_sale() -> list:
    """The active products by name, as rows with ``pk``, ``sku``, ``name``,
    ``unit_price``, ``currency`` and ``active``."""
    products = Product.objects.filter(active=True).order_by("name")
    return list(products.values_list(*_PRODUCT_ROW, named=True))


def product_from_row(row) -> Product:
    """The product of a ``products_on_sale()`` row, as if loaded from the database."""
    return Product.from_db(Product.objects.db, _PRODUCT_ATTNAMES, row)


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

    from .phones import normalize_phone

    if not any(ch.isdigit() for ch in text):
        return ""
    try:
        return normalize_phone(text, "CN")
    except ValidationError:
        return ""


@dataclass
class Queue:
    key: str
    title: str
    statuses: list
    orders: list
    count: int
    late: int
    due_soon: int
    link: str = ""  # the URL name each order links to; the order page by default


@dataclass(frozen=True)
class QueueSpec:
    """What a dashboard queue holds: orders in ``statuses`` matching ``where``."""

    key: str
    title: str
    statuses: list
    where: Q | None = None
    link: str = ""

    @property
    def filter(self) -> Q:
        query = Q(status__in=self.statuses)
        return query & self.where if self.where is not None else query


QUEUE_SIZE = 25
# What a queue's row shows (orders/_queue_table.html) and its clock needs: a dashboard
# builds a hundred rows, and whole orders with their customers cost twice as much.
QUEUE_FIELDS = (
    "id",
    "number",
    "status",
    "channel",
    "placed_at",
    "step_started_at",
    "contact_name",
    "delivery_city",
    "total",
    "currency",
)


def queues(specs, *, steps=None, now=None, limit=QUEUE_SIZE) -> list[Queue]:
    """The dashboard's queues, each with its most urgent orders (deadline first) and
    their clocks. One query counts every queue (total, late, due soon) over the open
    orders' status index, and one per queue lists its first ``limit`` orders."""
    steps = steps_by_code() if steps is None else steps
    now = now or timezone.now()
    if not specs:
        return []
    statuses = sorted({status for spec in specs for status in spec.statuses})
    late = deadline_reached(steps, now, statuses)
    soon = deadline_reached(steps, now, statuses, warning=True) & ~late
    aggregates = {}
    for i, spec in enumerate(specs):
        aggregates[f"n{i}"] = Count("pk", filter=spec.filter)
        aggregates[f"late{i}"] = Count("pk", filter=spec.filter & late)
        aggregates[f"soon{i}"] = Count("pk", filter=spec.filter & soon)
    counts = Order.objects.filter(status__in=statuses).aggregate(**aggregates)
    result = []
    for i, spec in enumerate(specs):
        orders = []
        if counts[f"n{i}"]:
            rows = Order.objects.filter(spec.filter).only(*QUEUE_FIELDS)
            orders = list(_most_urgent_first(rows, spec.statuses, steps)[:limit])
            attach_clocks(orders, steps, now)
        result.append(
            Queue(
                spec.key,
                spec.title,
                list(spec.statuses),
                orders,
                counts[f"n{i}"],
                counts[f"late{i}"],
                counts[f"soon{i}"],
                spec.link,
            )
        )
    return result


def _most_urgent_first(rows, statuses, steps):
    """``rows`` by deadline (step start + the step's target), then by age. For one
    state whose step has a single target (no channel's own), the deadline order is the
    step start's, which the (status, step_started_at) index reads in order: the first
    page needs no sort of every waiting order."""
    if len(statuses) == 1:
        step = step_for_status(statuses[0], steps)
        if step is not None and step.target is not None and not step.channel_targets.all():
            return rows.order_by("step_started_at", "placed_at")
    return annotate_due_at(rows, steps).order_by("due_at", "placed_at")


def queue(
    key, title, statuses, *, where=None, steps=None, now=None, limit=QUEUE_SIZE, link=""
) -> Queue:
    """One dashboard queue (see ``queues``, which counts several in one query)."""
    spec = QueueSpec(key, title, list(statuses), where, link)
    return queues([spec], steps=steps, now=now, limit=limit)[0]


# The manager's overview counts finished orders over this many recent days: an
# all-time count of closed orders would read most of the table on every refresh.
FINISHED_COUNT_DAYS = 30


def status_counts(now=None) -> dict[str, int]:
    """Orders per status: every open order, and the orders closed or cancelled that
    were placed in the last FINISHED_COUNT_DAYS days. Two index range reads: the open
    states are a small part of the table, the finished ones are bounded by date."""
    now = now or timezone.now()
    counts = {s: 0 for s in Status.values}
    finished = [s for s in Status.values if s not in OPEN_STATUSES]
    open_rows = Order.objects.filter(status__in=OPEN_STATUSES).values("status")
    recent_rows = Order.objects.filter(
        status__in=finished, placed_at__gte=now - timedelta(days=FINISHED_COUNT_DAYS)
    ).values("status")
    for rows in (open_rows, recent_rows):
        # COUNT(*), not COUNT(id): the (status, placed_at) index alone answers it.
        counts.update({row["status"]: row["n"] for row in rows.annotate(n=Count("*"))})
    return counts


def late_orders(*, steps=None, now=None, limit=QUEUE_SIZE):
    """Open orders whose current step has passed its target, the latest first."""
    steps = steps_by_code() if steps is None else steps
    now = now or timezone.now()
    qs = annotate_due_at(Order.objects.filter(status__in=OPEN_STATUSES), steps)
    orders = list(qs.filter(due_at__lt=now).only(*QUEUE_FIELDS).order_by("due_at")[:limit])
    return attach_clocks(orders, steps, now)


def order_for_staff(number: str) -> Order:
    """One order with lines and the full timeline (staff view), or 404."""
    events = OrderEvent.objects.select_related("actor").order_by("created_at", "pk")
    qs = Order.objects.select_related("customer", "salesperson").prefetch_related(
        "lines", Prefetch("events", queryset=events)
    )
    try:
        order = qs.get(number=number)
    except Order.DoesNotExist:
        raise Http404 from None
    attach_clocks([order])
    return order


def available_actions(order: Order, user) -> list[dict]:
    """The transitions ``user`` may take on ``order`` now, straight from the state machine."""
    actions = []
    # Offered when the role and state allow it, even if a condition (verification)
    # still blocks it: the page then says what is missing instead of hiding the step.
    for transition in order.get_all_status_transitions():
        if transition.source not in (order.status, "*") or not transition.has_perm(order, user):
            continue
        custom = transition.custom
        if custom.get("via"):
            continue  # taken on the department's own page (the pick list, the review)
        actions.append(
            {
                "name": transition.name,
                "label": custom.get("label", transition.name),
                "style": custom.get("style", "primary"),
                "needs_note": bool(custom.get("needs_note")),
                "form": custom.get("form", ""),
                "target": transition.target,
            }
        )
    # Forward actions first, side paths after, destructive ones last.
    rank = {"primary": 0, "warning": 1, "danger": 2}
    return sorted(actions, key=lambda a: rank.get(a["style"], 1))


def order_for_public(number: str, token: str) -> Order:
    """The order behind a public status link, or 404 (also for a wrong secret)."""
    order = Order.objects.select_related("customer").filter(number=number).first()
    if order is None or not hmac.compare_digest(order.public_token.encode(), token.encode()):
        raise Http404
    return order


def public_timeline(order: Order) -> list[OrderEvent]:
    """Customer-facing events only: no comments, no notes, no staff names."""
    return list(
        order.events.filter(public=True).only(
            "order_id", "created_at", "kind", "code", "to_status", "data"
        )
    )


def masked_first_name(full_name: str) -> str:
    """What the public page says of the customer: a first name, never a full name."""
    name = (full_name or "").strip()
    if not name:
        return ""
    if " " in name:
        return name.split()[0]
    # Chinese names: keep the family name, mask the given name.
    return name[0] + "*" * (len(name) - 1)


def order_from_confirm_link(token: str) -> Order:
    """The order behind a customer's confirmation link; raises signing errors for a
    tampered or expired link, and Http404 when the order does not match it."""
    from .links import read_confirm_token

    order_id, secret = read_confirm_token(token)
    order = Order.objects.select_related("customer").filter(pk=order_id).first()
    if order is None or not hmac.compare_digest(order.public_token[:12], secret):
        raise Http404
    return order


VERIFIED = Q(contact_verified_at__isnull=False, address_verified_at__isnull=False)


def no_answer_filter(steps, now):
    """Placed orders past the confirmation step's final limit (Q), or None."""
    step = steps.get("confirmation")
    if step is None or step.give_up_after is None:
        return None
    return Q(step_started_at__lte=now - step.give_up_after)


def open_follow_ups(user, *, now=None, limit=QUEUE_SIZE):
    """Open follow-ups for ``user`` (assigned to them, or to nobody), most urgent first."""
    from .models import FollowUp

    now = now or timezone.now()
    qs = (
        FollowUp.objects.filter(done_at__isnull=True)
        .filter(Q(assignee=user) | Q(assignee__isnull=True))
        .select_related("order__customer", "assignee")
        .order_by("due_at")
    )
    items = list(qs[:limit])
    for item in items:
        item.overdue = item.due_at <= now
    return items


def escalated_follow_ups(limit=QUEUE_SIZE):
    from .models import FollowUp

    return list(
        FollowUp.objects.filter(done_at__isnull=True, escalated_at__isnull=False)
        .select_related("order__customer", "assignee")
        .order_by("due_at")[:limit]
    )


def matching_customers(*, phone="", email="", name="", limit=5):
    """Existing customers a salesperson may mean: same phone, same email, or a name
    containing what was typed. Each gets ``last_order`` (for its address) or None."""
    from django.core.exceptions import ValidationError

    from .models import Customer
    from .phones import normalize_phone

    query = Q()
    if phone:
        # An incomplete number is simply no match, not an error.
        with contextlib.suppress(ValidationError):
            query |= Q(phone=normalize_phone(phone, "CN"))
    if email and "@" in email:
        query |= Q(email__iexact=email.strip())
    name = name.strip()
    if len(name) >= TRIGRAM_MIN_LENGTH:
        query |= Q(name__icontains=name)  # orders 0020's trigram index
    elif len(name) == 2:
        query |= Q(name__istartswith=name)  # and its prefix index
    if not query:
        return []
    customers = list(Customer.objects.filter(query).order_by("name")[:limit])
    for customer in customers:
        customer.last_order = customer.orders.order_by("-placed_at").first()
    return customers


def possible_customer_filter(order: Order) -> Q:
    """Customers who may be the person who placed ``order``: the same phone number or
    the same email (ignoring case) as typed with the order."""
    query = Q(phone=order.contact_phone) if order.contact_phone else Q(pk__in=[])
    if order.contact_email:
        query |= Q(email__iexact=order.contact_email)
    return query


def possible_customers(order: Order, limit=10) -> list:
    """Other customers sharing the order's phone or email, for Sales to compare side by
    side with the order's contact details at verification (oldest first). Each has
    ``order_count``, ``last_address``, ``same_phone``, ``same_email`` and ``same_name``.
    Two queries, however many matches."""
    from django.db.models import OuterRef, Subquery

    from .models import Customer

    last = Order.objects.filter(customer=OuterRef("pk")).order_by("-placed_at", "-pk")
    customers = list(
        Customer.objects.filter(possible_customer_filter(order))
        .exclude(pk=order.customer_id)
        .annotate(
            order_count=Count("orders"),
            last_province=Subquery(last.values("delivery_province")[:1]),
            last_city=Subquery(last.values("delivery_city")[:1]),
            last_district=Subquery(last.values("delivery_district")[:1]),
            last_street=Subquery(last.values("delivery_street")[:1]),
        )
        .order_by("pk")[:limit]
    )
    name = " ".join(order.contact_name.split()).casefold()
    for customer in customers:
        customer.last_address = format_address(
            customer.last_province or "",
            customer.last_city or "",
            customer.last_district or "",
            customer.last_street or "",
        )
        customer.same_phone = customer.phone == order.contact_phone
        customer.same_email = bool(order.contact_email) and (
            customer.email.lower() == order.contact_email.lower()
        )
        customer.same_name = " ".join(customer.name.split()).casefold() == name
    return customers


# ---------------------------------------------------------------------------
# The customer's view: lookup, tracking, delivery change requests

# Compared against when no order has the number, so both answers cost the same.
_NO_SUCH_CONTACT = "\x00no-such-contact\x00"


def _lookup_contact(raw: str) -> tuple[str, str]:
    """What the customer typed, as (lower-case email, E.164 phone); one of them empty."""
    from django.core.exceptions import ValidationError

    from .phones import normalize_phone

    raw = (raw or "").strip()
    if "@" in raw:
        return raw.lower(), ""
    try:
        return "", normalize_phone(raw, "CN")
    except ValidationError:
        return "", ""


def order_for_lookup(number: str, contact: str) -> Order | None:
    """The order with ``number`` whose contact email or phone (as typed with the order,
    not an earlier customer's) or delivery phone is ``contact``; else None, whether
    the order does not exist or the contact does not match. Both paths do the same
    work: one query by number and the same three constant-time comparisons, so
    neither the answer nor its timing tells them apart.
    """
    email, phone = _lookup_contact(contact)
    order = (
        # The state machine reads the status when an order is loaded.
        Order.objects.only(
            "number",
            "status",
            "public_token",
            "delivery_phone",
            "contact_email",
            "contact_phone",
        )
        .filter(number=(number or "").strip())
        .first()
    )
    if order is None:
        known_email = known_phone = delivery_phone = _NO_SUCH_CONTACT
    else:
        known_email = (order.contact_email or _NO_SUCH_CONTACT).lower()
        known_phone = order.contact_phone or _NO_SUCH_CONTACT
        delivery_phone = order.delivery_phone or _NO_SUCH_CONTACT
    given_email = email or "\x00"
    given_phone = phone or "\x00"
    matches = [
        hmac.compare_digest(known_email.encode(), given_email.encode()),
        hmac.compare_digest(known_phone.encode(), given_phone.encode()),
        hmac.compare_digest(delivery_phone.encode(), given_phone.encode()),
    ]
    return order if order is not None and any(matches) else None


def change_requests_for(order: Order) -> list:
    from .models import DeliveryChangeRequest

    return list(
        DeliveryChangeRequest.objects.filter(order=order)
        .select_related("decided_by")
        .order_by("-created_at", "-pk")
    )


def pending_change_requests(limit=QUEUE_SIZE) -> list:
    """Customers' delivery change requests waiting for Sales, oldest first."""
    from .models import ChangeRequestStatus, DeliveryChangeRequest

    return list(
        DeliveryChangeRequest.objects.filter(status=ChangeRequestStatus.PENDING)
        .select_related("order__customer")
        .order_by("created_at", "pk")[:limit]
    )
