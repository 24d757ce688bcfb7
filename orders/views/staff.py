"""The staff's order pages: list, detail, actions, new and edit, the process page, documents."""

import uuid

from django.conf import settings
from django.contrib import messages
from django.db.models import Count, Window
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from .. import selectors, services
from ..access import sales_required, staff_required
from ..forms import (
    ChangeDecisionForm,
    CommentForm,
    CustomerLookupForm,
    DeliveryForm,
    LineFormSet,
    NewDateForm,
    OrderFilterForm,
    PartialDeliveryForm,
    StaffOrderForm,
    TransitionForm,
    VerifyForm,
)
from ..models import (
    CUSTOMER_CHANGEABLE_STATUSES,
    DeliveryChangeRequest,
    Order,
    OrderDocument,
    ProcessChange,
    ProcessStep,
    ReturnStep,
    Status,
)
from ..process import state_diagram
from ..services import review
from ..web import BoundedPaginator, error_status, refused


@staff_required
def order_list(request):
    form = OrderFilterForm(request.GET or None)
    status = 200
    known = None
    if form.is_bound and not form.is_valid():
        orders = Order.objects.none()
        status = 400
    else:
        orders, known = selectors.search_orders(**(form.cleaned_data if form.is_bound else {}))
    paginator = BoundedPaginator(orders, 30, limit=selectors.SEARCH_COUNT_LIMIT, count=known)
    page = paginator.get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "orders/order_list.html",
        {"form": form, "page": page, "query": query.urlencode()},
        status=status,
    )


def render_detail(
    request,
    order_number,
    *,
    status=200,
    comment_form=None,
    new_date_form=None,
    decision_form=None,
):
    order = selectors.order_for_staff(order_number)
    context = {
        "change_requests": selectors.change_requests_for(order),
        "can_decide_changes": request.user.has_perm("orders.confirm_order"),
        "customer_can_change": order.status in CUSTOMER_CHANGEABLE_STATUSES,
        "decision_form": decision_form or ChangeDecisionForm(),
        "order": order,
        "actions": selectors.available_actions(order, request.user),
        "can_verify": order.status == Status.PLACED
        and request.user.has_perm("orders.confirm_order"),
        "verify_form": VerifyForm(),
        # Other customers with this order's phone or email: Sales decides at verification.
        "possible_customers": selectors.possible_customers(order)
        if order.status == Status.PLACED
        else [],
        "proposed_date": services.proposed_delivery_date(order),
        "promises": order.promises.select_related("by"),
        "can_reschedule": order.status in (Status.CONFIRMED, Status.BACKORDERED, Status.PICKED)
        and request.user.has_perm("orders.confirm_order"),
        "new_date_form": new_date_form or NewDateForm(),
        "comment_form": comment_form or CommentForm(),
        "can_comment": request.user.has_perm("orders.comment_order"),
        "status_url": settings.SITE_URL.rstrip("/") + order.get_public_url(),
    }
    return render(request, "orders/order_detail.html", context, status=status)


@staff_required
def order_detail(request, number):
    return render_detail(request, number)


@require_POST
@staff_required
def order_action(request, number):
    order = get_object_or_404(Order, number=number)
    form = TransitionForm(request.POST)
    if not form.is_valid():
        messages.error(request, form.problem())
        return render_detail(request, number, status=400)
    try:
        services.perform_action(
            order.pk,
            form.cleaned_data["action"],
            by=request.user,
            note=form.cleaned_data["note"],
            expected_status=form.cleaned_data["expected_status"],
            **form.action_fields(),
        )
    except services.OrderActionError as error:
        return render_detail(request, number, status=refused(request, error))
    order.refresh_from_db()
    messages.success(
        request,
        _("Order %(number)s is now %(status)s.")
        % {"number": order.number, "status": order.get_status_display()},
    )
    return redirect("order_detail", number=number)


@sales_required
def customer_lookup(request):
    """htmx partial for the staff order form: existing customers matching what was typed."""
    form = CustomerLookupForm(request.GET)
    if not form.is_valid():
        return render(request, "orders/_customer_match.html", {"form": form}, status=400)
    customers = selectors.matching_customers(
        phone=form.cleaned_data["customer_phone"],
        email=form.cleaned_data["customer_email"],
        name=form.cleaned_data["customer_name"],
    )
    return render(request, "orders/_customer_match.html", {"customers": customers})


@sales_required
def order_edit(request, number):
    """Sales changes lines, quantities, address and dates before confirmation."""
    order = get_object_or_404(Order, number=number)
    if order.status != Status.PLACED:
        messages.error(request, _("This order can only be changed before confirmation."))
        return redirect(order)
    initial_lines = [
        {"product": line.product, "quantity": line.quantity} for line in order.lines.all()
    ]
    form = DeliveryForm(request.POST or None, initial=DeliveryForm.initial_for(order))
    lines = LineFormSet(request.POST or None, prefix="lines", initial=initial_lines)
    status = 200
    if request.method == "POST":
        if form.is_valid() and lines.is_valid():
            try:
                services.change_order(
                    order.pk,
                    by=request.user,
                    lines=[
                        services.LineRequest(line["product"], line["quantity"])
                        for line in lines.cleaned_data
                        if line.get("product")
                    ],
                    fields=form.as_order_fields(
                        order.contact_name or order.customer.name,
                        order.contact_phone or order.customer.phone,
                    ),
                )
            except services.OrderActionError as error:
                messages.error(request, error.message)
                status = error_status(error)
            else:
                messages.success(request, _("The order was changed."))
                return redirect(order)
        else:
            status = 400
    return render(
        request,
        "orders/order_edit.html",
        {"order": order, "form": form, "lines": lines},
        status=status,
    )


@require_POST
@sales_required
def order_verify(request, number):
    order = get_object_or_404(Order, number=number)
    form = VerifyForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The request was incomplete. Nothing was done."))
        return render_detail(request, number, status=400)
    try:
        services.verify_order(order.pk, by=request.user, **form.cleaned_data)
    except services.OrderActionError as error:
        return render_detail(request, number, status=refused(request, error))
    messages.success(request, _("Verification recorded."))
    return redirect(order)


@require_POST
@sales_required
def order_customer(request, number):
    """Sales files the order under one of its possible customers (same phone or email),
    or records that it is none of them. The order's contact details stay as typed."""
    order = get_object_or_404(Order, number=number)
    choice = request.POST.get("customer", "")
    try:
        if choice == "separate":
            services.keep_order_separate(order.pk, by=request.user)
        # isascii: "²" and other Unicode digits pass isdigit() but int() refuses them.
        elif choice.isascii() and choice.isdigit() and len(choice) <= 18:
            services.link_order_to_customer(order.pk, int(choice), by=request.user)
        else:
            raise services.OrderActionError(_("Choose a customer, or keep the order separate."))
    except services.OrderActionError as error:
        return render_detail(request, number, status=refused(request, error))
    if choice == "separate":
        messages.success(request, _("Recorded: this order stays with its own customer."))
    else:
        messages.success(request, _("The order is now filed under the chosen customer."))
    return redirect(f"{order.get_absolute_url()}#customer-matches")


@require_POST
@sales_required
def order_partial(request, number):
    """Sales records that the customer takes the available goods first."""
    order = get_object_or_404(Order, number=number)
    form = PartialDeliveryForm(request.POST)
    if not form.is_valid():
        for error in form.errors["note"]:
            messages.error(request, error)
        return render_detail(request, number, status=400)
    try:
        services.agree_partial_delivery(order.pk, by=request.user, note=form.cleaned_data["note"])
    except services.OrderActionError as error:
        return render_detail(request, number, status=refused(request, error))
    messages.success(
        request, _("Recorded: the warehouse ships what it has now, the rest when it arrives.")
    )
    return redirect(order)


@require_POST
@sales_required
def order_new_date(request, number):
    """Sales records the new delivery date agreed with the customer."""
    order = get_object_or_404(Order, number=number)
    form = NewDateForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Please correct the marked fields. Nothing was saved."))
        return render_detail(request, number, status=400, new_date_form=form)
    try:
        services.record_new_delivery_date(order.pk, by=request.user, **form.cleaned_data)
    except services.OrderActionError as error:
        return render_detail(request, number, status=refused(request, error), new_date_form=form)
    messages.success(request, _("New delivery date recorded; the customer is told by email."))
    return redirect(order)


@require_POST
@staff_required
def order_comment(request, number):
    order = get_object_or_404(Order, number=number)
    form = CommentForm(request.POST)
    if not form.is_valid():
        return render_detail(request, number, status=400, comment_form=form)
    try:
        services.add_comment(order.pk, by=request.user, text=form.cleaned_data["text"])
    except services.OrderActionError as error:
        messages.error(request, error.message)
        status = 403 if isinstance(error, services.TransitionForbidden) else 400
        return render_detail(request, number, status=status, comment_form=form)
    messages.success(request, _("Comment added."))
    return redirect(f"{order.get_absolute_url()}#timeline")


@sales_required
def order_create(request):
    form = StaffOrderForm(
        request.POST or None, request.FILES or None, initial={"token": uuid.uuid4().hex}
    )
    lines = LineFormSet(request.POST or None, prefix="lines")
    status = 200
    if request.method == "POST":
        if form.is_valid() and lines.is_valid():
            data = form.cleaned_data
            try:
                order, _created = services.submit_order(
                    contact=services.ContactDetails(
                        name=data["customer_name"],
                        phone=data["customer_phone"],
                        email=data["customer_email"],
                        language=request.LANGUAGE_CODE,
                    ),
                    idempotency_key=f"staff:{data['token']}",
                    attachments=form.attachments(),
                    channel=data["channel"],
                    lines=[
                        services.LineRequest(line["product"], line["quantity"])
                        for line in lines.cleaned_data
                        if line.get("product")
                    ],
                    delivery=services.DeliveryDetails(
                        recipient=data["recipient"] or data["customer_name"],
                        phone=data["recipient_phone"] or data["customer_phone"],
                        province=data["province"],
                        city=data["city"],
                        district=data["district"],
                        street=data["street"],
                        postal_code=data["postal_code"],
                    ),
                    by=request.user,
                    salesperson=request.user,
                    requested_date=data["requested_date"],
                    requested_window=data["requested_window"],
                    special_instructions=data["special_instructions"],
                )
            except services.OrderActionError as error:
                messages.error(request, error.message)
                status = 400
            else:
                messages.success(
                    request, _("Order %(number)s was created.") % {"number": order.number}
                )
                return redirect(order)
        else:
            status = 400
    return render(request, "orders/order_form.html", {"form": form, "lines": lines}, status=status)


# The process page shows the latest changes to the process definition, this many.
PROCESS_CHANGES_SHOWN = 50


@staff_required
def process(request):
    steps = list(ProcessStep.objects.all())
    by_id = {step.pk: step for step in steps}
    # One query: the latest changes with their author, and how many there are in all.
    changes = list(
        ProcessChange.objects.select_related("by").annotate(total=Window(Count("pk")))[
            :PROCESS_CHANGES_SHOWN
        ]
    )
    history = [
        {
            "change": change,
            "step": by_id.get(change.step_id),
            "label": review.change_label(change),
            "old": review.change_value(change, change.old),
            "new": review.change_value(change, change.new),
        }
        for change in changes
    ]
    return render(
        request,
        "orders/process.html",
        {
            "steps": steps,
            "diagram": state_diagram({s.code: s for s in steps}),
            "return_steps": list(ReturnStep.objects.all()),
            "history": history,
            "history_total": changes[0].total if changes else 0,
        },
    )


@require_POST
@sales_required
def change_request_decide(request, number, pk):
    """Sales approves a customer's delivery change request, or refuses it with a reason
    the customer will read."""
    change = get_object_or_404(DeliveryChangeRequest, pk=pk, order__number=number)
    form = ChangeDecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Please correct the marked fields. Nothing was saved."))
        return render_detail(request, number, status=400, decision_form=form)
    approve = form.cleaned_data["decision"] == "approve"
    try:
        if approve:
            services.approve_delivery_change(change.pk, by=request.user)
        else:
            services.refuse_delivery_change(
                change.pk, by=request.user, reason=form.cleaned_data["reason"]
            )
    except services.OrderActionError as error:
        messages.error(request, error.message)
        return render_detail(
            request,
            number,
            status=error_status(error),
            decision_form=form,
        )
    if approve:
        messages.success(request, _("The change was applied; the customer is told."))
    else:
        messages.success(request, _("The request was refused; the customer is told why."))
    return redirect(change.order)


@staff_required
def order_document(request, number, pk):
    """Download evidence kept with an order (staff only; never a public media URL)."""
    document = get_object_or_404(OrderDocument, pk=pk, order__number=number)
    if not document.file:
        raise Http404
    response = FileResponse(
        document.file.open("rb"),
        as_attachment=True,
        filename=document.title,
        content_type=document.content_type or "application/octet-stream",
    )
    response["Cache-Control"] = "private, no-store"
    return response


def healthz(request):
    return HttpResponse("ok", content_type="text/plain")
