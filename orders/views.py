import uuid

from django.conf import settings
from django.contrib import messages
from django.core import signing
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django.views.generic import TemplateView
from django_ratelimit.decorators import ratelimit

from . import selectors, services
from .access import RoleRequiredMixin, sales_required, staff_required
from .clock import steps_by_code
from .forms import (
    ChangeDecisionForm,
    CommentForm,
    CustomerLookupForm,
    DeliveryChangeForm,
    DeliveryForm,
    LineFormSet,
    LookupForm,
    NewDateForm,
    OnlineOrderForm,
    OrderFilterForm,
    PartialDeliveryForm,
    StaffOrderForm,
    TransitionForm,
    VerifyForm,
)
from .models import (
    CUSTOMER_CHANGEABLE_STATUSES,
    ChangeRequestStatus,
    Channel,
    DeliveryChangeRequest,
    Order,
    OrderDocument,
    ProcessStep,
    Product,
    Status,
)
from .process import state_diagram
from .roles import Role, has_role, user_roles

# ---------------------------------------------------------------------------
# Dashboards


class DashboardView(RoleRequiredMixin, TemplateView):
    """A role's dashboard: queues of the orders waiting on that role, most urgent first.

    Department apps subclass it with their own ``roles`` and ``queues``; the queue
    section reloads itself through htmx (``?partial=1``).
    """

    template_name = "orders/dashboard.html"
    partial_template_name = "orders/_dashboard_queues.html"
    # A department's own sections below its queues (low stock, delivery problems...).
    extra_sections_template = ""
    title = ""
    queues: list[tuple[str, str, list[str]]] = []

    def get_queues(self):
        steps = steps_by_code()
        return [
            selectors.queue(key, title, statuses, steps=steps)
            for key, title, statuses in self.queues
        ]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["title"] = self.title
        context["queues"] = self.get_queues()
        context["partial_template_name"] = self.partial_template_name
        context["extra_sections_template"] = self.extra_sections_template
        return context

    def get_template_names(self):
        if self.request.htmx or self.request.GET.get("partial"):
            return [self.partial_template_name]
        return [self.template_name]


class SalesDashboard(DashboardView):
    roles = (Role.SALES,)
    title = gettext_lazy("Sales")

    def get_queues(self):
        steps = steps_by_code()
        now = timezone.now()
        queues = [
            selectors.queue(
                "to_verify",
                _("New orders: verify contact and address"),
                [Status.PLACED],
                where=~selectors.VERIFIED,
                steps=steps,
                now=now,
            ),
            selectors.queue(
                "to_confirm",
                _("Awaiting confirmation"),
                [Status.PLACED],
                where=selectors.VERIFIED,
                steps=steps,
                now=now,
            ),
        ]
        no_answer = selectors.no_answer_filter(steps, now)
        if no_answer is not None:
            queues.append(
                selectors.queue(
                    "no_answer",
                    _("No answer after the final limit: call once more or cancel"),
                    [Status.PLACED],
                    where=no_answer,
                    steps=steps,
                    now=now,
                )
            )
        queues.append(
            selectors.queue(
                "backordered",
                _("Backordered: agree a new delivery date"),
                [Status.BACKORDERED],
                steps=steps,
                now=now,
            )
        )
        return queues

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["follow_ups"] = selectors.open_follow_ups(self.request.user)
        context["show_follow_ups"] = True
        context["change_requests"] = selectors.pending_change_requests()
        context["show_change_requests"] = True
        return context


class ManagerDashboard(DashboardView):
    roles = (Role.MANAGER,)
    title = gettext_lazy("Overview")
    template_name = "orders/manager_dashboard.html"
    partial_template_name = "orders/_manager_overview.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        counts = selectors.status_counts()
        context["status_counts"] = [(Status(s), counts[s]) for s in Status.values]
        context["late_orders"] = selectors.late_orders()
        context["escalated"] = selectors.escalated_follow_ups()
        return context

    def get_queues(self):
        return []


# The dashboard each role lands on after signing in, in order of precedence.
ROLE_HOME = [
    (Role.MANAGER, "manager_dashboard"),
    (Role.SALES, "sales_dashboard"),
    (Role.WAREHOUSE, "warehouse:dashboard"),
    (Role.LOGISTICS, "logistics:dashboard"),
    (Role.FINANCE, "finance:dashboard"),
]


@staff_required
def home(request):
    roles = user_roles(request.user)
    for role, url_name in ROLE_HOME:
        if role in roles:
            return redirect(url_name)
    return redirect("order_list")  # pragma: no cover - every staff user has a role


# ---------------------------------------------------------------------------
# Orders


@staff_required
def order_list(request):
    form = OrderFilterForm(request.GET or None)
    status = 200
    if form.is_bound and not form.is_valid():
        orders = Order.objects.none()
        status = 400
    else:
        orders = selectors.order_search(**(form.cleaned_data if form.is_bound else {}))
    page = Paginator(orders, 30).get_page(request.GET.get("page"))
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
        "logistics_link": has_role(request.user, Role.LOGISTICS)
        and order.status in (Status.PICKED, Status.SHIPPED, Status.DELIVERED)
        and (order.status != Status.PICKED or order.reviewed_at is not None),
        "warehouse_link": has_role(request.user, Role.WAREHOUSE)
        and order.status in (Status.CONFIRMED, Status.BACKORDERED, Status.PICKED),
        "comment_form": comment_form or CommentForm(),
        "can_comment": request.user.has_perm("orders.comment_order"),
        "status_url": settings.SITE_URL.rstrip("/") + order.get_public_url(),
    }
    return render(request, "orders/order_detail.html", context, status=status)


@staff_required
def order_detail(request, number):
    return render_detail(request, number)


# How each refusal is answered: wrong role 403, changed or wrong state 409, else 400.
ERROR_STATUS = {
    services.TransitionForbidden: 403,
    services.OrderChanged: 409,
    services.TransitionNotAllowed: 409,
}


def error_status(error) -> int:
    """The HTTP status for a refused action (subclasses answer like their parents)."""
    for kind, status in ERROR_STATUS.items():
        if isinstance(error, kind):
            return status
    return 400


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
        messages.error(request, error.message)
        return render_detail(request, number, status=error_status(error))
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
        messages.error(request, error.message)
        return render_detail(request, number, status=error_status(error))
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
        messages.error(request, error.message)
        return render_detail(request, number, status=error_status(error))
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
        messages.error(request, error.message)
        return render_detail(request, number, status=error_status(error))
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
        messages.error(request, error.message)
        return render_detail(request, number, status=error_status(error), new_date_form=form)
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


# ---------------------------------------------------------------------------
# The process page and the public status page


@staff_required
def process(request):
    steps = list(ProcessStep.objects.all())
    return render(
        request,
        "orders/process.html",
        {"steps": steps, "diagram": state_diagram({s.code: s for s in steps})},
    )


MAIN_PATH = [
    Status.PLACED,
    Status.CONFIRMED,
    Status.PICKED,
    Status.SHIPPED,
    Status.DELIVERED,
    Status.CLOSED,
]


def public_status(request, number, token):
    order = selectors.order_for_public(number, token)
    return _render_public_status(request, order)


def _public_response(response):
    response["X-Robots-Tag"] = "noindex, nofollow"
    # Never "no-referrer" on a page with a form: browsers then send "Origin: null" and
    # Django's CSRF check refuses the post. "same-origin" still keeps the secret link
    # from the carrier's tracking site and any other site.
    response["Referrer-Policy"] = "same-origin"
    response["Cache-Control"] = "private, no-store"
    return response


def _render_public_status(request, order, *, change_form=None, change_error="", status=200):
    """The customer's status page: progress, promised date and estimate, shipments with
    their tracking links, the delivery change card, the customer-facing timeline."""
    if order.status in MAIN_PATH:
        reached = MAIN_PATH.index(order.status)
        progress = [(Status(s), i <= reached, i == reached) for i, s in enumerate(MAIN_PATH)]
    else:
        progress = []
    shipments = selectors.public_shipments(order)
    requests = selectors.change_requests_for(order)
    pending = next((r for r in requests if r.status == ChangeRequestStatus.PENDING), None)
    decided = next((r for r in requests if r.status != ChangeRequestStatus.PENDING), None)
    can_change = order.status in CUSTOMER_CHANGEABLE_STATUSES
    response = render(
        request,
        "orders/public_status.html",
        {
            "order": order,
            "status": Status(order.status),
            "progress": progress,
            "events": selectors.public_timeline(order),
            "first_name": selectors.masked_first_name(order.delivery_recipient),
            "lines": order.lines.all(),
            "shipments": shipments,
            "estimate": selectors.delivery_estimate(shipments),
            "pending_change": pending,
            "last_decision": decided,
            "can_change": can_change and pending is None,
            # After packing starts the card says why the delivery can no longer change.
            "change_closed": services.why_not_changeable(order)
            if order.status in (Status.PICKED, Status.SHIPPED)
            else "",
            "change_form": change_form
            or DeliveryChangeForm(country=order.delivery_country, window=order.requested_window),
            "change_error": change_error,
        },
        status=status,
    )
    return _public_response(response)


def _limited_rate(group, request):
    return settings.O2D_LOOKUP_RATE


@require_POST
@ratelimit(key="ip", rate=_limited_rate, method="POST", block=False)
def public_change_request(request, number, token):
    """The customer asks, from the status page, to change the delivery window, add
    instructions or deliver elsewhere. Only the status link's secret opens it; rate
    limited per client address; Sales answers on the order page."""
    order = selectors.order_for_public(number, token)
    form = DeliveryChangeForm(
        request.POST, country=order.delivery_country, window=order.requested_window
    )
    if getattr(request, "limited", False):
        error = _("Too many requests from your network. Please wait a few minutes.")
        return _render_public_status(
            request, order, change_form=form, change_error=error, status=429
        )
    if not form.is_valid():
        error = _("Please correct the marked fields. Nothing was sent yet.")
        return _render_public_status(
            request, order, change_form=form, change_error=error, status=400
        )
    data = form.cleaned_data
    try:
        services.request_delivery_change(
            order.pk,
            window=data["requested_window"],
            instructions=data["instructions"],
            address=form.new_address(),
        )
    except services.OrderActionError as error:
        order.refresh_from_db()
        return _render_public_status(
            request,
            order,
            change_form=form,
            change_error=error.message,
            status=error_status(error),
        )
    return _see_other(order.get_public_url() + "#delivery-change")


def _see_other(url):
    response = redirect(url)
    response.status_code = 303
    return response


@ratelimit(key="ip", rate=_limited_rate, method="POST", block=False)
def public_lookup(request):
    """A customer who lost the status link finds the order by number plus email or
    phone. An unknown order and a contact that does not match get the same answer
    (same page, same message, same status, same work); attempts are rate limited."""
    form = LookupForm(request.POST or None)
    status = 200
    error = ""
    if request.method == "POST":
        if getattr(request, "limited", False):
            status = 429
            error = _("Too many attempts from your network. Please wait a few minutes.")
        elif not form.is_valid():
            status = 400
        else:
            order = selectors.order_for_lookup(
                form.cleaned_data["number"], form.cleaned_data["contact"]
            )
            if order is not None:
                return _see_other(order.get_public_url())
            status = 404
            error = _(
                "We found no order with this number and this email or phone. Check both "
                "and try again, or call us and give your order number."
            )
    response = render(
        request, "orders/public_lookup.html", {"form": form, "error": error}, status=status
    )
    return _public_response(response)


# ---------------------------------------------------------------------------
# The public order page (online channel)


def _new_form_token() -> str:
    return uuid.uuid4().hex


@ratelimit(
    key="ip", rate=lambda group, request: settings.O2D_ONLINE_ORDER_RATE, method="POST", block=False
)
def online_order(request):
    """Customers order without an account. Submitting is idempotent (the form's token),
    rate limited per client address, and guarded by CSRF and a honeypot field."""
    products = Product.objects.filter(active=True).order_by("name")
    if request.method == "POST" and getattr(request, "limited", False):
        form = OnlineOrderForm(request.POST, products=products)
        messages.error(request, _("Too many orders from your network. Please wait a few minutes."))
        return render(request, "orders/online_order.html", {"form": form}, status=429)
    if request.method != "POST":
        form = OnlineOrderForm(initial={"token": _new_form_token()}, products=products)
        return render(request, "orders/online_order.html", {"form": form})

    form = OnlineOrderForm(request.POST, products=products)
    if not form.is_valid():
        return render(request, "orders/online_order.html", {"form": form}, status=400)
    data = form.cleaned_data
    try:
        order, _created = services.submit_order(
            contact=services.ContactDetails(
                name=data["name"],
                phone=data["phone"],
                email=data["email"],
                language=request.LANGUAGE_CODE,
            ),
            idempotency_key=f"online:{data['token']}",
            channel=Channel.ONLINE,
            lines=[services.LineRequest(product, qty) for product, qty in data["lines"]],
            delivery=services.DeliveryDetails(
                recipient=data["name"],
                phone=data["phone"],
                country=data["country"],
                province=data["province"],
                city=data["city"],
                district=data["district"],
                street=data["street"],
                postal_code=data["postal_code"],
            ),
            requested_date=data["requested_date"],
            requested_window=data["requested_window"],
            special_instructions=data["special_instructions"],
        )
    except services.OrderActionError as error:
        messages.error(request, error.message)
        return render(request, "orders/online_order.html", {"form": form}, status=400)
    _remember_placed_order(request, order)
    return redirect("online_order_received", number=order.number, token=order.public_token)


# The orders this browser session placed: only it sees their full details on the
# thank-you page. The link alone (it is printed in the label's QR code and sent by
# email) shows no more than the public status page.
PLACED_ORDERS_SESSION_KEY = "o2d_placed_orders"
PLACED_ORDERS_KEPT = 10


def _remember_placed_order(request, order):
    placed = [pk for pk in request.session.get(PLACED_ORDERS_SESSION_KEY, []) if pk != order.pk]
    request.session[PLACED_ORDERS_SESSION_KEY] = [*placed[-(PLACED_ORDERS_KEPT - 1) :], order.pk]


def online_order_received(request, number, token):
    """The thank-you page after an online order. The session that placed the order sees
    the full details; anyone else with the link sees only what the status page shows
    (a masked first name, the city, the goods)."""
    order = selectors.order_for_public(number, token)
    placed_here = order.pk in request.session.get(PLACED_ORDERS_SESSION_KEY, [])
    response = render(
        request,
        "orders/online_order_received.html",
        {
            "order": order,
            "placed_here": placed_here,
            "first_name": selectors.masked_first_name(order.delivery_recipient),
            "lines": order.lines.all(),
            "status_url": settings.SITE_URL.rstrip("/") + order.get_public_url(),
        },
    )
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Cache-Control"] = "private, no-store"
    return response


def customer_confirm(request, token):
    """The customer's answer from the order-received email: confirm, or ask for a call.
    The link is signed and expires; a tampered link is 400, an expired one 410."""
    try:
        order = selectors.order_from_confirm_link(token)
    except signing.SignatureExpired:
        return render(request, "orders/confirm_link_invalid.html", {"expired": True}, status=410)
    except signing.BadSignature:
        return render(request, "orders/confirm_link_invalid.html", {"expired": False}, status=400)
    status = 200
    if request.method == "POST":
        answer = request.POST.get("answer")
        try:
            if answer == "confirm":
                services.confirm_by_customer(order.pk)
            elif answer == "callback":
                services.request_callback(order.pk)
            else:
                raise services.OrderActionError(_("Please choose one of the two answers."))
        except services.OrderActionError as error:
            messages.error(request, error.message)
            status = 409 if isinstance(error, services.TransitionNotAllowed) else 400
        else:
            return redirect("customer_confirm", token=token)
        order.refresh_from_db()
    response = render(
        request,
        "orders/customer_confirm.html",
        {
            "order": order,
            "lines": order.lines.all(),
            "proposed_date": services.proposed_delivery_date(order),
            "status_url": order.get_public_url(),
        },
        status=status,
    )
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Cache-Control"] = "private, no-store"
    return response


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
