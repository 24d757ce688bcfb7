"""Everything that writes receipts and problem cases.

Each action locks the order row first (select_for_update), so confirmations, problem
reports, resolutions and the automatic confirmation of one order run one after the
other; each writes its timeline event in the same transaction, and emails leave only
after commit (orders.services.notify_customer).
"""

import logging
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from orders import timeline
from orders.clock import steps_by_code
from orders.models import Notification, NotificationKind, Order, Status, StepCode
from orders.services import (
    OrderActionError,
    TransitionForbidden,
    TransitionNotAllowed,
    not_possible_now,
    notify_customer,
)
from orders.signals import receipt_confirmed

from .models import CaseStatus, ProblemCase, ProblemKind, ProblemPhoto, Receipt, ReceiptMethod
from .photos import MAX_PHOTOS, CheckedPhoto, save_photos
from .selectors import awaiting_receipt, case_response_time, receipt_limit

logger = logging.getLogger(__name__)

DETAILS_MAX_LENGTH = 4000
NOTE_MAX_LENGTH = 2000

SALES_PERMISSION = "orders.confirm_order"


class AlreadyResolved(TransitionNotAllowed):
    """The case was resolved meanwhile (by someone else, or a double click)."""


def _require_sales(by):
    if by is None or not by.has_perm(SALES_PERMISSION):
        raise TransitionForbidden(_("Your role may not take this action on the order."))


def _lock_delivered(order_id) -> Order:
    order = Order.objects.select_for_update().select_related("customer").get(pk=order_id)
    if order.status != Status.DELIVERED:
        raise not_possible_now(order)
    return order


def days_text(limit: timedelta) -> str:
    """A time limit in days, as the timeline and emails say it: "7", or "1.5"."""
    days = limit / timedelta(days=1)
    return str(int(days)) if days == int(days) else f"{days:.1f}"


# ---------------------------------------------------------------------------
# Receipt


def confirm_receipt(
    order_id, *, how: str, by=None, note: str = "", now=None
) -> tuple[Receipt, bool]:
    """Record that the customer received the order, once. Returns (receipt, created).

    ``how`` is customer (the status page; ``by`` None), phone (Sales records what the
    customer said; ``by`` needs the Sales permission) or automatic (the task; no
    answer within the limit, no open problem case). Locks the order; a second
    confirmation, by anyone, returns the first one unchanged. Raises
    TransitionNotAllowed unless the order is delivered, TransitionForbidden for a
    phone confirmation by another role, OrderActionError for an over-long note.
    """
    if how not in ReceiptMethod.values:
        raise OrderActionError(_("Unknown way of confirming receipt."))
    if how == ReceiptMethod.PHONE:
        _require_sales(by)
    note = (note or "").strip()
    if len(note) > NOTE_MAX_LENGTH:
        raise OrderActionError(
            _("A note can have at most %(max)d characters.") % {"max": NOTE_MAX_LENGTH}
        )
    now = now or timezone.now()
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_id)
        existing = Receipt.objects.filter(order=order).first()
        if existing is not None:
            return existing, False
        if order.status != Status.DELIVERED:
            raise TransitionNotAllowed(
                _("Order %(number)s is %(status)s: receipt can only be confirmed once delivered.")
                % {"number": order.number, "status": order.get_status_display()}
            )
        data = {}
        code = {
            ReceiptMethod.CUSTOMER: "receipt_confirmed",
            ReceiptMethod.PHONE: "receipt_confirmed_by_phone",
        }.get(how)
        if how == ReceiptMethod.AUTOMATIC:
            if ProblemCase.objects.filter(order=order, status=CaseStatus.OPEN).exists():
                raise TransitionNotAllowed(
                    _("A problem case is open: receipt is not confirmed automatically.")
                )
            days = days_text(receipt_limit())
            code = "receipt_auto_confirmed_one_day" if days == "1" else "receipt_auto_confirmed"
            data = {"days": days}
        try:
            # The one-to-one key is the claim: a concurrent confirmation that got past
            # the lock some other way still cannot write a second receipt.
            with transaction.atomic():
                receipt = Receipt.objects.create(
                    order=order,
                    confirmed_at=now,
                    how=how,
                    by=by if how == ReceiptMethod.PHONE else None,
                    note=note,
                )
        except IntegrityError:
            return Receipt.objects.get(order=order), False
        timeline.record(
            order,
            code,
            actor=receipt.by,
            data=data,
            note=note,
            public=True,
            created_at=now,
        )
        receipt_confirmed.send(sender=Receipt, order=order, receipt_id=receipt.pk, at=now)
    return receipt, True


def auto_confirm_receipts(now=None) -> int:
    """Receipt counts as confirmed for every delivered order left without an answer
    for longer than the receipt step's target time (and with no open problem case;
    after a resolved case the customer gets the full time again). Returns how many
    were confirmed now. Safe to run twice or concurrently: each order is locked and
    its one-to-one receipt can only be written once."""
    now = now or timezone.now()
    limit = receipt_limit()
    confirmed = 0
    for order_id in awaiting_receipt(now, limit=limit).values_list("pk", flat=True):
        try:
            _receipt, created = confirm_receipt(order_id, how=ReceiptMethod.AUTOMATIC, now=now)
        except OrderActionError:
            continue  # the order moved on, or a case was opened, since the query
        confirmed += created
    return confirmed


def send_receipt_reminders(now=None) -> int:
    """Remind customers once to confirm receipt when the receipt step is "due soon"
    (its warning percentage of the target time), before receipt counts as confirmed
    by itself. Returns how many reminders were recorded (each once per order)."""
    now = now or timezone.now()
    steps = steps_by_code()
    step = steps.get(StepCode.RECEIPT)
    limit = receipt_limit(steps)
    percent = step.warning_percent if step else 75
    remind_after = limit * percent / 100
    sent = 0
    candidates = (
        awaiting_receipt(now, limit=remind_after)
        .filter(contact_email__gt="")
        .exclude(
            Exists(
                Notification.objects.filter(
                    order=OuterRef("pk"), kind=NotificationKind.RECEIPT_REMINDER
                )
            )
        )
        .values_list("pk", flat=True)
    )
    for order_id in candidates:
        with transaction.atomic():
            order = Order.objects.select_for_update().select_related("customer").get(pk=order_id)
            if (
                order.status != Status.DELIVERED
                or Receipt.objects.filter(order=order).exists()
                or order.notifications.filter(kind=NotificationKind.RECEIPT_REMINDER).exists()
            ):
                continue
            notify_customer(
                order,
                NotificationKind.RECEIPT_REMINDER,
                data={
                    "days": days_text(limit),
                    "by": timezone.localdate(order.step_started_at + limit).isoformat(),
                },
            )
            timeline.record(order, "receipt_reminder", created_at=now)
            sent += 1
    return sent


# ---------------------------------------------------------------------------
# Problem cases


def report_problem(
    order_id, *, kind: str, details: str, photos: list[CheckedPhoto], key: str, now=None
) -> tuple[ProblemCase, bool]:
    """The customer reports a problem with a delivered order: opens a case for Sales
    (owner: the order's salesperson; due within the receipt step's follow-up time)
    with the details and photos, writes the timeline and emails the customer an
    acknowledgement after commit. Returns (case, created).

    Exactly once per form submission: the same ``key`` finds the case it opened.
    An order has at most one open case; reporting again while one is open is refused
    (TransitionNotAllowed), as is reporting on an order that is not delivered.
    Photos are stored under random names; if anything fails, none is kept.
    Does not confirm receipt.
    """
    if kind not in ProblemKind.values:
        raise OrderActionError(_("Choose what is wrong."))
    details = (details or "").strip()
    if not details:
        raise OrderActionError(_("Please describe the problem."))
    if len(details) > DETAILS_MAX_LENGTH:
        raise OrderActionError(
            _("The description can have at most %(max)d characters.") % {"max": DETAILS_MAX_LENGTH}
        )
    if len(photos) > MAX_PHOTOS:
        raise OrderActionError(_("Send at most %(max)d photos.") % {"max": MAX_PHOTOS})
    key = (key or "").strip()[:64]
    if not key:
        raise OrderActionError(_("The form was incomplete. Please reload the page."))
    now = now or timezone.now()

    existing = ProblemCase.objects.filter(order_id=order_id, submission_key=key).first()
    if existing is not None:
        return existing, False
    stored = []
    try:
        with transaction.atomic():
            order = _lock_delivered(order_id)
            existing = ProblemCase.objects.filter(order=order, submission_key=key).first()
            if existing is not None:
                return existing, False
            if ProblemCase.objects.filter(order=order, status=CaseStatus.OPEN).exists():
                raise TransitionNotAllowed(
                    _(
                        "We are already looking into a problem with this order. To add "
                        "something, reply to our email or call us."
                    )
                )
            case = ProblemCase.objects.create(
                order=order,
                kind=kind,
                details=details,
                opened_at=now,
                owner_id=order.salesperson_id,
                due_at=now + case_response_time(),
                submission_key=key,
            )
            save_photos(ProblemPhoto, photos, stored=stored, now=now, case=case)
            timeline.record(
                order,
                f"problem_reported_{kind}",
                data={"case": case.pk, "photos": len(photos)},
                public=True,
                created_at=now,
            )
            notify_customer(
                order, NotificationKind.PROBLEM_RECEIVED, key=str(case.pk), data={"kind": kind}
            )
    except IntegrityError:
        # A concurrent submission (the same form twice, or another report) won.
        _discard(stored)
        existing = ProblemCase.objects.filter(order_id=order_id, submission_key=key).first()
        if existing is not None:
            return existing, False
        raise TransitionNotAllowed(
            _(
                "We are already looking into a problem with this order. To add "
                "something, reply to our email or call us."
            )
        ) from None
    except BaseException:
        _discard(stored)
        raise
    return case, True


def _discard(names):
    """Remove photos written to storage by a transaction that was rolled back."""
    from django.core.files.storage import default_storage

    for name in names:
        try:
            default_storage.delete(name)
        except OSError:  # pragma: no cover - logged, never hides the original error
            logger.exception("could not remove photo %s", name)


RESOLUTION_MAX_LENGTH = 4000


def resolve_case(case_id, *, by, resolution: str, now=None) -> ProblemCase:
    """Sales resolves a problem case, saying how (the customer is emailed the
    resolution after commit; the timeline notes it). Locks the order, then the case.
    Raises TransitionForbidden for other roles, OrderActionError without a resolution,
    AlreadyResolved when the case was resolved meanwhile."""
    _require_sales(by)
    resolution = (resolution or "").strip()
    if not resolution:
        raise OrderActionError(_("Write how the problem was resolved."))
    if len(resolution) > RESOLUTION_MAX_LENGTH:
        raise OrderActionError(
            _("The resolution can have at most %(max)d characters.")
            % {"max": RESOLUTION_MAX_LENGTH}
        )
    now = now or timezone.now()
    order_id = ProblemCase.objects.values_list("order_id", flat=True).get(pk=case_id)
    with transaction.atomic():
        order = Order.objects.select_for_update().select_related("customer").get(pk=order_id)
        case = ProblemCase.objects.select_for_update().get(pk=case_id)
        if case.status != CaseStatus.OPEN:
            raise AlreadyResolved(
                _("This problem was already resolved. Nothing was changed; please look again.")
            )
        case.status = CaseStatus.RESOLVED
        case.resolved_at = now
        case.resolved_by = by
        case.resolution = resolution
        case.save(update_fields=["status", "resolved_at", "resolved_by", "resolution"])
        timeline.record(
            order,
            "problem_resolved",
            actor=by,
            data={"case": case.pk},
            note=resolution,
            public=True,
            created_at=now,
        )
        notify_customer(
            order,
            NotificationKind.PROBLEM_RESOLVED,
            key=str(case.pk),
            data={"kind": case.kind, "resolution": resolution},
        )
    return case
