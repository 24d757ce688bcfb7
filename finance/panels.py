"""Finance's panels on the staff order page (registered in FinanceConfig.ready)."""

from django.template.loader import render_to_string

from orders.roles import Role, has_role

from .forms import DocumentForm, SubmitForm, new_form_token
from .models import ClosingRequest


def staff_closing(request, order):
    """The closing request on the order page: where it stands, and for Sales the
    documents and the submit form while it is with them."""
    closing = (
        ClosingRequest.objects.filter(order=order)
        .select_related("acknowledged_by", "submitted_by")
        .first()
    )
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
