"""Pages for the goods of an approved return: the customer's tracking number on the
status page; the warehouse's receipt (by scanning the RMA number) and inspection;
Sales' completion on the staff order page. Every change goes through
feedback.return_goods."""

from django.contrib import messages
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from orders.access import role_required, sales_required
from orders.roles import Role
from orders.selectors import order_for_public
from orders.services import OrderActionError
from orders.views import render_detail
from orders.web import refused

from . import return_goods
from .models import ReturnLine, ReturnRequest, ReturnStatus
from .return_forms import InspectReturnForm, ReceiveReturnForm, SendBackForm, SettleReturnForm
from .views import _private, _too_many, public_ratelimit

warehouse_required = role_required(Role.WAREHOUSE)


def _form_errors(request, form):
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, error)


@require_POST
@public_ratelimit
def send_back(request, number, token, pk):
    """The customer gives the tracking number of the parcel they sent back."""
    order = order_for_public(number, token)
    item = get_object_or_404(ReturnRequest, pk=pk, order=order)
    back = redirect(order.get_public_url() + f"#return-{item.pk}")
    if getattr(request, "limited", False):
        _too_many(request)
        return _private(back)
    form = SendBackForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
        return _private(back)
    try:
        return_goods.send_back(
            item.pk, tracking=form.cleaned_data["tracking"], carrier=form.cleaned_data["carrier"]
        )
    except OrderActionError as error:
        refused(request, error)
        return _private(back)
    messages.success(request, _("Thank you: we will look out for your parcel."))
    return _private(back)


# ---------------------------------------------------------------------------
# The warehouse


@require_GET
@warehouse_required
def receive_scan(request):
    """The RMA number scanned from a parcel's label: its receipt page."""
    item = return_goods.find_by_rma(request.GET.get("rma", ""))
    if item is None:
        messages.error(request, _("No return has this RMA number. Check the label, or ask Sales."))
        return redirect(reverse("warehouse:dashboard") + "#warehouse-returns")
    if item.status == ReturnStatus.RECEIVED:
        return redirect("feedback:inspect_return", item.pk)
    return redirect("feedback:receive_return", item.pk)


def _goods_page(request, item, template, form, *, status=200):
    context = {"item": item, "order": item.order, "form": form}
    return render(request, f"feedback/{template}", context, status=status)


def _load(pk):
    return get_object_or_404(
        ReturnRequest.objects.select_related(
            "order__customer", "reason", "received_by"
        ).prefetch_related(Prefetch("lines", ReturnLine.objects.select_related("line"))),
        pk=pk,
    )


@require_http_methods(["GET", "HEAD", "POST"])
@warehouse_required
def receive_return(request, pk):
    """Count what arrived in a returned parcel."""
    item = _load(pk)
    if request.method != "POST":
        return _goods_page(request, item, "receive_return.html", ReceiveReturnForm(request=item))
    form = ReceiveReturnForm(request.POST, request=item)
    if not form.is_valid():
        messages.error(request, _("Please correct the marked fields. Nothing was recorded."))
        return _goods_page(request, item, "receive_return.html", form, status=400)
    try:
        done = return_goods.receive(
            item.pk, by=request.user, quantities=form.received(), note=form.cleaned_data["note"]
        )
    except OrderActionError as error:
        status = refused(request, error)
        return _goods_page(request, _load(pk), "receive_return.html", form, status=status)
    if done.mismatch:
        messages.warning(
            request,
            _("Return %(rma)s received: not what was approved, so Sales will check it.")
            % {"rma": done.rma_number},
        )
    else:
        messages.success(
            request,
            _("Return %(rma)s received. A second person inspects it.") % {"rma": done.rma_number},
        )
    return redirect(reverse("warehouse:dashboard") + "#warehouse-returns")


@require_http_methods(["GET", "HEAD", "POST"])
@warehouse_required
def inspect_return(request, pk):
    """Say what becomes of each received unit (a second person: not who received it)."""
    item = _load(pk)
    if request.method != "POST":
        return _goods_page(request, item, "inspect_return.html", InspectReturnForm(request=item))
    form = InspectReturnForm(request.POST, request=item)
    if not form.is_valid():
        messages.error(request, _("Please correct the marked fields. Nothing was recorded."))
        return _goods_page(request, item, "inspect_return.html", form, status=400)
    try:
        done = return_goods.inspect(
            item.pk, by=request.user, counted=form.counted(), note=form.cleaned_data["note"]
        )
    except OrderActionError as error:
        status = refused(request, error)
        return _goods_page(request, _load(pk), "inspect_return.html", form, status=status)
    messages.success(request, _("Return %(rma)s inspected.") % {"rma": done.rma_number})
    return redirect(reverse("warehouse:dashboard") + "#warehouse-returns")


# ---------------------------------------------------------------------------
# Logistics


@require_POST
@role_required(Role.LOGISTICS)
def book_pickup(request, pk):
    """Logistics booked the carrier's pickup of a returned parcel: its tracking number."""
    item = get_object_or_404(ReturnRequest, pk=pk)
    back = redirect(reverse("logistics:dashboard") + "#return-pickups")
    form = SendBackForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
        return back
    try:
        return_goods.book_pickup(
            item.pk,
            by=request.user,
            tracking=form.cleaned_data["tracking"],
            carrier=form.cleaned_data["carrier"],
        )
    except OrderActionError as error:
        refused(request, error)
        return back
    messages.success(request, _("Pickup of %(rma)s booked.") % {"rma": item.rma_number})
    return back


# ---------------------------------------------------------------------------
# Sales


@require_POST
@sales_required
def settle_return(request, pk):
    """Sales completes an inspected return (the exchange sent, the repair done)."""
    item = get_object_or_404(ReturnRequest.objects.select_related("order"), pk=pk)
    form = SettleReturnForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
        return render_detail(request, item.order.number, status=400)
    try:
        return_goods.settle(item.pk, by=request.user, note=form.cleaned_data["note"])
    except OrderActionError as error:
        return render_detail(request, item.order.number, status=refused(request, error))
    messages.success(request, _("Return %(rma)s completed.") % {"rma": item.rma_number})
    return redirect(f"{item.order.get_absolute_url()}#return-{item.pk}")
