"""Finance's panels on the staff order page (registered in FinanceConfig.ready)."""

from django.template.loader import render_to_string
from django.utils.translation import gettext_lazy as _

from orders.models import Status
from orders.roles import Role, has_role

from . import selectors
from .forms import DocumentForm, SubmitForm, new_form_token
from .models import ClosingRequest, RequestStatus


def _closing_of(order) -> ClosingRequest | None:
    """The order's closing request, read once per page (both panels use it)."""
    if not hasattr(order, "_finance_closing"):
        order._finance_closing = (
            ClosingRequest.objects.filter(order=order)
            .select_related("acknowledged_by", "submitted_by")
            .first()
            if order.status in (Status.DELIVERED, Status.CLOSED)
            else None
        )
    return order._finance_closing


WAITING = {
    RequestStatus.OPEN: _("Waiting on Sales: complete and submit the closing request"),
    RequestStatus.SENT_BACK: _("Waiting on Sales: Finance sent the closing request back"),
    RequestStatus.SUBMITTED: _("Waiting on Finance: acknowledge the closing request"),
    RequestStatus.IN_REVIEW: _("Waiting on Finance: review the closing request"),
}


def waiting_on(request, order):
    """Who a delivered order waits on: the closing request says whose hands it is in."""
    closing = _closing_of(order)
    if closing is None or order.status != Status.DELIVERED:
        return None
    return str(WAITING.get(closing.status, ""))


def escalated_requests(request, order):
    """On the managers' overview: the closing requests escalated to them."""
    # Escalated means late: no "late" flag to compute (nor the step's target to read).
    rows = selectors.requests_in(
        [s for s in RequestStatus.values if s != RequestStatus.APPROVED], escalated=True
    )
    return render_to_string("finance/_escalated.html", {"rows": rows}, request=request)


def staff_closing(request, order):
    """The closing request on the order page: where it stands, and for Sales the
    documents and the submit form while it is with them."""
    closing = _closing_of(order)
    if closing is None:
        return None
    is_sales = has_role(request.user, Role.SALES)
    context = {
        "order": order,
        "closing": closing,
        "documents": list(closing.documents.select_related("uploaded_by")),
        "can_submit": is_sales and closing.with_sales,
        "submit_form": SubmitForm(initial={"token": new_form_token()}),
        "document_form": DocumentForm(initial={"token": new_form_token()}),
        "is_finance": has_role(request.user, Role.FINANCE),
    }
    return render_to_string("finance/_staff_closing.html", context, request=request)


def work_link(request, order):
    """The link to the order's money and closing page, for Finance."""
    if not has_role(request.user, Role.FINANCE):
        return None
    return render_to_string("finance/_work_link.html", {"order": order}, request=request)
