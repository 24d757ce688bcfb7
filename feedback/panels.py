"""Feedback's panels on the orders pages (registered in FeedbackConfig.ready)."""

from django.template.loader import render_to_string

from orders.models import Status
from orders.roles import Role, has_role

from . import selectors
from .forms import PhoneReceiptForm, ProblemReportForm, ResolveCaseForm, new_form_token


def public_receipt(request, order):
    """The customer's receipt panel on the public status page: confirm receipt, report
    a problem, or see where a report stands. Shows dates and kinds only."""
    state = selectors.public_receipt(order, selectors.receipt_limit())
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
