"""Return pages: the customer's request from the status page (public, by order number
and secret), Sales' phone request and decision on the staff order page, and the
photos (Sales only)."""

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from orders.access import sales_required
from orders.models import Order
from orders.selectors import order_for_public
from orders.services import OrderActionError
from orders.views import render_detail
from orders.web import refused

from . import documents, returns
from .forms import ApproveReturnForm, RefuseReturnForm, return_request_form
from .models import OPEN_RETURN_STATUSES, ReturnPhoto, ReturnRequest
from .views import _private, _too_many, public_ratelimit, serve_photo


def _sent_before(request, order) -> bool:
    """A form sent a second time (a double click, a reload) finds the request the first
    one opened, before its fields are checked against what is left to return."""
    key = (request.POST.get("token") or "")[:64]
    if key and ReturnRequest.objects.filter(order=order, submission_key=key).exists():
        messages.info(request, _("We already have this return request."))
        return True
    return False


def _public_page(request, order, *, form=None, status=200):
    form = form or return_request_form(order)
    windows = returns.windows(order)
    context = {
        "order": order,
        "form": form,
        "windows": windows,
        "open_return": order.returns.filter(status__in=OPEN_RETURN_STATUSES).first(),
    }
    return _private(render(request, "feedback/request_return.html", context, status=status))


@require_http_methods(["GET", "HEAD", "POST"])
@public_ratelimit
def request_return(request, number, token):
    """The customer's return or exchange request. Submitting the same form twice opens
    one request; outside every window the page says why and how to reach Sales."""
    order = order_for_public(number, token)
    if request.method != "POST":
        return _public_page(request, order)
    if _sent_before(request, order):
        return redirect(order.get_public_url() + "#returns-panel")
    form = return_request_form(order, request.POST, request.FILES)
    if getattr(request, "limited", False):
        _too_many(request)
        return _public_page(request, order, form=form, status=429)
    if not form.is_valid():
        messages.error(request, _("Please correct the marked fields. Nothing was sent."))
        return _public_page(request, order, form=form, status=400)
    data = form.cleaned_data
    try:
        returns.request_return(
            order.pk,
            reason_code=data["reason"],
            quantities=form.quantities(),
            details=data["details"],
            photos=data["photos"],
            key=data["token"],
        )
    except OrderActionError as error:
        return _public_page(request, order, form=form, status=refused(request, error))
    messages.success(
        request, _("Thank you. We have received your return request; Sales will answer soon.")
    )
    return redirect(order.get_public_url() + "#returns-panel")


# ---------------------------------------------------------------------------
# Sales


@require_POST
@sales_required
def record_return(request, number):
    """Sales records a return the customer asked for by phone."""
    order = get_object_or_404(Order, number=number)
    if _sent_before(request, order):
        return redirect(f"{order.get_absolute_url()}#returns-staff-panel")
    form = return_request_form(order, request.POST, with_photos=False)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return render_detail(request, number, status=400)
    data = form.cleaned_data
    try:
        item, created = returns.request_return(
            order.pk,
            reason_code=data["reason"],
            quantities=form.quantities(),
            details=data["details"],
            key=data["token"],
            by=request.user,
        )
    except OrderActionError as error:
        return render_detail(request, number, status=refused(request, error))
    if created:
        messages.success(request, _("Return request recorded; decide it below."))
    return redirect(f"{order.get_absolute_url()}#return-{item.pk}")


def _decision(request, pk, form_class, decide):
    item = get_object_or_404(ReturnRequest.objects.select_related("order"), pk=pk)
    number = item.order.number
    lines = [rl.line for rl in item.lines.select_related("line")]
    kwargs = {}
    if form_class is ApproveReturnForm:
        kwargs = {"lines": lines, "maximum": {rl.line_id: rl.quantity for rl in item.lines.all()}}
    form = form_class(request.POST, **kwargs)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return render_detail(request, number, status=400)
    try:
        decide(item, form)
    except OrderActionError as error:
        return render_detail(request, number, status=refused(request, error))
    return redirect(f"{item.order.get_absolute_url()}#return-{item.pk}")


@require_POST
@sales_required
def approve_return(request, pk):
    """Sales approves a return request (whole or part); the customer gets the RMA."""

    def decide(item, form):
        approved = returns.approve_return(
            item.pk,
            by=request.user,
            outcome=form.cleaned_data["outcome"],
            approved={
                line.pk: form.cleaned_data.get(f"approve-{line.pk}") or 0 for line in form.lines
            },
            answer=form.cleaned_data["answer"],
            pickup=form.pickup_choice(),
            refund=form.cleaned_data.get("refund"),
        )
        messages.success(
            request,
            _("Return %(rma)s approved; the customer is told by email.")
            % {"rma": approved.rma_number},
        )

    return _decision(request, pk, ApproveReturnForm, decide)


@require_POST
@sales_required
def refuse_return(request, pk):
    """Sales refuses a return request with a reason the customer reads."""

    def decide(item, form):
        returns.refuse_return(item.pk, by=request.user, answer=form.cleaned_data["answer"])
        messages.success(request, _("Return request refused; the customer is told by email."))

    return _decision(request, pk, RefuseReturnForm, decide)


@require_GET
@sales_required
def return_photo(request, pk):
    """A return photo, for Sales only (never a public media address)."""
    item = get_object_or_404(ReturnPhoto.objects.select_related("request__order"), pk=pk)
    return serve_photo(item, f"{item.request.order.number}-r{item.pk}")


def _label(item):
    if not documents.has_label(item):
        raise Http404
    response = HttpResponse(documents.return_label_pdf(item), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{item.rma_number}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
def public_label(request, number, token, pk):
    """The return label, for the customer (the order's number and secret)."""
    order = order_for_public(number, token)
    item = get_object_or_404(
        ReturnRequest.objects.select_related("order__customer"), pk=pk, order=order
    )
    return _private(_label(item))


@require_GET
@sales_required
def staff_label(request, pk):
    """The return label, for Sales to send or print."""
    item = get_object_or_404(ReturnRequest.objects.select_related("order__customer"), pk=pk)
    return _label(item)
