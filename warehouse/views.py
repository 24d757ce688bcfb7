"""The warehouse's pages: the dashboard, an order's work page (acknowledge, pick, pack,
review), printable pick lists, PDFs, and stock. Every page needs the Warehouse role;
every change goes through warehouse.services."""

from django.contrib import messages
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from orders import selectors as order_selectors
from orders.access import role_required
from orders.models import Order, Status
from orders.roles import Role
from orders.selectors import QueueSpec
from orders.services import OrderActionError
from orders.web import DashboardView, refused

from . import selectors, services
from .forms import (
    BatchPickForm,
    DiscrepancyForm,
    PackageForm,
    ReviewForm,
    ScanForm,
    StockChangeForm,
    StockSearchForm,
)
from .models import StockItem, StockMovement

warehouse_required = role_required(Role.WAREHOUSE)


class WarehouseDashboard(DashboardView):
    roles = (Role.WAREHOUSE,)
    title = gettext_lazy("Warehouse")
    template_name = "warehouse/dashboard.html"
    extra_sections_template = "warehouse/_dashboard_sections.html"

    # Low stock changes with stock movements, not only with the timeline.
    version_models = (StockMovement,)

    def get_queue_specs(self):
        link = "warehouse:order"
        return [
            QueueSpec(
                "to_acknowledge",
                _("To acknowledge"),
                [Status.CONFIRMED],
                selectors.TO_ACKNOWLEDGE,
                link,
            ),
            QueueSpec("to_pick", _("To pick"), [Status.CONFIRMED], selectors.TO_PICK, link),
            QueueSpec("to_pack", _("To pack"), [Status.PICKED], selectors.TO_PACK, link),
            QueueSpec("to_review", _("To review"), [Status.PICKED], selectors.TO_REVIEW, link),
            QueueSpec(
                "backordered",
                _("Backordered: waiting for stock"),
                [Status.BACKORDERED],
                link=link,
            ),
        ]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["low_stock"] = selectors.low_stock()
        return context


def _order(number) -> Order:
    return order_selectors.order_for_staff(number)


def _work_page(request, number, *, status=200, **forms):
    order = _order(number)
    fulfilment = selectors.fulfilment_of(order)
    picking = selectors.picking(order)
    context = {
        "order": order,
        "fulfilment": fulfilment,
        "stage": selectors.stage(order, fulfilment),
        "rows": picking.rows,
        "reserved": picking.reserved,
        "packages": selectors.packages(order),
        "reviews": order.reviews.select_related("by"),
        "discrepancies": order.discrepancies.select_related("line", "by"),
        "scan_form": forms.get("scan_form") or ScanForm(),
        "discrepancy_form": forms.get("discrepancy_form") or DiscrepancyForm(),
        "package_form": forms.get("package_form") or PackageForm(),
        "review_form": forms.get("review_form") or ReviewForm(),
        "is_picker": bool(fulfilment and request.user.pk in fulfilment.pickers()),
    }
    return render(request, "warehouse/order.html", context, status=status)


@warehouse_required
def order_page(request, number):
    return _work_page(request, number)


def _act(request, number, action, success, **forms):
    """Run ``action()``; on refusal show the page again with the message and the
    right status (403 role, 409 state, 400 input)."""
    try:
        action()
    except OrderActionError as error:
        return _work_page(request, number, status=refused(request, error), **forms)
    if success:
        messages.success(request, success)
    return redirect("warehouse:order", number=number)


def _invalid(request, number, **forms):
    messages.error(request, _("Please correct the marked fields. Nothing was saved."))
    return _work_page(request, number, status=400, **forms)


def _check_stock(request, number, service, reserved_message):
    """Run a stock check (``service`` returns the shortages) and say what came of it."""
    order = get_object_or_404(Order, number=number)
    shortages = []
    response = _act(
        request, number, lambda: shortages.extend(service(order.pk, by=request.user)), ""
    )
    if response.status_code == 302:
        if shortages:
            messages.warning(
                request, _("Short of stock: the order is backordered and Sales has been told.")
            )
        else:
            messages.success(request, reserved_message)
    return response


@require_POST
@warehouse_required
def acknowledge(request, number):
    return _check_stock(
        request,
        number,
        services.acknowledge_order,
        _("Acknowledged; the stock is reserved. Pick it now."),
    )


@require_POST
@warehouse_required
def reserve(request, number):
    return _check_stock(request, number, services.reserve_order, _("The stock is reserved."))


@require_POST
@warehouse_required
def scan(request, number):
    order = get_object_or_404(Order, number=number)
    form = ScanForm(request.POST)
    if not form.is_valid():
        return _invalid(request, number, scan_form=form)
    data = form.cleaned_data
    result = {}

    def run():
        result["pick"] = services.record_pick(
            order.pk,
            by=request.user,
            scanned=data["sku"],
            quantity=data["quantity"],
            line_id=data.get("line"),
        )

    response = _act(request, number, run, "", scan_form=form)
    if response.status_code == 302:
        pick = result["pick"]
        if Order.objects.get(pk=order.pk).status == Status.PICKED:
            messages.success(request, _("Every line is picked: the order is ready to pack."))
        else:
            messages.success(
                request,
                _("%(quantity)d × %(sku)s picked.")
                % {"quantity": pick.quantity, "sku": pick.line.sku},
            )
    return response


@require_POST
@warehouse_required
def discrepancy(request, number):
    order = get_object_or_404(Order, number=number)
    form = DiscrepancyForm(request.POST)
    if not form.is_valid():
        return _invalid(request, number, discrepancy_form=form)
    data = form.cleaned_data
    result = {}

    def run():
        result["d"] = services.report_discrepancy(
            order.pk,
            by=request.user,
            line_id=data["line"],
            kind=data["kind"],
            quantity=data["quantity"],
            note=data["note"],
        )

    response = _act(request, number, run, "", discrepancy_form=form)
    if response.status_code == 302:
        if result["d"].outcome == "replaced":
            messages.success(request, _("Recorded. Replacement units are reserved: pick them."))
        else:
            messages.warning(
                request,
                _("Recorded. Nothing to replace it: backordered, and Sales has been told."),
            )
    return response


@require_POST
@warehouse_required
def package_add(request, number):
    order = get_object_or_404(Order, number=number)
    form = PackageForm(request.POST)
    if not form.is_valid():
        return _invalid(request, number, package_form=form)
    return _act(
        request,
        number,
        lambda: services.add_package(order.pk, by=request.user, **form.cleaned_data),
        _("Package added."),
        package_form=form,
    )


@require_POST
@warehouse_required
def package_remove(request, number, pk):
    order = get_object_or_404(Order, number=number)
    return _act(
        request,
        number,
        lambda: services.remove_package(order.pk, pk, by=request.user),
        _("Package removed."),
    )


@require_POST
@warehouse_required
def packed(request, number):
    order = get_object_or_404(Order, number=number)
    return _act(
        request,
        number,
        lambda: services.finish_packing(order.pk, by=request.user),
        _("Packed: a second person must now review it."),
    )


@require_POST
@warehouse_required
def review(request, number):
    order = get_object_or_404(Order, number=number)
    form = ReviewForm(request.POST)
    if not form.is_valid():
        return _invalid(request, number, review_form=form)
    passed = form.cleaned_data["result"] == "pass"
    return _act(
        request,
        number,
        lambda: services.review_order(
            order.pk, by=request.user, passed=passed, notes=form.cleaned_data["notes"]
        ),
        _("Review passed: the order is ready for logistics.")
        if passed
        else _("Review failed: the order is back in picking."),
        review_form=form,
    )


@warehouse_required
def pick_list(request, number):
    """A printable pick list for one order, in walking order."""
    order = _order(number)
    return render(
        request,
        "warehouse/pick_list.html",
        {"order": order, "rows": selectors.pick_rows(order), "printed_at": timezone.now()},
    )


@warehouse_required
def batch_pick_list(request):
    """A printable pick list across orders (the given ones, or every order to pick)."""
    form = BatchPickForm(request.GET)
    if not form.is_valid():
        # Not every order: a list nobody asked for would be picked.
        return render(
            request,
            "warehouse/batch_pick_list.html",
            {"form": form, "orders": [], "rows": [], "printed_at": timezone.now()},
            status=400,
        )
    # Every waiting order, one wave at a time: one more is read to know of a next wave.
    orders = selectors.orders_to_pick(form.numbers(), limit=selectors.PICK_WAVE + 1)
    more, orders = len(orders) > selectors.PICK_WAVE, orders[: selectors.PICK_WAVE]
    return render(
        request,
        "warehouse/batch_pick_list.html",
        {
            "form": form,
            "orders": orders,
            "more": more,
            "rows": selectors.batch_pick_list(orders),
            "printed_at": timezone.now(),
        },
    )


def _pdf(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


@warehouse_required
def packing_slip(request, number):
    from .documents import packing_slip_pdf

    order = _order(number)
    return _pdf(packing_slip_pdf(order), f"packing-slip-{order.number}.pdf")


@role_required(Role.WAREHOUSE, Role.LOGISTICS)
def labels(request, number):
    """The 4x6 labels, one per package; once shipped they name the carrier and number."""
    from .documents import labels_pdf

    order = _order(number)
    packages = selectors.packages(order)
    if not packages:
        messages.error(request, _("Add the packages first: there is one label per package."))
        return _work_page(request, number, status=409)
    return _pdf(labels_pdf(order, packages), f"labels-{order.number}.pdf")


# ---------------------------------------------------------------------------
# Stock


@warehouse_required
def stock(request, *, status=200, form=None, failed_pk=None):
    search = StockSearchForm(request.GET)
    items = StockItem.objects.select_related("product", "warehouse", "bin").order_by(
        "bin__code", "product__sku"
    )
    if not search.is_valid():
        items, status = items.none(), 400
    elif query := search.cleaned_data["q"]:
        items = items.filter(
            Q(product__sku__icontains=query)
            | Q(product__name__icontains=query)
            | Q(bin__code__icontains=query)
        )
    items = list(items[:200])
    waiting = selectors.waiting_demand([item.product_id for item in items])
    for item in items:
        item.waiting = waiting.get(item.product_id, 0)
    return render(
        request,
        "warehouse/stock.html",
        {
            "items": items,
            "search": search,
            "form": form or StockChangeForm(),
            # The same options in every row's form: written once.
            "kind_options": format_html_join(
                "", '<option value="{}">{}</option>', StockChangeForm.base_fields["kind"].choices
            ),
            "failed_pk": failed_pk,
        },
        status=status,
    )


@require_POST
@warehouse_required
def stock_change(request, pk):
    item = get_object_or_404(StockItem, pk=pk)
    form = StockChangeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Please correct the marked fields. Nothing was saved."))
        return stock(request, status=400, form=form, failed_pk=item.pk)
    data = form.cleaned_data
    try:
        if data["kind"] == "receive":
            services.receive_goods(
                item.pk, data["quantity"], by=request.user, reason=data["reason"]
            )
            message = _("%(quantity)d × %(sku)s received.")
        else:
            change = data["quantity"] if data["kind"] == "add" else -data["quantity"]
            services.adjust_stock(item.pk, change, by=request.user, reason=data["reason"])
            message = _("%(sku)s adjusted by %(quantity)d.")
    except OrderActionError as error:
        messages.error(request, error.message)
        return stock(request, status=400, form=form, failed_pk=item.pk)
    messages.success(request, message % {"quantity": data["quantity"], "sku": item.product.sku})
    return redirect("warehouse:stock")
