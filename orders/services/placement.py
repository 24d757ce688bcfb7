"""Placing an order: online, by phone or email; finding or creating the customer."""

import hashlib
import secrets
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import timeline
from ..models import (
    Channel,
    Customer,
    NotificationKind,
    Order,
    OrderDocument,
    OrderLine,
    Product,
    Status,
)
from ..signals import order_transitioned
from .errors import OrderActionError
from .notifications import notify_customer
from .numbering import next_order_number


@dataclass(frozen=True)
class LineRequest:
    product: Product
    quantity: int


@dataclass(frozen=True)
class DeliveryDetails:
    recipient: str
    phone: str
    province: str
    city: str
    street: str
    district: str = ""
    postal_code: str = ""
    country: str = "CN"


@dataclass(frozen=True)
class ContactDetails:
    name: str
    phone: str
    email: str = ""
    language: str = ""


def _price(line: LineRequest, replaces) -> Decimal:
    """A line's unit price: the product's, or nothing for a replacement."""
    return Decimal("0.00") if replaces is not None else line.product.unit_price


def _same_name(a: str, b: str) -> bool:
    """Names compared as people write them: case and spacing do not matter."""
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def _lock_phone_number(phone: str) -> None:
    """Hold a PostgreSQL advisory lock on ``phone`` until the caller's transaction ends.

    Concurrent first orders from one new person then look for their customer one after
    the other, and only the first creates it. The key is a stable 64-bit hash of the
    number (Python's ``hash`` differs between processes). SQLite needs no lock: it
    takes its write lock when a transaction starts (``transaction_mode`` IMMEDIATE in
    the settings), which already serialises placements.
    """
    if connection.vendor != "postgresql":
        return
    digest = hashlib.blake2b(f"o2d.customer.phone:{phone}".encode(), digest_size=8).digest()
    key = int.from_bytes(digest, "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


def find_or_create_customer(*, name, phone, email="", language=None) -> Customer:
    """The customer who is certainly the person placing this order, else a new one.

    An existing customer is reused only when the phone (E.164), the email (ignoring
    case; both empty counts as the same) and the name (ignoring case and spacing) are
    all the same. A shared phone or email alone proves nothing: families and offices
    share them, numbers are reassigned, and anyone can type someone else's. Such
    possible matches are shown to Sales at verification
    (``selectors.possible_customers``), who may file the order under one of them
    (``link_order_to_customer``). An existing customer is never changed here.

    Locks the phone number until the caller's transaction ends (``_lock_phone_number``),
    so concurrent first orders from one new person create one customer.
    """
    name = " ".join((name or "").split())
    email = (email or "").strip()
    # No savepoint inside the caller's transaction: an error here undoes the caller's
    # whole transaction anyway (placing an order is all or nothing).
    with transaction.atomic(savepoint=False):
        _lock_phone_number(phone)
        candidates = Customer.objects.filter(phone=phone, email__iexact=email).order_by("pk")
        for candidate in candidates:
            if _same_name(candidate.name, name):
                return candidate
        return Customer.objects.create(
            name=name, phone=phone, email=email, language=language or settings.LANGUAGE_CODE
        )


@dataclass(frozen=True)
class Attachment:
    title: str
    text: str = ""
    upload: object = None


def submit_order(
    *, contact: ContactDetails, idempotency_key: str, attachments=(), by=None, **order_fields
):
    """Place an order from a form submission, exactly once per ``idempotency_key``.

    Finds or creates the customer (``find_or_create_customer``) and places the order,
    with the contact details as typed, in one transaction. A second submission with
    the same key (double click, refresh, retry, or a concurrent request) returns the
    first order. Returns ``(order, created)``.

    The key is not looked up first: nearly every submission is a new one, so the
    unique index on ``Order.idempotency_key`` is the check. A repeated key fails the
    order's INSERT (a concurrent one waits there for the first to commit), the whole
    transaction is rolled back, and the first order is returned.
    """
    try:
        with transaction.atomic():
            customer = find_or_create_customer(
                name=contact.name,
                phone=contact.phone,
                email=contact.email,
                language=contact.language,
            )
            order = place_order(
                customer=customer,
                contact=contact,
                idempotency_key=idempotency_key,
                by=by,
                **order_fields,
            )
            for attachment in attachments:
                OrderDocument.objects.create(
                    order=order,
                    title=attachment.title,
                    text=attachment.text,
                    file=attachment.upload or "",
                    content_type=getattr(attachment.upload, "detected_type", "text/plain"),
                    uploaded_by=by,
                )
    except IntegrityError:
        # The same key was submitted before, or concurrently and committed first;
        # everything this submission wrote (customer, order, lines) was rolled back.
        existing = Order.objects.filter(idempotency_key=idempotency_key).first()
        if existing is None:
            raise
        return existing, False
    return order, True


def place_order(
    *,
    customer: Customer,
    channel: str,
    lines: list[LineRequest],
    delivery: DeliveryDetails,
    contact: ContactDetails | None = None,
    by=None,
    salesperson=None,
    requested_date=None,
    requested_window="any",
    special_instructions="",
    idempotency_key=None,
    replaces: Order | None = None,
) -> Order:
    """Create an order in state *placed* with its lines, number and first timeline event.

    ``replaces``: the order whose goods this one replaces (an exchange); its lines then
    cost nothing.

    ``contact`` (name, phone, email, language as typed with the order) is kept on the
    order: its emails go there. Without it, the customer's details on file are copied.
    Locks the day's order-number counter until commit. Raises OrderActionError when
    there are no lines, a product is inactive or a quantity is out of range.
    """
    if channel not in Channel.values:
        raise OrderActionError(_("Unknown order channel."))
    if not lines:
        raise OrderActionError(_("An order needs at least one line."))
    for line in lines:
        if not line.product.active:
            raise OrderActionError(
                _("Product %(sku)s is no longer sold.") % {"sku": line.product.sku}
            )
        if not 1 <= line.quantity <= 100_000:
            raise OrderActionError(_("Quantities must be between 1 and 100,000."))
    if len({line.product.currency for line in lines}) > 1:
        raise OrderActionError(_("All goods of one order must be priced in the same currency."))
    if contact is None:
        contact = ContactDetails(customer.name, customer.phone, customer.email, customer.language)

    # No savepoint inside a caller's transaction (submit_order's): a failure here
    # fails the whole placement, and a savepoint costs two more statements.
    with transaction.atomic(savepoint=False):
        now = timezone.now()
        order = Order(
            # A placeholder until the end: the day's counter is taken last (see below).
            number=f"new-{secrets.token_hex(8)}",
            channel=channel,
            placed_at=now,
            step_started_at=now,
            customer=customer,
            contact_name=" ".join((contact.name or "").split()),
            contact_phone=contact.phone,
            contact_email=(contact.email or "").strip(),
            contact_language=contact.language or customer.language or settings.LANGUAGE_CODE,
            salesperson=salesperson,
            delivery_recipient=delivery.recipient,
            delivery_phone=delivery.phone,
            delivery_country=delivery.country,
            delivery_province=delivery.province,
            delivery_city=delivery.city,
            delivery_district=delivery.district,
            delivery_street=delivery.street,
            delivery_postal_code=delivery.postal_code,
            requested_date=requested_date,
            requested_window=requested_window,
            special_instructions=special_instructions,
            currency=lines[0].product.currency,
            total=sum((_price(line, replaces) * line.quantity for line in lines), Decimal("0")),
            idempotency_key=idempotency_key,
            replaces=replaces,
        )
        order.save()
        OrderLine.objects.bulk_create(
            OrderLine(
                order=order,
                product=line.product,
                sku=line.product.sku,
                name=line.product.name,
                quantity=line.quantity,
                unit_price=_price(line, replaces),
            )
            for line in lines
        )
        timeline.record(
            order,
            timeline.TRANSITION,
            actor=by,
            to_status=Status.PLACED,
            data={"channel": channel},
            public=True,
            created_at=now,
        )
        notify_customer(order, NotificationKind.ORDER_RECEIVED, new=True)
        # Numbered last, so the day's counter is locked only for the end of the
        # transaction rather than for the whole of it.
        order.number = next_order_number(now)
        Order.objects.filter(pk=order.pk).update(number=order.number)
        transaction.on_commit(
            lambda: order_transitioned.send_robust(
                sender=Order,
                order_id=order.pk,
                transition="place",
                from_status="",
                to_status=Status.PLACED,
                actor_id=getattr(by, "pk", None),
            )
        )
    return order
