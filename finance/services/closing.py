"""The closing request: opened at receipt, submitted by Sales, acknowledged and
reviewed by Finance, sent back or approved (which closes the order); escalated to the
managers when it waits too long in the same hands."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import ConcurrentTransition, can_proceed

from orders import timeline
from orders.models import NotificationKind, Order, Status
from orders.roles import Role, has_role
from orders.services import (
    OrderActionError,
    OrderChanged,
    TransitionForbidden,
    TransitionNotAllowed,
    close_order,
    notify_customer,
)

from .. import selectors
from ..models import (
    WITH_SALES,
    ChecklistOverride,
    ClosingDocument,
    ClosingRequest,
    RequestStatus,
)
from ._common import (
    NOTE_MAX,
    _lock,
    _reason,
    _require_finance,
    _require_manager,
    _require_sales,
)

# ---------------------------------------------------------------------------
# The closing request


def open_closing_request(order: Order, *, now=None) -> ClosingRequest:
    """Receipt is confirmed: open the order's closing request for its salesperson (once)
    and start the closing step's clock. Runs in the receipt's transaction."""
    now = now or timezone.now()
    request, created = ClosingRequest.objects.get_or_create(
        order=order,
        defaults={"salesperson_id": order.salesperson_id, "opened_at": now, "step_started_at": now},
    )
    if created:
        # The closing step's target counts from here, not from the delivery.
        Order.objects.filter(pk=order.pk, status=Status.DELIVERED).update(
            step_started_at=now, step_overdue_at=None
        )
        timeline.record(order, "closing_opened", created_at=now)
    return request


def escalate_closing_requests(now=None) -> int:
    """Requests that have waited in the hands they are in (Sales' after receipt or a
    send-back, Finance's after submission) past the closing step's target time are
    escalated to the managers: once per hand-off, claimed with a conditional UPDATE so
    that overlapping sweeps escalate each once. Returns how many were escalated."""
    target = selectors.closing_target()
    if target is None:
        return 0
    now = now or timezone.now()
    late = (
        ClosingRequest.objects.exclude(status=RequestStatus.APPROVED)
        .filter(escalated_at__isnull=True, step_started_at__lte=now - target)
        .values_list("pk", "order_id", "status", "step_started_at")
    )
    escalated = 0
    for pk, order_id, status, since in late:
        with transaction.atomic():
            claimed = ClosingRequest.objects.filter(
                pk=pk, status=status, step_started_at=since, escalated_at__isnull=True
            ).update(escalated_at=now)
            if claimed:
                holder = "sales" if status in WITH_SALES else "finance"
                timeline.record(
                    order_id,
                    "closing_escalated",
                    data={"with": holder, "since": since.isoformat()},
                    created_at=now,
                )
                escalated += 1
    return escalated


def _lock_request(order_id) -> tuple[Order, ClosingRequest]:
    order = _lock(order_id)
    request = ClosingRequest.objects.filter(order=order).first()
    if request is None:
        raise TransitionNotAllowed(
            _("Order %(number)s has no closing request: receipt is not confirmed yet.")
            % {"number": order.number}
        )
    return order, request


def _expect(request: ClosingRequest, expected):
    """Refuse when the request moved since the user saw it (``expected``: its status then)."""
    if expected and request.status != expected:
        raise OrderChanged(
            _("The closing request was changed meanwhile: it is now %(status)s. Nothing was done.")
            % {"status": request.get_status_display()}
        )


def _take(request: ClosingRequest, name: str, expected=None, **arguments):
    _expect(request, expected)
    method = getattr(request, name)
    if not can_proceed(method):
        raise TransitionNotAllowed(
            _("The closing request is %(status)s: this cannot be done now.")
            % {"status": request.get_status_display()}
        )
    method(**arguments)
    try:
        with transaction.atomic():
            request.save()
    except ConcurrentTransition:
        raise OrderChanged(
            _("The closing request was changed meanwhile. Nothing was done; please look again.")
        ) from None


def submit_request(order_id, *, by, note="", expected=None, now=None) -> ClosingRequest:
    """Sales has completed the request (documents, note) and hands it to Finance."""
    _require_sales(by)
    note = _reason(note, required=False, limit=NOTE_MAX)
    now = now or timezone.now()
    with transaction.atomic():
        order, request = _lock_request(order_id)
        _take(request, "submit", expected, by=by, note=note, now=now)
        timeline.record(order, "closing_submitted", actor=by, note=note, created_at=now)
    return request


def add_document(order_id, *, by, kind, upload, note="", key, now=None) -> ClosingDocument:
    """Sales (or Finance) adds a document to the request: payment proof, invoice, other."""
    if by is None or not has_role(by, Role.SALES, Role.FINANCE):
        raise TransitionForbidden(_("Your role may not add documents to a closing request."))
    note = _reason(note, required=False, limit=200)
    now = now or timezone.now()
    with transaction.atomic():
        order, request = _lock_request(order_id)
        earlier = ClosingDocument.objects.filter(request=request, submission_key=key).first()
        if earlier is not None:
            return earlier
        if request.status == RequestStatus.APPROVED:
            raise TransitionNotAllowed(_("The order is closed: its request is final."))
        document = ClosingDocument(
            request=request,
            kind=kind,
            note=note,
            uploaded_by=by,
            uploaded_at=now,
            submission_key=key,
        )
        document.file.save(upload.name, upload, save=False)
        document.save(force_insert=True)
        timeline.record(
            order,
            "closing_document",
            actor=by,
            data={"kind": kind},
            note=note,
            created_at=now,
        )
    return document


def acknowledge_request(order_id, *, by, expected=None, now=None) -> ClosingRequest:
    """Finance takes the submitted request (who and when are recorded)."""
    _require_finance(by)
    if by is None:
        raise TransitionForbidden(_("Only Finance may do this."))
    now = now or timezone.now()
    with transaction.atomic():
        order, request = _lock_request(order_id)
        _take(request, "acknowledge", expected, by=by, now=now)
        timeline.record(order, "closing_acknowledged", actor=by, created_at=now)
    return request


def send_back(order_id, *, by, reason, expected=None, now=None) -> ClosingRequest:
    """Finance returns the request to Sales' queue with what is missing."""
    _require_finance(by)
    if by is None:
        raise TransitionForbidden(_("Only Finance may do this."))
    reason = _reason(reason, limit=NOTE_MAX)
    now = now or timezone.now()
    with transaction.atomic():
        order, request = _lock_request(order_id)
        _take(request, "send_back", expected, reason=reason, now=now)
        timeline.record(order, "closing_sent_back", actor=by, note=reason, created_at=now)
    return request


def override_item(order_id, *, by, key, reason, now=None) -> ChecklistOverride:
    """A manager decides, in writing, that one checklist item need not pass."""
    _require_manager(by)
    reason = _reason(reason, limit=NOTE_MAX)
    now = now or timezone.now()
    with transaction.atomic():
        order, request = _lock_request(order_id)
        if request.status == RequestStatus.APPROVED:
            raise TransitionNotAllowed(_("The order is closed: its request is final."))
        item = next((c for c in selectors.checklist(order, request) if c.check.key == key), None)
        if item is None or not item.check.required:
            raise OrderActionError(_("No such checklist item."))
        if item.override is not None:
            return item.override
        override = ChecklistOverride.objects.create(
            request=request, key=key, reason=reason, by=by, at=now
        )
        timeline.record(
            order,
            "closing_override",
            actor=by,
            data={"item": str(item.check.label)},
            note=reason,
            created_at=now,
        )
    return override


def approve(order_id, *, by, expected=None, now=None) -> ClosingRequest:
    """Every item passes (or was overridden): the order becomes closed and the customer
    gets a short thank-you email."""
    _require_finance(by)
    if by is None:
        raise TransitionForbidden(_("Only Finance may do this."))
    now = now or timezone.now()
    with transaction.atomic():
        order, request = _lock_request(order_id)
        _expect(request, expected)
        failing = selectors.failing(selectors.checklist(order, request))
        if request.status != RequestStatus.IN_REVIEW:
            _take(request, "approve", None, by=by, now=now)  # refused: wrong state
        if failing:
            raise TransitionNotAllowed(
                _("The order cannot be closed yet: %(items)s.")
                % {"items": "; ".join(str(item.check.label) for item in failing)}
            )
        # Order.close's condition asks the same checklist (finance's gate).
        close_order(order.pk, by=by, expected_status=Status.DELIVERED)
        _take(request, "approve", None, by=by, now=now)
        order.refresh_from_db()
        notify_customer(order, NotificationKind.ORDER_CLOSED)
    return request
