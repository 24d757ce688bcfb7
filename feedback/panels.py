"""Feedback's panels on the orders pages (registered in FeedbackConfig.ready)."""

from django.db.models import Subquery, prefetch_related_objects
from django.template.loader import render_to_string
from django.utils import timezone

from orders.models import Order, ProcessStep, Status, StepCode
from orders.roles import Role, has_role

from . import returns, selectors
from .forms import (
    ApproveReturnForm,
    PhoneReceiptForm,
    ProblemReportForm,
    RefuseReturnForm,
    ResolveCaseForm,
    new_form_token,
    return_request_form,
)
from .models import CaseStatus, ProblemCase, Receipt, ReturnRequest, ReturnStatus, Survey
from .survey_forms import ResolveFollowUpForm


def _public_receipt_state(order) -> selectors.PublicReceipt:
    """What selectors.public_receipt(order, selectors.receipt_limit()) returns, read
    in one query instead of three (the status page has a query budget): the order
    joined to its problem cases (one row per case, or one row without any) and to its
    receipt, with the receipt step's target time as a subquery."""
    case = "problem_cases__"
    rows = list(
        Order.objects.filter(pk=order.pk)
        .annotate(
            receipt_target=Subquery(
                ProcessStep.objects.filter(code=StepCode.RECEIPT)
                .order_by("position")
                .values("target")[:1]
            )
        )
        .values(
            "receipt_target",
            "receipt__pk",
            "receipt__confirmed_at",
            "receipt__how",
            *(case + name for name in ("pk", "kind", "status", "opened_at", "resolved_at")),
        )
        .order_by(case + "opened_at", case + "pk")
    )
    first = rows[0]
    cases = [
        ProblemCase(
            pk=row[case + "pk"],
            order=order,
            kind=row[case + "kind"],
            status=row[case + "status"],
            opened_at=row[case + "opened_at"],
            resolved_at=row[case + "resolved_at"],
        )
        for row in rows
        if row[case + "pk"] is not None
    ]
    receipt = None
    if first["receipt__pk"] is not None:
        receipt = Receipt(
            pk=first["receipt__pk"],
            order=order,
            confirmed_at=first["receipt__confirmed_at"],
            how=first["receipt__how"],
        )
    limit = first["receipt_target"] or selectors.DEFAULT_RECEIPT_LIMIT
    return selectors.PublicReceipt(
        order=order,
        receipt=receipt,
        open_case=next((c for c in cases if c.status == CaseStatus.OPEN), None),
        resolved_cases=[c for c in cases if c.status == CaseStatus.RESOLVED],
        auto_confirm_at=None if receipt else selectors.auto_confirm_at(order, cases, limit),
    )


def public_receipt(request, order):
    """The customer's receipt panel on the public status page: confirm receipt, report
    a problem, or see where a report stands. Shows dates and kinds only."""
    if order.status not in (Status.DELIVERED, Status.CLOSED):
        # Receipts and problem reports are taken only once the order is delivered
        # (feedback.services), so an order never delivered has none: no query.
        return None
    state = _public_receipt_state(order)
    form = None
    if state.can_report:
        form = ProblemReportForm(initial={"token": new_form_token()})
    context = {"order": order, "request": request, "state": state, "form": form}
    return render_to_string("feedback/_public_receipt.html", context, request=request)


def staff_receipt(request, order):
    """Receipt and problem cases on the staff order page; Sales records receipts
    confirmed by phone, sees the photos and resolves the cases."""
    user = getattr(request, "user", None)
    is_sales = bool(user and has_role(user, Role.SALES) and user.has_perm("orders.confirm_order"))
    cases = selectors.cases_of(order)
    receipt = selectors.receipt_of(order)
    limit = selectors.receipt_limit()
    context = {
        "order": order,
        "request": request,
        "shown": order.status in (Status.DELIVERED, Status.CLOSED) or receipt or cases,
        "receipt": receipt,
        "cases": cases,
        "auto_confirm_at": None if receipt else selectors.auto_confirm_at(order, cases, limit),
        "is_sales": is_sales,
        "can_record": is_sales and receipt is None and order.status == Status.DELIVERED,
        "phone_form": PhoneReceiptForm(),
        "resolve_form": ResolveCaseForm(),
    }
    return render_to_string("feedback/_staff_receipt.html", context, request=request)


# ---------------------------------------------------------------------------
# Returns


def _returns_of(order) -> list[ReturnRequest]:
    """The order's returns with what their panels show; the carrier's events of the
    parcels back only when a parcel was sent (one more query then)."""
    items = list(
        ReturnRequest.objects.filter(order=order)
        .select_related(
            "reason",
            "decided_by",
            "recorded_by",
            "received_by",
            "inspected_by",
            "settled_by",
            "replacement",
        )
        .prefetch_related("lines__line", "photos")
        .order_by("-requested_at", "-pk")
    )
    sent = [item for item in items if item.return_tracking]
    if sent:
        prefetch_related_objects(sent, "parcel_events")
    for item in items:
        item.parcel_list = list(item.parcel_events.all()) if item.return_tracking else []
    return items


def public_returns(request, order):
    """The customer's returns on the status page (state, RMA number, what happens next
    and Sales' answer), and the way to ask for one while a window is open. One query
    for an order without returns."""
    if order.status not in returns.RETURNABLE_STATUSES:
        return None
    windows, has_returns = returns.windows_and_returns(order)
    items = _returns_of(order) if has_returns else []
    now = timezone.now()
    can_ask = not any(item.is_open for item in items) and any(w.is_open(now) for w in windows)
    if not items and not can_ask:
        return None
    context = {"order": order, "returns": items, "can_ask": can_ask}
    return render_to_string("feedback/_public_returns.html", context, request=request)


def staff_returns(request, order):
    """Returns on the staff order page: each request with its lines and photos; Sales
    decides the open ones and records requests made by phone."""
    if order.status not in returns.RETURNABLE_STATUSES:
        return None
    user = getattr(request, "user", None)
    is_sales = bool(user and has_role(user, Role.SALES) and user.has_perm("orders.confirm_order"))
    items = _returns_of(order)
    phone_form = None
    if is_sales and not any(item.is_open for item in items):
        phone_form = return_request_form(order, with_photos=False)
        if not phone_form.fields["reason"].choices or not phone_form.lines:
            phone_form = None
    if not items and phone_form is None:
        return None
    decisions = {
        item.pk: ApproveReturnForm(
            lines=[rl.line for rl in item.lines.all()],
            maximum={rl.line_id: rl.quantity for rl in item.lines.all()},
            initial={f"approve-{rl.line_id}": rl.quantity for rl in item.lines.all()},
            auto_id=f"approve-{item.pk}-%s",
        )
        for item in items
        if is_sales and item.status == ReturnStatus.REQUESTED
    }
    context = {
        "order": order,
        "returns": [(item, decisions.get(item.pk)) for item in items],
        "is_sales": is_sales,
        "phone_form": phone_form,
        "refuse_form": RefuseReturnForm(),
    }
    return render_to_string("feedback/_staff_returns.html", context, request=request)


def sales_returns(request, order):
    """On Sales' dashboard: the return requests to decide, the approved returns whose
    goods are on their way back, those to settle and those waiting for their refund."""
    context = {"lanes": selectors.open_returns(limit=10)}
    return render_to_string("feedback/_sales_returns.html", context, request=request)


def warehouse_returns(request, order):
    """On the warehouse's dashboard: returned parcels to receive (scan the RMA number)
    and received parcels to inspect."""
    context = {"lanes": selectors.warehouse_returns(limit=10)}
    return render_to_string("feedback/_warehouse_returns.html", context, request=request)


def logistics_pickups(request, order):
    """On Logistics' dashboard: the carrier pickups of returned parcels to book."""
    context = {"pickups": selectors.pickups_to_book()}
    return render_to_string("feedback/_logistics_pickups.html", context, request=request)


# ---------------------------------------------------------------------------
# Surveys


def staff_survey(request, order):
    """On the staff order page: the survey's state, the answers, the comment and the
    follow-ups a low answer opened, each resolvable by its step's owner. Nothing
    before the survey is sent (one query: none)."""
    found = (
        Survey.objects.filter(order=order)
        .select_related("question_set")
        .prefetch_related("answers__question", "follow_ups__resolved_by")
        .first()
    )
    if found is None:
        return ""
    user = getattr(request, "user", None)
    follow_ups = [
        (item, bool(user and has_role(user, item.role))) for item in found.follow_ups.all()
    ]
    context = {
        "survey": found,
        "answers": sorted(found.answers.all(), key=lambda a: a.question.position),
        "follow_ups": follow_ups,
        "resolve_form": ResolveFollowUpForm(),
        "now": timezone.now(),
    }
    return render_to_string("feedback/_staff_survey.html", context, request=request)


def survey_follow_ups_for(role):
    """A dashboard panel: the role's open survey follow-ups, most urgent first."""

    def panel(request, order):
        items = list(selectors.open_survey_follow_ups(role, limit=10))
        context = {"follow_ups": items, "now": timezone.now(), "role": role}
        return render_to_string("feedback/_survey_follow_ups.html", context, request=request)

    panel.__name__ = f"survey_follow_ups_{role.lower()}"
    return panel


def escalated_survey_follow_ups(request, order):
    """On the managers' overview: survey follow-ups that are late."""
    items = list(selectors.escalated_survey_follow_ups(limit=10))
    if not items:
        return ""
    context = {"follow_ups": items, "now": timezone.now(), "escalated": True}
    return render_to_string("feedback/_survey_follow_ups.html", context, request=request)
