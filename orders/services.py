"""Everything that writes an order. Each business action is one function here, used
by the staff pages, the admin and the Celery tasks alike.

Every action follows the same order: lock the order row (select_for_update), check,
transition, save, write the timeline event, and only after commit do anything that
leaves the database (signals to other apps, emails, tasks).
"""

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import ConcurrentTransition, can_proceed, has_transition_perm

from .clock import annotate_due_at, clock_for, steps_by_code
from .models import (
    CUSTOMER_CHANGEABLE_STATUSES,
    OPEN_STATUSES,
    ChangeRequestStatus,
    Channel,
    Customer,
    DeliveryChangeRequest,
    DeliveryPromise,
    DeliveryWindow,
    EventKind,
    FollowUp,
    FollowUpReason,
    Notification,
    NotificationKind,
    Order,
    OrderDocument,
    OrderEvent,
    OrderLine,
    OrderSequence,
    Product,
    Status,
    StepCode,
    VerificationMethod,
)
from .roles import Role
from .signals import order_status_changing, order_transitioned, partial_delivery_agreed

logger = logging.getLogger(__name__)


class OrderActionError(Exception):
    """A business action was refused; ``message`` is translated and safe to show."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


class TransitionNotAllowed(OrderActionError):
    pass


class TransitionForbidden(OrderActionError):
    pass


def not_possible_now(order) -> "TransitionNotAllowed":
    """The refusal for an action the order's current state does not allow."""
    return TransitionNotAllowed(
        _("Order %(number)s is %(status)s: this action is not possible now.")
        % {"number": order.number, "status": order.get_status_display()}
    )


class OrderChanged(OrderActionError):
    """Someone else changed the order between the page being shown and the click."""


# ---------------------------------------------------------------------------
# Order numbers


def next_order_number(when=None) -> str:
    """Return the next order number for the local day of ``when``: ``YYYYMMDD-NNNN``.

    Runs inside the caller's transaction, as its last write: one upsert creates or
    increments the day's counter and returns it. Its row lock serialises concurrent
    callers only until they commit, so numbers are unique and without gaps while the
    rest of each order is written in parallel.
    """
    day = timezone.localdate(when or timezone.now())
    table = connection.ops.quote_name(OrderSequence._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (day, last) VALUES (%s, 1) "  # noqa: S608 - a model's table
            "ON CONFLICT (day) DO UPDATE SET last = {table}.last + 1 RETURNING last".format(
                table=table
            ),
            [day],
        )
        (last,) = cursor.fetchone()
    return f"{day:%Y%m%d}-{last:04d}"


# ---------------------------------------------------------------------------
# Placing an order


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
    with transaction.atomic():
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
    """
    existing = Order.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return existing, False
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
        # A concurrent submission with the same key won the race; everything this one
        # wrote (customer, number, lines) was rolled back with the savepoint.
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
) -> Order:
    """Create an order in state *placed* with its lines, number and first timeline event.

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

    with transaction.atomic():
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
            idempotency_key=idempotency_key,
        )
        order.save()
        OrderLine.objects.bulk_create(
            OrderLine(
                order=order,
                product=line.product,
                sku=line.product.sku,
                name=line.product.name,
                quantity=line.quantity,
                unit_price=line.product.unit_price,
            )
            for line in lines
        )
        order.total = sum((line.product.unit_price * line.quantity for line in lines), Decimal("0"))
        order.save(update_fields=["total"])
        OrderEvent.objects.create(
            order=order,
            actor=by,
            kind=EventKind.TRANSITION,
            to_status=Status.PLACED,
            data={"channel": channel},
            public=True,
            created_at=now,
        )
        notify_customer(order, NotificationKind.ORDER_RECEIVED, new=True)
        # Numbered last, so the day's counter is locked only for the end of the
        # transaction rather than for the whole of it.
        order.number = next_order_number(now)
        order.save(update_fields=["number", "total"])
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


# ---------------------------------------------------------------------------
# Transitions


def _transition(
    order_id,
    name: str,
    *,
    by,
    note: str = "",
    expected_status=None,
    arguments=None,
    check=None,
    after=None,
) -> Order:
    """Lock the order, check the rule and the user's permission, transition, save,
    write the timeline event, and signal other apps after commit.

    ``arguments`` go to the transition method; ``check(order)`` may refuse before
    anything changes; ``after(order)`` writes related rows in the same transaction.
    ``by=None`` is the system or the customer (through a signed link).

    Raises TransitionNotAllowed (wrong state), TransitionForbidden (wrong role),
    OrderChanged (the order moved since the user saw it) or OrderActionError.
    """
    with transaction.atomic():
        order = Order.objects.select_for_update().select_related("customer").get(pk=order_id)
        if expected_status and order.status != expected_status:
            raise OrderChanged(
                _(
                    "Order %(number)s was changed meanwhile: it is now %(status)s. "
                    "Nothing was done; please look again."
                )
                % {"number": order.number, "status": order.get_status_display()}
            )
        method = getattr(order, name)
        meta = method._django_fsm.get_transition(order.status)
        if check is not None and meta is not None:
            check(order)
        if not can_proceed(method):
            raise not_possible_now(order)
        if by is not None and not has_transition_perm(method, by):
            raise TransitionForbidden(_("Your role may not take this action on the order."))
        note = (note or "").strip()
        if meta.custom.get("needs_note") and not note:
            raise OrderActionError(_("Please give a reason."))
        from_status = order.status
        method(**(arguments or {}))
        try:
            with transaction.atomic():
                order.save()
        except ConcurrentTransition:
            raise OrderChanged(
                _("Order %(number)s was changed meanwhile. Nothing was done; please look again.")
                % {"number": order.number}
            ) from None
        OrderEvent.objects.create(
            order=order,
            actor=by,
            kind=EventKind.TRANSITION,
            from_status=from_status,
            to_status=order.status,
            note=note,
            public=True,
            created_at=order.step_started_at,
        )
        # Leaving a step closes its follow-ups: the work they chased is done.
        FollowUp.objects.filter(order=order, done_at__isnull=True).update(
            done_at=order.step_started_at
        )
        if after is not None:
            after(order)
        order_status_changing.send(
            sender=Order,
            order=order,
            transition=name,
            from_status=from_status,
            to_status=order.status,
            by=by,
        )
        to_status = order.status
        transaction.on_commit(
            lambda: order_transitioned.send_robust(
                sender=Order,
                order_id=order.pk,
                transition=name,
                from_status=from_status,
                to_status=to_status,
                actor_id=getattr(by, "pk", None),
            )
        )
    return order


def _require_verified(order):
    if not order.is_verified:
        raise TransitionNotAllowed(
            _("Verify the customer's contact details and address before confirming.")
        )


def confirm_order(
    order_id,
    *,
    by,
    promised_date=None,
    method=VerificationMethod.PHONE,
    agreed="",
    note="",
    expected_status=None,
) -> Order:
    """Sales confirms the order with the customer: placed -> confirmed.

    Records how it was confirmed, what was agreed and the promised delivery date (kept
    in the order's promise history), closes nothing else, and emails the customer the
    confirmation after commit. Raises OrderActionError without a promised date in the
    future, TransitionNotAllowed before contact and address are verified.
    """
    if promised_date is None:
        raise OrderActionError(_("Enter the delivery date promised to the customer."))
    if promised_date < timezone.localdate():
        raise OrderActionError(_("The promised delivery date cannot be in the past."))
    if method not in VerificationMethod.values:
        raise OrderActionError(_("Choose how the customer confirmed."))

    def record(order):
        DeliveryPromise.objects.create(
            order=order, date=promised_date, method=method, agreed=agreed, note=note, by=by
        )
        notify_customer(order, NotificationKind.ORDER_CONFIRMED)

    return _transition(
        order_id,
        "confirm",
        by=by,
        note=note,
        expected_status=expected_status,
        arguments={"promised_date": promised_date},
        check=_require_verified,
        after=record,
    )


def cancel_order(order_id, *, by, note="", expected_status=None) -> Order:
    """Sales cancels the order, with a reason: placed/confirmed/backordered -> cancelled.
    The customer is told by email after commit."""
    return _transition(
        order_id,
        "cancel",
        by=by,
        note=note,
        expected_status=expected_status,
        after=lambda order: notify_customer(order, NotificationKind.ORDER_CANCELLED),
    )


def backorder_order(order_id, *, by, note="", expected_status=None) -> Order:
    """The warehouse reports a stock shortage, with details: confirmed -> backordered.
    Sales is told at once (see alert_sales_of_shortage)."""
    return _transition(
        order_id,
        "backorder",
        by=by,
        note=note,
        expected_status=expected_status,
        after=alert_sales_of_shortage,
    )


# How long Sales has to agree a new date when no time is set on the processing step.
DEFAULT_SHORTAGE_FOLLOW_UP = timedelta(hours=2)


def alert_sales_of_shortage(order: Order, now=None):
    """Tell Sales at once that ``order`` is short of stock: a follow-up task with a due
    time on the sales dashboard (the processing step's follow-up time), and an email to
    the order's salesperson, or to every Sales user when it has none. Runs inside the
    backorder transition's transaction; the emails leave after commit."""
    now = now or timezone.now()
    step = steps_by_code().get(StepCode.PROCESSING)
    within = (step.follow_up_within if step else None) or DEFAULT_SHORTAGE_FOLLOW_UP
    follow_up, created = FollowUp.objects.get_or_create(
        order=order,
        step=StepCode.PROCESSING,
        step_started_at=order.step_started_at,
        defaults={
            "assignee_id": order.salesperson_id,
            "reason": FollowUpReason.SHORTAGE,
            "due_at": now + within,
            "created_at": now,
        },
    )
    if not created:
        return
    recipients = _sales_recipients(order)
    OrderEvent.objects.create(
        order=order,
        kind=EventKind.SYSTEM,
        code="sales_alerted",
        data={"due_at": follow_up.due_at.isoformat(), "emailed": len(recipients)},
        created_at=now,
    )
    for user in recipients:
        notification = Notification.objects.create(
            order=order,
            kind=NotificationKind.SHORTAGE_ALERT,
            key=f"{order.step_started_at.isoformat()}/{user.pk}",
            to=user.email,
            language=settings.LANGUAGE_CODE,
        )
        transaction.on_commit(lambda pk=notification.pk: _enqueue_email(pk))


def _sales_recipients(order):
    from django.contrib.auth import get_user_model

    salesperson = order.salesperson
    if salesperson is not None and salesperson.is_active and salesperson.email:
        return [salesperson]
    return list(
        get_user_model()
        .objects.filter(groups__name=Role.SALES, is_active=True)
        .exclude(email="")
        .order_by("pk")
        .distinct()
    )


def record_new_delivery_date(
    order_id, *, by, date, method=VerificationMethod.PHONE, agreed="", note=""
) -> DeliveryPromise:
    """Sales records the new delivery date agreed with the customer (after a shortage,
    or any other change): kept in the order's promise history, shown on the status
    page, emailed to the customer; the shortage follow-up is done."""
    if by is None or not by.has_perm("orders.confirm_order"):
        raise TransitionForbidden(_("Your role may not take this action on the order."))
    if date is None:
        raise OrderActionError(_("Enter the new delivery date."))
    if date < timezone.localdate():
        raise OrderActionError(_("The promised delivery date cannot be in the past."))
    if method not in VerificationMethod.values:
        raise OrderActionError(_("Choose how the customer confirmed."))
    with transaction.atomic():
        order = Order.objects.select_for_update().select_related("customer").get(pk=order_id)
        if order.status not in (Status.CONFIRMED, Status.BACKORDERED, Status.PICKED):
            raise not_possible_now(order)
        previous = order.promised_date
        promise = DeliveryPromise.objects.create(
            order=order, date=date, method=method, agreed=agreed, note=note, by=by
        )
        Order.objects.filter(pk=order.pk).update(promised_date=date)
        order.promised_date = date
        OrderEvent.objects.create(
            order=order,
            actor=by,
            kind=EventKind.SYSTEM,
            code="promise_changed",
            data={"date": date.isoformat(), "previous": previous.isoformat() if previous else ""},
            note=note,
            public=True,
        )
        FollowUp.objects.filter(
            order=order, reason=FollowUpReason.SHORTAGE, done_at__isnull=True
        ).update(done_at=timezone.now())
        notify_customer(order, NotificationKind.NEW_DELIVERY_DATE, key=str(promise.pk))
    return promise


def release_backorder(order_id, *, by, note="", expected_status=None) -> Order:
    """Stock is available again: backordered -> confirmed (back to the warehouse queue)."""
    return _transition(
        order_id, "release_backorder", by=by, note=note, expected_status=expected_status
    )


def pick_order(order_id, *, by, note="", expected_status=None) -> Order:
    """The warehouse has picked the goods: confirmed -> picked. Called by the pick
    list (warehouse.services.record_pick) when the last line is picked."""
    return _transition(order_id, "pick", by=by, note=note, expected_status=expected_status)


def repick_order(order_id, *, by, note="", expected_status=None) -> Order:
    """A failed review sends the goods back to picking, with the reason:
    picked -> confirmed. Called by warehouse.services.review_order."""
    return _transition(order_id, "repick", by=by, note=note, expected_status=expected_status)


def await_rest(order_id, *, by, note="", expected_status=None) -> Order:
    """The available part has shipped; the rest waits for stock: picked -> backordered.
    Called by logistics.services.ship for a partial delivery the customer agreed to."""
    return _transition(order_id, "await_rest", by=by, note=note, expected_status=expected_status)


def agree_partial_delivery(order_id, *, by, note: str = "") -> Order:
    """Sales records that the customer of a backordered order agreed to receive the
    goods in stock now and the rest later. The warehouse then picks what it has."""
    if by is None or not by.has_perm("orders.confirm_order"):
        raise TransitionForbidden(_("Your role may not take this action on the order."))
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_id)
        if order.status != Status.BACKORDERED:
            raise not_possible_now(order)
        if order.partial_agreed_at is None:
            now = timezone.now()
            Order.objects.filter(pk=order.pk).update(partial_agreed_at=now)
            OrderEvent.objects.create(
                order=order,
                actor=by,
                kind=EventKind.SYSTEM,
                code="partial_agreed",
                note=(note or "").strip()[:2000],
                public=True,
                created_at=now,
            )
            transaction.on_commit(
                lambda: partial_delivery_agreed.send_robust(sender=Order, order_id=order.pk)
            )
        order.refresh_from_db()
    return order


def _require_reviewed(order):
    if order.reviewed_at is None:
        raise TransitionNotAllowed(
            _("Order %(number)s has not passed the warehouse's review yet: it cannot ship.")
            % {"number": order.number}
        )


def ship_order(order_id, *, by, note="", expected_status=None) -> Order:
    """Logistics hands the order to the carrier: picked -> shipped, only once the
    warehouse's review has passed."""
    return _transition(
        order_id,
        "ship",
        by=by,
        note=note,
        expected_status=expected_status,
        check=_require_reviewed,
    )


def deliver_order(order_id, *, by, note="", expected_status=None) -> Order:
    """The order has reached the customer: shipped -> delivered."""
    return _transition(order_id, "deliver", by=by, note=note, expected_status=expected_status)


def close_order(order_id, *, by, note="", expected_status=None) -> Order:
    """Finance has settled every charge: delivered -> closed."""
    return _transition(order_id, "close", by=by, note=note, expected_status=expected_status)


# The actions the order page and the admin may call, by transition name. Picking,
# review, shipping and delivery have their own pages (the "via" transitions).
ACTIONS = {
    "confirm": confirm_order,
    "cancel": cancel_order,
    "backorder": backorder_order,
    "release_backorder": release_backorder,
    "close": close_order,
}


def perform_action(order_id, name: str, *, by, note="", expected_status=None, **fields) -> Order:
    """Run the action called ``name``; unknown names are refused, never getattr'd.
    ``fields`` are the action's own inputs (the promised date of a confirmation)."""
    try:
        action = ACTIONS[name]
    except KeyError:
        raise OrderActionError(_("Unknown action.")) from None
    return action(order_id, by=by, note=note, expected_status=expected_status, **fields)


# ---------------------------------------------------------------------------
# Changes before confirmation

CHANGEABLE_FIELDS = [
    "delivery_recipient",
    "delivery_phone",
    "delivery_country",
    "delivery_province",
    "delivery_city",
    "delivery_district",
    "delivery_street",
    "delivery_postal_code",
    "requested_date",
    "requested_window",
    "special_instructions",
]


def _shown(value) -> str:
    return "" if value is None else str(value)


def _apply_fields(order: Order, fields: dict) -> list[dict]:
    """Set ``fields`` on ``order`` (not saved) and return what changed, old -> new, as
    the "changed" timeline event records it."""
    changes = []
    for name, new in fields.items():
        old = getattr(order, name)
        if _shown(old) != _shown(new):
            label = str(Order._meta.get_field(name).verbose_name)
            changes.append({"field": name, "label": label, "old": _shown(old), "new": _shown(new)})
            setattr(order, name, new)
    return changes


def change_order(order_id, *, by, lines: list[LineRequest], fields: dict) -> Order:
    """Sales changes an order before it is confirmed: lines, quantities, delivery address,
    requested date or window, instructions. Each change is written to the timeline as
    old -> new. Locks the order; refuses after confirmation and for other roles."""
    if by is not None and not by.has_perm("orders.confirm_order"):
        raise TransitionForbidden(_("Your role may not change orders."))
    if not lines:
        raise OrderActionError(_("An order needs at least one line."))
    for line in lines:
        if not 1 <= line.quantity <= 100_000:
            raise OrderActionError(_("Quantities must be between 1 and 100,000."))
    unknown = set(fields) - set(CHANGEABLE_FIELDS)
    if unknown:
        raise OrderActionError(_("These details cannot be changed here."))
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_id)
        if order.status != Status.PLACED:
            raise TransitionNotAllowed(
                _("Order %(number)s is %(status)s: it can only be changed before confirmation.")
                % {"number": order.number, "status": order.get_status_display()}
            )
        changes = _apply_fields(order, fields)

        current = {line.product_id: line for line in order.lines.select_related("product")}
        wanted = {}
        for line in lines:
            wanted[line.product.pk] = wanted.get(line.product.pk, 0) + line.quantity
        for product_id, line in current.items():
            if product_id not in wanted:
                changes.append(
                    {"field": "line", "label": line.sku, "old": str(line.quantity), "new": "0"}
                )
        products = {line.product.pk: line.product for line in lines}
        for product_id, quantity in wanted.items():
            existing = current.get(product_id)
            if existing is None:
                product = products[product_id]
                if not product.active:
                    raise OrderActionError(
                        _("Product %(sku)s is no longer sold.") % {"sku": product.sku}
                    )
                if product.currency != order.currency:
                    raise OrderActionError(
                        _("All goods of one order must be priced in the same currency.")
                    )
                changes.append(
                    {"field": "line", "label": product.sku, "old": "0", "new": str(quantity)}
                )
            elif existing.quantity != quantity:
                changes.append(
                    {
                        "field": "line",
                        "label": existing.sku,
                        "old": str(existing.quantity),
                        "new": str(quantity),
                    }
                )
        if not changes:
            return order

        # Lines keep the price they were sold at; new lines take today's price.
        OrderLine.objects.filter(order=order).exclude(product_id__in=wanted).delete()
        for product_id, quantity in wanted.items():
            existing = current.get(product_id)
            if existing is None:
                product = products[product_id]
                OrderLine.objects.create(
                    order=order,
                    product=product,
                    sku=product.sku,
                    name=product.name,
                    quantity=quantity,
                    unit_price=product.unit_price,
                )
            elif existing.quantity != quantity:
                OrderLine.objects.filter(pk=existing.pk).update(quantity=quantity)
        order.total = sum(
            (line.unit_price * line.quantity for line in order.lines.all()), Decimal("0")
        )
        order.save(update_fields=[*fields, "total"])
        OrderEvent.objects.create(
            order=order, actor=by, kind=EventKind.SYSTEM, code="changed", data={"changes": changes}
        )
    return order


# ---------------------------------------------------------------------------
# Verification and the customer's own answers


def verify_order(order_id, *, by, contact=False, address=False, method="", note="") -> Order:
    """Sales records that it checked the contact details and/or the delivery address
    (who, when, how), on the timeline. Only while the order is placed."""
    if not (contact or address):
        raise OrderActionError(_("Tick what you verified: contact details, address or both."))
    if method not in (VerificationMethod.PHONE, VerificationMethod.EMAIL):
        raise OrderActionError(_("Choose how you verified."))
    if by is not None and not by.has_perm("orders.confirm_order"):
        raise TransitionForbidden(_("Your role may not verify orders."))
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_id)
        if order.status != Status.PLACED:
            raise TransitionNotAllowed(_("Only orders waiting for confirmation are verified."))
        now = timezone.now()
        fields = []
        if contact:
            order.contact_verified_at = now
            fields.append("contact_verified_at")
        if address:
            order.address_verified_at = now
            fields.append("address_verified_at")
        order.save(update_fields=fields)
        OrderEvent.objects.create(
            order=order,
            actor=by,
            kind=EventKind.SYSTEM,
            code="verified",
            data={"contact": bool(contact), "address": bool(address), "method": method},
            note=(note or "").strip(),
            created_at=now,
        )
    return order


def link_order_to_customer(order_id, customer_id, *, by) -> Order:
    """Sales files the order under an existing customer, after checking (usually by
    phone) that the person who placed it is that customer.

    Only a possible match may be chosen: a customer with the order's contact phone or
    email (``selectors.possible_customer_filter``). The order's own contact details
    (name, phone, email, language), where its emails go, stay as they were typed, and
    no customer row is changed or merged: the customer the order was filed under at
    placement stays, without this order, and can be chosen again to undo. Writes a
    "customer_linked" timeline event (who, from which customer to which).

    Locks the order. Raises TransitionForbidden for other roles, TransitionNotAllowed
    once the order is confirmed or cancelled, OrderActionError for a customer that is
    not a possible match.
    """
    from .selectors import possible_customer_filter

    _require_sales(by, _("Your role may not change whom an order is filed under."))
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_id)
        if order.status != Status.PLACED:
            raise TransitionNotAllowed(
                _("Only orders waiting for confirmation can be filed under another customer.")
            )
        customer = Customer.objects.filter(possible_customer_filter(order), pk=customer_id).first()
        if customer is None:
            raise OrderActionError(
                _("This customer has neither the phone number nor the email of this order.")
            )
        if customer.pk == order.customer_id:
            return order
        previous = order.customer_id
        order.customer = customer
        order.save(update_fields=["customer"])
        OrderEvent.objects.create(
            order=order,
            actor=by,
            kind=EventKind.SYSTEM,
            code="customer_linked",
            data={"customer": customer.pk, "name": customer.name, "previous": previous},
        )
    return order


def keep_order_separate(order_id, *, by) -> Order:
    """Sales records that the person who placed the order is none of the customers
    sharing its phone or email: the order stays filed under its own customer. Writes a
    "customer_kept_separate" timeline event. Locks the order; raises like
    ``link_order_to_customer``."""
    _require_sales(by, _("Your role may not change whom an order is filed under."))
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_id)
        if order.status != Status.PLACED:
            raise TransitionNotAllowed(
                _("Only orders waiting for confirmation can be filed under another customer.")
            )
        OrderEvent.objects.create(
            order=order,
            actor=by,
            kind=EventKind.SYSTEM,
            code="customer_kept_separate",
            data={"customer": order.customer_id},
        )
    return order


def confirm_by_customer(order_id) -> Order:
    """The customer confirms through the signed link in the order-received email.

    Their answer verifies the contact (they got the email) and the address (they saw
    it), and the delivery date shown to them becomes the promise.
    """
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_id)
        if order.status != Status.PLACED:
            raise TransitionNotAllowed(_("This order has already been answered."))
        now = timezone.now()
        order.contact_verified_at = order.contact_verified_at or now
        order.address_verified_at = order.address_verified_at or now
        order.save(update_fields=["contact_verified_at", "address_verified_at"])
        return confirm_order(
            order.pk,
            by=None,
            promised_date=proposed_delivery_date(order),
            method=VerificationMethod.LINK,
            agreed=_("Confirmed by the customer online."),
        )


def request_callback(order_id) -> Order:
    """The customer asks Sales to call before confirming (from the signed link)."""
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_id)
        if order.status != Status.PLACED:
            raise TransitionNotAllowed(_("This order has already been answered."))
        if order.callback_requested_at is None:
            order.callback_requested_at = timezone.now()
            order.save(update_fields=["callback_requested_at"])
            OrderEvent.objects.create(order=order, kind=EventKind.SYSTEM, code="callback_requested")
    return order


def proposed_delivery_date(order):
    """The date shown to a customer confirming online: their wish, else the lead time."""
    earliest = timezone.localdate() + timedelta(days=settings.O2D_DELIVERY_LEAD_DAYS)
    if order.requested_date and order.requested_date >= earliest:
        return order.requested_date
    return earliest


# ---------------------------------------------------------------------------
# Customer emails


def notify_customer(
    order: Order, kind: str, *, new=False, key="", data=None
) -> Notification | None:
    """Record an email to the customer in the caller's transaction and send it after
    commit. It goes to the email typed with the order (``order.contact_email``), never
    to an address found on an earlier customer; orders without one get none. Each kind
    is sent once per ``key`` (``new``: the order was just created, so there can be no
    earlier one)."""
    if not order.contact_email:
        return None
    if new:
        notification = Notification.objects.create(
            order=order, kind=kind, key=key, to=order.contact_email, data=data or {}
        )
        created = True
    else:
        notification, created = Notification.objects.get_or_create(
            order=order,
            kind=kind,
            key=key,
            defaults={"to": order.contact_email, "data": data or {}},
        )
    if created:
        transaction.on_commit(lambda: _enqueue_email(notification.pk))
    return notification


def _enqueue_email(notification_id):
    from .tasks import send_customer_email

    try:
        send_customer_email.delay(notification_id)
    except Exception:  # the broker is down: the sweep re-queues unsent emails
        logger.exception("could not queue customer email %s", notification_id)


# ---------------------------------------------------------------------------
# Comments and the deadline sweep


COMMENT_MAX_LENGTH = 4000


def add_comment(order_id, *, by, text: str) -> OrderEvent:
    """Add a staff comment to the order's timeline (seen by every department, never
    by the customer). Raises OrderActionError for an empty or over-long comment."""
    text = (text or "").strip()
    if not text:
        raise OrderActionError(_("A comment cannot be empty."))
    if len(text) > COMMENT_MAX_LENGTH:
        raise OrderActionError(
            _("A comment can have at most %(max)d characters.") % {"max": COMMENT_MAX_LENGTH}
        )
    if not by.has_perm("orders.comment_order"):
        raise TransitionForbidden(_("Your role may not comment on orders."))
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_id)
        return OrderEvent.objects.create(
            order=order,
            actor=by,
            kind=EventKind.COMMENT,
            note=text,
            public=False,
            created_at=timezone.now(),
        )


def mark_overdue_steps(now=None) -> int:
    """The deadline sweep: record, once per step, every open order whose current step
    has passed its target time. Returns how many orders were newly marked.

    Each order is claimed with a conditional UPDATE (``step_overdue_at IS NULL`` and
    the state unchanged), so overlapping sweeps mark and record each order once.
    """
    now = now or timezone.now()
    steps = steps_by_code()
    marked = 0
    # Only orders already past their deadline, found by the database.
    candidates = annotate_due_at(
        Order.objects.filter(step_overdue_at__isnull=True, status__in=OPEN_STATUSES), steps
    ).filter(due_at__lte=now)
    fields = ("pk", "status", "channel", "step_started_at", "salesperson_id")
    for order in candidates.only(*fields).iterator():
        clock = clock_for(order, steps, now)
        if clock is None or clock.state != "late":
            continue
        with transaction.atomic():
            claimed = Order.objects.filter(
                pk=order.pk,
                status=order.status,
                step_started_at=order.step_started_at,
                step_overdue_at__isnull=True,
            ).update(step_overdue_at=now)
            if not claimed:
                continue
            OrderEvent.objects.create(
                order_id=order.pk,
                kind=EventKind.SYSTEM,
                code="step_overdue",
                data={"step": clock.step.code, "status": order.status},
                created_at=now,
            )
            _open_follow_up(order, clock, now)
            marked += 1
    return marked


def _open_follow_up(order, clock, now):
    """The step is late: give its owner a follow-up task, and for an unconfirmed order
    send the customer one reminder. Runs inside the sweep's claim of the order."""
    within = clock.step.follow_up_within
    if within is None:
        return
    follow_up, created = FollowUp.objects.get_or_create(
        order_id=order.pk,
        step=clock.step.code,
        step_started_at=order.step_started_at,
        defaults={"assignee_id": order.salesperson_id, "due_at": now + within, "created_at": now},
    )
    if not created:
        return
    OrderEvent.objects.create(
        order_id=order.pk,
        kind=EventKind.SYSTEM,
        code="follow_up_created",
        data={"step": clock.step.code, "due_at": follow_up.due_at.isoformat()},
        created_at=now,
    )
    if order.status == Status.PLACED:
        notify_customer(
            Order.objects.select_related("customer").get(pk=order.pk),
            NotificationKind.CONFIRMATION_REMINDER,
        )


def escalate_overdue_follow_ups(now=None) -> int:
    """Follow-ups past their due time are escalated to the managers, once each
    (claimed with a conditional UPDATE). Returns how many were escalated."""
    now = now or timezone.now()
    escalated = 0
    overdue = FollowUp.objects.filter(
        done_at__isnull=True, escalated_at__isnull=True, due_at__lte=now
    ).values_list("pk", "order_id", "step")
    for pk, order_id, step in overdue:
        with transaction.atomic():
            claimed = FollowUp.objects.filter(
                pk=pk, done_at__isnull=True, escalated_at__isnull=True
            ).update(escalated_at=now)
            if claimed:
                OrderEvent.objects.create(
                    order_id=order_id,
                    kind=EventKind.SYSTEM,
                    code="follow_up_escalated",
                    data={"step": step},
                    created_at=now,
                )
                escalated += 1
    return escalated


# ---------------------------------------------------------------------------
# The customer's delivery change requests (from the public status page)
#
# Until packing starts the customer may ask for another delivery window, add
# instructions or give another address. Nothing changes on the order until Sales
# approves; approval re-checks that packing has not started, applies the change
# with the same old -> new record as Sales' own edits, and the carrier proposal and
# labels follow because they are computed from the order's delivery fields.

CHANGE_INSTRUCTIONS_MAX = 1000
CHANGE_REASON_MAX = 1000


def why_not_changeable(order: Order) -> str:
    """Why the customer can no longer change the delivery of ``order`` (translated)."""
    if order.status == Status.PICKED:
        return _(
            "Your goods are being packed, so the delivery can no longer be changed here. "
            "If something is urgent, call us and give your order number."
        )
    if order.status == Status.SHIPPED:
        return _(
            "Your order is on its way with the carrier, so the delivery can no longer be "
            "changed here. The carrier's tracking page shows what they can still do."
        )
    if order.status == Status.CANCELLED:
        return _("This order was cancelled.")
    return _("Your order has been delivered.")


def _require_sales(by, message):
    if by is None or not by.has_perm("orders.confirm_order"):
        raise TransitionForbidden(message)


def request_delivery_change(
    order_id, *, window="", instructions="", address: DeliveryDetails | None = None
) -> DeliveryChangeRequest:
    """The customer asks, from the status page, to change the delivery window, add
    instructions and/or deliver to another address. Sales decides later.

    Locks the order. Raises TransitionNotAllowed (409) once packing has started or
    while an earlier request waits for its answer, OrderActionError (400) when nothing
    would change or the input is invalid. Writes a public "change_requested" event
    that names only what is asked for, never the new address.
    """
    window = window or ""
    instructions = (instructions or "").strip()
    if window and window not in DeliveryWindow.values:
        raise OrderActionError(_("Choose a delivery window from the list."))
    if len(instructions) > CHANGE_INSTRUCTIONS_MAX:
        raise OrderActionError(
            _("Instructions can have at most %(max)d characters.")
            % {"max": CHANGE_INSTRUCTIONS_MAX}
        )
    if address is not None and not (address.province and address.city and address.street):
        raise OrderActionError(_("A new address needs a province, a city and a street address."))
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_id)
        if order.status not in CUSTOMER_CHANGEABLE_STATUSES:
            raise TransitionNotAllowed(why_not_changeable(order))
        if window == order.requested_window:
            window = ""
        if address is not None and _same_address(order, address):
            address = None
        if not (window or instructions or address):
            raise OrderActionError(
                _(
                    "Nothing would change: choose another delivery window, add instructions "
                    "or give a new address."
                )
            )
        if order.change_requests.filter(status=ChangeRequestStatus.PENDING).exists():
            raise TransitionNotAllowed(
                _(
                    "We are still looking at your earlier request. Please wait for our answer "
                    "before you send another."
                )
            )
        address = address or DeliveryDetails("", "", "", "", "")
        change = DeliveryChangeRequest.objects.create(
            order=order,
            requested_window=window,
            instructions=instructions,
            recipient=address.recipient,
            phone=address.phone,
            province=address.province,
            city=address.city,
            district=address.district,
            street=address.street,
            postal_code=address.postal_code,
        )
        OrderEvent.objects.create(
            order=order,
            kind=EventKind.SYSTEM,
            code="change_requested",
            data={"request": change.pk, "what": change.what},
            public=True,
            created_at=change.created_at,
        )
    return change


def _same_address(order: Order, address: DeliveryDetails) -> bool:
    wanted = {
        "delivery_recipient": address.recipient or order.delivery_recipient,
        "delivery_phone": address.phone or order.delivery_phone,
        "delivery_province": address.province,
        "delivery_city": address.city,
        "delivery_district": address.district,
        "delivery_street": address.street,
        "delivery_postal_code": address.postal_code,
    }
    return all(_shown(getattr(order, name)) == _shown(value) for name, value in wanted.items())


def _lock_change_request(request_id):
    """Lock the request's order, then the request (the order first, like every other
    service, so a decision and a warehouse transition serialise without deadlock)."""
    order_id = (
        DeliveryChangeRequest.objects.filter(pk=request_id)
        .values_list("order_id", flat=True)
        .first()
    )
    if order_id is None:
        raise OrderActionError(_("This request does not exist."))
    order = Order.objects.select_for_update().select_related("customer").get(pk=order_id)
    change = DeliveryChangeRequest.objects.select_for_update().get(pk=request_id)
    if change.status != ChangeRequestStatus.PENDING:
        raise OrderChanged(
            _("This request was answered meanwhile (%(status)s). Nothing was done.")
            % {"status": change.get_status_display()}
        )
    return order, change


def approve_delivery_change(request_id, *, by) -> DeliveryChangeRequest:
    """Sales approves a customer's change request: the order's window, instructions
    and/or address change, recorded old -> new on the timeline ("changed"), a public
    "change_approved" event is written and the customer is emailed.

    Locks the order and the request. Raises TransitionForbidden for other roles,
    OrderChanged when the request was already answered and TransitionNotAllowed
    (409) when packing has started meanwhile (the request then stays open, to be
    refused with a reason).
    """
    _require_sales(by, _("Your role may not answer delivery change requests."))
    with transaction.atomic():
        order, change = _lock_change_request(request_id)
        if order.status not in CUSTOMER_CHANGEABLE_STATUSES:
            raise TransitionNotAllowed(
                _(
                    "Order %(number)s is %(status)s: packing has started, so its delivery can "
                    "no longer be changed. Refuse the request and tell the customer why."
                )
                % {"number": order.number, "status": order.get_status_display()}
            )
        fields = {}
        if change.requested_window:
            fields["requested_window"] = change.requested_window
        if change.instructions:
            before = order.special_instructions.rstrip()
            fields["special_instructions"] = (
                f"{before}\n{change.instructions}" if before else change.instructions
            )
        if change.changes_address:
            fields.update(
                delivery_recipient=change.recipient or order.delivery_recipient,
                delivery_phone=change.phone or order.delivery_phone,
                delivery_province=change.province,
                delivery_city=change.city,
                delivery_district=change.district,
                delivery_street=change.street,
                delivery_postal_code=change.postal_code,
            )
        now = timezone.now()
        changes = _apply_fields(order, fields)
        if changes:
            order.save(update_fields=[c["field"] for c in changes])
            OrderEvent.objects.create(
                order=order,
                actor=by,
                kind=EventKind.SYSTEM,
                code="changed",
                data={"changes": changes, "request": change.pk},
                created_at=now,
            )
        change.status = ChangeRequestStatus.APPROVED
        change.decided_by = by
        change.decided_at = now
        change.save(update_fields=["status", "decided_by", "decided_at"])
        OrderEvent.objects.create(
            order=order,
            actor=by,
            kind=EventKind.SYSTEM,
            code="change_approved",
            data={"request": change.pk, "what": change.what},
            public=True,
            created_at=now,
        )
        notify_customer(
            order,
            NotificationKind.DELIVERY_CHANGE_APPROVED,
            key=str(change.pk),
            data={"what": change.what},
        )
    return change


def refuse_delivery_change(request_id, *, by, reason: str) -> DeliveryChangeRequest:
    """Sales refuses a customer's change request with a reason written for the
    customer: it is shown on the status page and in the email. The order is not
    changed. Locks the order and the request; raises OrderActionError without a
    reason, TransitionForbidden for other roles, OrderChanged when already answered."""
    _require_sales(by, _("Your role may not answer delivery change requests."))
    reason = (reason or "").strip()
    if not reason:
        raise OrderActionError(_("Give the customer a reason for the refusal."))
    if len(reason) > CHANGE_REASON_MAX:
        raise OrderActionError(
            _("The reason can have at most %(max)d characters.") % {"max": CHANGE_REASON_MAX}
        )
    with transaction.atomic():
        order, change = _lock_change_request(request_id)
        now = timezone.now()
        change.status = ChangeRequestStatus.REFUSED
        change.decided_by = by
        change.decided_at = now
        change.reason = reason
        change.save(update_fields=["status", "decided_by", "decided_at", "reason"])
        OrderEvent.objects.create(
            order=order,
            actor=by,
            kind=EventKind.SYSTEM,
            code="change_refused",
            data={"request": change.pk, "what": change.what, "reason": reason},
            public=True,
            created_at=now,
        )
        notify_customer(
            order,
            NotificationKind.DELIVERY_CHANGE_REFUSED,
            key=str(change.pk),
            data={"what": change.what, "reason": reason},
        )
    return change
