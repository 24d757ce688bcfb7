"""Existing customers an order may belong to: the ones a salesperson may mean while
typing an order, and the ones sharing an order's phone or email at verification."""

import contextlib

from django.db.models import Count, Q

from ..models import Order, format_address
from .search import TRIGRAM_MIN_LENGTH


def matching_customers(*, phone="", email="", name="", limit=5):
    """Existing customers a salesperson may mean: same phone, same email, or a name
    containing what was typed. Each gets ``last_order`` (for its address) or None."""
    from django.core.exceptions import ValidationError

    from ..models import Customer
    from ..phones import normalize_phone

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

    from ..models import Customer

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
