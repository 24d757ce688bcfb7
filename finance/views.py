"""Finance's pages: the dashboard, an order's money and closing request, Sales' queue
of closing requests, the documents, and the CSV exports for the accounting system.
Every page checks the role (Finance; a Manager holds every role); Sales submits its
requests and adds documents. Every change goes through finance.services."""

from django.contrib import messages
from django.db.models import Q
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from orders.access import role_required
from orders.models import Order
from orders.roles import Role, user_roles
from orders.services import OrderActionError
from orders.web import DashboardView, refused

from . import selectors, services
from .forms import (
    ChargeForm,
    DocumentForm,
    ExportForm,
    InvoiceForm,
    OverrideForm,
    PaymentForm,
    ReasonForm,
    RefundForm,
    SubmitForm,
    new_form_token,
)
from .models import (
    ClosingDocument,
    ClosingRequest,
    Invoice,
    LedgerEntry,
    RequestStatus,
)

finance_required = role_required(Role.FINANCE)
closing_staff_required = role_required(Role.FINANCE, Role.SALES)


class FinanceDashboard(DashboardView):
    roles = (Role.FINANCE,)
    title = gettext_lazy("Finance")
    template_name = "finance/dashboard.html"  # no "new order" button: Finance takes none
    extra_sections_template = "finance/_dashboard_sections.html"
    # Every payment, invoice and step of a closing request is on the order's timeline,
    # whose newest event is the dashboard's version.

    def get_queues(self):
        return []  # the closing requests are its queues (the sections below)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        counts = selectors.request_counts()
        aging, refunds_due_count = selectors.balances()
        queues = selectors.dashboard_queues(late_after=selectors.closing_target())
        context.update(
            {
                "counts": counts,
                "closing_queues": queues,
                "refunds_due": selectors.refunds_due(),
                "refunds_due_count": refunds_due_count,
                "aging": aging,
                "age_buckets": selectors.AGE_BUCKETS,
                "export_form": ExportForm(),
            }
        )
        return context


@role_required(Role.SALES, Role.FINANCE)
def closing_requests(request):
    """Sales' queue: the requests waiting on Sales (new and sent back), then the ones
    Finance holds."""
    queues = selectors.queues(
        {
            # Sent back first: Finance is waiting on those.
            "sent_back": Q(status=RequestStatus.SENT_BACK),
            "open": Q(status=RequestStatus.OPEN),
            "with_finance": Q(status__in=[RequestStatus.SUBMITTED, RequestStatus.IN_REVIEW]),
        },
        late_after=selectors.closing_target(),
    )
    sent_back, new = queues["sent_back"], queues["open"]
    context = {
        "with_sales": (sent_back.rows + new.rows)[: selectors.QUEUE_ROWS],
        "with_sales_count": sent_back.count + new.count,
        "with_finance": queues["with_finance"],
    }
    return render(request, "finance/closing_requests.html", context)


# ---------------------------------------------------------------------------
# An order's money and closing request


def _order(number) -> Order:
    return get_object_or_404(Order.objects.select_related("customer", "salesperson"), number=number)


def _request_page(request, number, *, status=200, **forms):
    order = _order(number)
    closing = (
        ClosingRequest.objects.filter(order=order)
        .select_related("salesperson", "submitted_by", "acknowledged_by", "approved_by")
        .first()
    )
    checklist = selectors.checklist(order, closing)
    token = new_form_token
    context = {
        "order": order,
        "closing": closing,
        "checklist": checklist,
        "failing": selectors.failing(checklist),
        "money": selectors.money(order),
        "ledger": selectors.ledger(order),
        "invoices": selectors.invoices(order),
        "documents": (
            list(closing.documents.select_related("uploaded_by")) if closing is not None else []
        ),
        "is_manager": Role.MANAGER in user_roles(request.user),
        "payment_form": forms.get("payment_form") or PaymentForm(initial={"token": token()}),
        "refund_form": forms.get("refund_form") or RefundForm(initial={"token": token()}),
        "charge_form": forms.get("charge_form") or ChargeForm(initial={"token": token()}),
        "invoice_form": forms.get("invoice_form") or InvoiceForm(initial={"token": token()}),
        "send_back_form": forms.get("send_back_form") or ReasonForm(initial={"token": token()}),
        "reverse_token": token(),
        "override_token": token(),
    }
    return render(request, "finance/request.html", context, status=status)


@finance_required
def request_page(request, number):
    return _request_page(request, number)


def _act(request, number, action, success, **forms):
    """Run ``action()``; on refusal show the page again with the message and the right
    status (403 role, 409 state, 400 input)."""
    try:
        action()
    except OrderActionError as error:
        return _request_page(request, number, status=refused(request, error), **forms)
    if success:
        messages.success(request, success)
    return redirect("finance:request", number=number)


def _invalid(request, number, **forms):
    messages.error(request, _("Please correct the marked fields. Nothing was saved."))
    return _request_page(request, number, status=400, **forms)


def _form_action(request, number, form_class, form_name, run, success):
    order = _order(number)
    form = form_class(request.POST, request.FILES)
    if not form.is_valid():
        return _invalid(request, number, **{form_name: form})
    data = form.cleaned_data
    return _act(request, number, lambda: run(order, data), success, **{form_name: form})


@require_POST
@finance_required
def payment(request, number):
    def run(order, data):
        services.record_payment(
            order.pk,
            services.MoneyMovement(
                amount=data["amount"],
                happened_on=data["happened_on"],
                reference=data["reference"],
                method_id=data["method"].pk,
            ),
            by=request.user,
            key=data["token"],
        )

    return _form_action(
        request, number, PaymentForm, "payment_form", run, _("The payment is recorded.")
    )


@require_POST
@finance_required
def refund(request, number):
    def run(order, data):
        services.record_refund(
            order.pk,
            services.MoneyMovement(
                amount=data["amount"],
                happened_on=data["happened_on"],
                reference=data["reference"],
                refund_for=data["refund_for"],
                problem_case_id=data.get("problem_case"),
                reason=data["reason"],
            ),
            by=request.user,
            key=data["token"],
        )

    return _form_action(
        request, number, RefundForm, "refund_form", run, _("The refund is recorded.")
    )


@require_POST
@finance_required
def charge(request, number):
    def run(order, data):
        services.add_charge(
            order.pk,
            by=request.user,
            charge_kind=data["charge_kind"],
            amount=abs(data["amount"]) if data["charge_kind"] != "adjustment" else data["amount"],
            reason=data["reason"],
            key=data["token"],
        )

    return _form_action(
        request, number, ChargeForm, "charge_form", run, _("The charge is recorded.")
    )


@require_POST
@finance_required
def reverse(request, number, pk):
    order = _order(number)
    entry = get_object_or_404(LedgerEntry, pk=pk, order=order)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        return _invalid(request, number)
    data = form.cleaned_data
    return _act(
        request,
        number,
        lambda: services.reverse_entry(
            entry.pk, by=request.user, reason=data["reason"], key=f"{data['token']}:{entry.pk}"
        ),
        _("The entry is reversed."),
    )


@require_POST
@finance_required
def invoice(request, number):
    def run(order, data):
        services.record_invoice(
            order.pk,
            services.InvoiceDetails(
                type_id=data["type"].pk,
                number=data["number"],
                amount=data["amount"],
                issued_on=data["issued_on"],
            ),
            data["document"],
            by=request.user,
            key=data["token"],
        )

    return _form_action(
        request, number, InvoiceForm, "invoice_form", run, _("The invoice is recorded.")
    )


@require_POST
@finance_required
def void_invoice(request, number, pk):
    order = _order(number)
    item = get_object_or_404(Invoice, pk=pk, order=order)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        return _invalid(request, number)
    return _act(
        request,
        number,
        lambda: services.void_invoice(item.pk, by=request.user, reason=form.cleaned_data["reason"]),
        _("The invoice is voided."),
    )


def _expected(request):
    value = request.POST.get("expected", "")
    return value if value in RequestStatus.values else None


@require_POST
@finance_required
def acknowledge(request, number):
    order = _order(number)
    return _act(
        request,
        number,
        lambda: services.acknowledge_request(
            order.pk, by=request.user, expected=_expected(request)
        ),
        _("You have taken the closing request. Check it now."),
    )


@require_POST
@finance_required
def send_back(request, number):
    order = _order(number)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        return _invalid(request, number, send_back_form=form)
    return _act(
        request,
        number,
        lambda: services.send_back(
            order.pk,
            by=request.user,
            reason=form.cleaned_data["reason"],
            expected=_expected(request),
        ),
        _("The request is back with Sales, with your reason."),
        send_back_form=form,
    )


@require_POST
@finance_required
def approve(request, number):
    order = _order(number)
    return _act(
        request,
        number,
        lambda: services.approve(order.pk, by=request.user, expected=_expected(request)),
        _("The order is closed. The customer is thanked by email."),
    )


@require_POST
@role_required(Role.MANAGER)
def override(request, number):
    order = _order(number)
    form = OverrideForm(request.POST)
    if not form.is_valid():
        return _invalid(request, number)
    data = form.cleaned_data
    return _act(
        request,
        number,
        lambda: services.override_item(
            order.pk, by=request.user, key=data["key"], reason=data["reason"]
        ),
        _("The item is overridden; your reason is recorded."),
    )


# ---------------------------------------------------------------------------
# Sales completes and submits the request (from the order page)


def _back_to_order(request, order, run, success):
    try:
        run()
    except OrderActionError as error:
        refused(request, error)
        return redirect(f"{order.get_absolute_url()}#closing-panel")
    messages.success(request, success)
    return redirect(f"{order.get_absolute_url()}#closing-panel")


@require_POST
@role_required(Role.SALES)
def submit(request, number):
    order = _order(number)
    form = SubmitForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The form was incomplete. Please reload the page."))
        return redirect(f"{order.get_absolute_url()}#closing-panel")
    return _back_to_order(
        request,
        order,
        lambda: services.submit_request(
            order.pk, by=request.user, note=form.cleaned_data["note"], expected=_expected(request)
        ),
        _("The closing request is with Finance."),
    )


@require_POST
@closing_staff_required
def add_document(request, number):
    order = _order(number)
    form = DocumentForm(request.POST, request.FILES)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        response = redirect(f"{order.get_absolute_url()}#closing-panel")
        response.status_code = 303
        return response
    data = form.cleaned_data
    return _back_to_order(
        request,
        order,
        lambda: services.add_document(
            order.pk,
            by=request.user,
            kind=data["kind"],
            upload=data["file"],
            note=data["note"],
            key=data["token"],
        ),
        _("The document is added."),
    )


# ---------------------------------------------------------------------------
# Files


def _file(field, name):
    try:
        handle = field.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(handle, filename=name)
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@closing_staff_required
def document(request, pk):
    item = get_object_or_404(ClosingDocument.objects.select_related("request__order"), pk=pk)
    extension = item.file.name.rsplit(".", 1)[-1]
    return _file(item.file, f"{item.request.order.number}-{item.kind}-{item.pk}.{extension}")


@closing_staff_required
def invoice_document(request, pk):
    item = get_object_or_404(Invoice.objects.select_related("order"), pk=pk)
    extension = item.document.name.rsplit(".", 1)[-1]
    return _file(item.document, f"{item.order.number}-invoice-{item.number}.{extension}")
