"""Receipt and problem pages: the customer's answers from the status page (public,
by order number and secret), Sales' phone confirmations and case resolutions on the
staff order page, the photos (Sales only) and the Sales page of open cases."""

from django.conf import settings
from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_ratelimit.decorators import ratelimit

from orders.access import sales_required
from orders.models import Order
from orders.selectors import order_for_public
from orders.services import OrderActionError
from orders.views import render_detail
from orders.web import refused

from . import selectors, services
from .forms import PhoneReceiptForm, ProblemReportForm, ResolveCaseForm, new_form_token
from .models import ProblemCase, ProblemPhoto, ReceiptMethod

# ---------------------------------------------------------------------------
# The customer's answers (public: the order number and its secret)


def _public_rate(group, request):
    return getattr(settings, "O2D_RECEIPT_RATE", "20/10m")


public_ratelimit = ratelimit(
    key="ip", group="feedback.public", rate=_public_rate, method="POST", block=False
)


def _private(response):
    """The public pages carry the order's secret in their address: keep them out of
    search engines, caches and other sites' referrer logs. Not "no-referrer": with it
    browsers post forms with "Origin: null", which Django's CSRF check refuses."""
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "same-origin"
    response["Cache-Control"] = "private, no-store"
    return response


def _report_page(request, order, *, form=None, status=200):
    state = selectors.public_receipt(order, selectors.receipt_limit())
    if form is None:
        form = ProblemReportForm(initial={"token": new_form_token()})
    context = {"order": order, "state": state, "form": form}
    return _private(render(request, "feedback/report_problem.html", context, status=status))


def _too_many(request):
    messages.error(request, _("Too many requests from your network. Please wait a few minutes."))


@require_POST
@public_ratelimit
def confirm_receipt(request, number, token):
    """The customer's "Yes, I received my order". A second click changes nothing."""
    order = order_for_public(number, token)
    if getattr(request, "limited", False):
        _too_many(request)
        return _report_page(request, order, status=429)
    try:
        services.confirm_receipt(order.pk, how=ReceiptMethod.CUSTOMER)
    except OrderActionError as error:
        return _report_page(request, order, status=refused(request, error))
    messages.success(request, _("Thank you! We have noted that you received your order."))
    return redirect(order.get_public_url() + "#receipt-panel")


@require_http_methods(["GET", "HEAD", "POST"])
@public_ratelimit
def report_problem(request, number, token):
    """The customer's problem report: what is wrong, details and photos. Submitting
    the same form twice opens one case."""
    order = order_for_public(number, token)
    if request.method != "POST":
        return _report_page(request, order)
    form = ProblemReportForm(request.POST, request.FILES)
    if getattr(request, "limited", False):
        _too_many(request)
        return _report_page(request, order, form=form, status=429)
    if not form.is_valid():
        messages.error(request, _("Please correct the marked fields. Nothing was sent."))
        return _report_page(request, order, form=form, status=400)
    data = form.cleaned_data
    try:
        services.report_problem(
            order.pk,
            kind=data["kind"],
            details=data["details"],
            photos=data["photos"],
            key=data["token"],
        )
    except OrderActionError as error:
        return _report_page(request, order, form=form, status=refused(request, error))
    messages.success(
        request, _("Thank you. We have received your report; Sales will contact you soon.")
    )
    return redirect(order.get_public_url() + "#receipt-panel")


# ---------------------------------------------------------------------------
# Sales


def _refused(request, number, error):
    return render_detail(request, number, status=refused(request, error))


@require_POST
@sales_required
def phone_receipt(request, number):
    """Sales records a receipt the customer confirmed by phone."""
    order = get_object_or_404(Order, number=number)
    form = PhoneReceiptForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Please correct the marked fields. Nothing was saved."))
        return render_detail(request, number, status=400)
    try:
        receipt, created = services.confirm_receipt(
            order.pk, how=ReceiptMethod.PHONE, by=request.user, note=form.cleaned_data["note"]
        )
    except OrderActionError as error:
        return _refused(request, number, error)
    if created:
        messages.success(request, _("Receipt confirmed by phone recorded."))
    else:
        messages.info(
            request,
            _("Receipt was already confirmed (%(how)s). Nothing was changed.")
            % {"how": receipt.get_how_display()},
        )
    return redirect(f"{order.get_absolute_url()}#receipt-staff-panel")


@require_POST
@sales_required
def resolve_case(request, pk):
    """Sales resolves a problem case; the customer is emailed the resolution."""
    case = get_object_or_404(ProblemCase.objects.select_related("order"), pk=pk)
    number = case.order.number
    form = ResolveCaseForm(request.POST)
    if not form.is_valid():
        for error in form.errors.get("resolution", []):
            messages.error(request, error)
        return render_detail(request, number, status=400)
    try:
        services.resolve_case(case.pk, by=request.user, resolution=form.cleaned_data["resolution"])
    except OrderActionError as error:
        return _refused(request, number, error)
    messages.success(request, _("Problem resolved; the customer is told by email."))
    return redirect(f"{case.order.get_absolute_url()}#case-{case.pk}")


def serve_photo(item, filename: str):
    """A customer's photo, to staff only, as an image and nothing else."""
    try:
        handle = item.image.open("rb")
    except (FileNotFoundError, ValueError):
        raise Http404 from None
    suffix = item.image.name.rsplit(".", 1)[-1]
    response = FileResponse(
        handle, content_type=item.content_type, as_attachment=False, filename=f"{filename}.{suffix}"
    )
    response["Cache-Control"] = "private, no-store"
    # A customer's file is shown as an image and nothing else, even if crafted.
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@require_GET
@sales_required
def photo(request, pk):
    """A problem photo, for Sales only (never a public media address)."""
    item = get_object_or_404(ProblemPhoto.objects.select_related("case__order"), pk=pk)
    return serve_photo(item, f"{item.case.order.number}-{item.pk}")


@require_GET
@sales_required
def cases(request):
    """Sales' page: open problem cases, oldest first, and orders awaiting receipt."""
    limit = selectors.receipt_limit()
    context = {
        "open_cases": selectors.open_cases(),
        "awaiting": selectors.orders_awaiting_receipt(limit),
        "awaiting_count": selectors.awaiting_receipt().count(),
        "resolved": selectors.recently_resolved(),
        "limit_days": services.days_text(limit),
        "returns_to_decide": selectors.returns_to_decide(),
        "approved_returns": selectors.approved_returns(),
    }
    return render(request, "feedback/cases.html", context)
