"""Logistics pages: the dashboard, an order's shipping page (carrier proposal, ship,
tracking events, exceptions), and the carriers' webhook."""

from django.contrib import messages
from django.core.exceptions import RequestDataTooBig
from django.db.models import Q
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from orders import selectors as order_selectors
from orders.access import role_required
from orders.models import Order, Status
from orders.roles import Role
from orders.selectors import QueueSpec
from orders.services import OrderActionError
from orders.signals import parcel_events
from orders.web import DashboardView, refused
from warehouse import services as warehouse_services

from . import services, webhooks
from .forms import EventForm, ResolveForm, ShipForm
from .models import Carrier, DeliveryException, Shipment

logistics_required = role_required(Role.LOGISTICS)
# Sales sees and resolves delivery problems too (it talks to the customer).
exceptions_required = role_required(Role.LOGISTICS, Role.SALES)


class LogisticsDashboard(DashboardView):
    roles = (Role.LOGISTICS,)
    title = gettext_lazy("Logistics")
    template_name = "logistics/dashboard.html"
    extra_sections_template = "logistics/_dashboard_sections.html"

    def get_queue_specs(self):
        return [
            QueueSpec(
                "to_ship",
                _("To ship"),
                [Status.PICKED],
                Q(reviewed_at__isnull=False),
                link="logistics:order",
            ),
            QueueSpec("in_transit", _("In transit"), [Status.SHIPPED], link="logistics:order"),
        ]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        now = timezone.now()
        exceptions = list(services.open_exceptions()[:50])
        for problem in exceptions:
            problem.overdue = problem.due_at <= now
        context["exceptions"] = exceptions
        context["late_shipments"] = list(services.late_shipments()[:50])
        return context


def _lines_in_hand(order):
    """(line, units picked and not shipped yet) for the ship form."""
    in_hand = warehouse_services.pick_targets(order)
    return [(line, in_hand[line.pk]) for line in order.lines.all() if in_hand.get(line.pk)]


def _shipping_page(request, number, *, status=200, ship_form=None, event_form=None):
    order = order_selectors.order_for_staff(number)
    packages = services.unshipped_packages(order) if order.status == Status.PICKED else []
    options = services.carrier_options(order, packages) if packages else []
    lines = _lines_in_hand(order)
    can_ship = order.status == Status.PICKED and order.reviewed_at is not None and packages
    context = {
        "order": order,
        "options": options,
        "packages": packages,
        "can_ship": can_ship,
        "ship_form": ship_form or ShipForm(options=options, packages=packages, lines=lines),
        "event_form": event_form or EventForm(),
        "resolve_form": ResolveForm(),
        "shipments": order.shipments.select_related("carrier", "service", "shipped_by")
        .prefetch_related("events", "packages", "lines__line")
        .order_by("shipped_at"),
        "exceptions": order.exceptions.select_related("owner", "resolved_by", "shipment"),
    }
    return render(request, "logistics/order.html", context, status=status)


@exceptions_required
def order_page(request, number):
    """Logistics ships and tracks here; Sales may look and resolve delivery problems."""
    return _shipping_page(request, number)


@exceptions_required
def problems(request):
    """Open delivery problems, oldest first, for Logistics and Sales."""
    now = timezone.now()
    exceptions = list(services.open_exceptions()[:200])
    for problem in exceptions:
        problem.overdue = problem.due_at <= now
    return render(request, "logistics/problems.html", {"exceptions": exceptions})


@require_POST
@logistics_required
def ship(request, number):
    order = get_object_or_404(Order, number=number)
    packages = services.unshipped_packages(order)
    options = services.carrier_options(order, packages) if packages else []
    lines = _lines_in_hand(order)
    form = ShipForm(request.POST, options=options, packages=packages, lines=lines)
    if not form.is_valid():
        messages.error(request, _("Please correct the marked fields. Nothing was saved."))
        return _shipping_page(request, number, status=400, ship_form=form)
    data = form.cleaned_data
    try:
        shipment = services.ship(
            order.pk,
            by=request.user,
            service_id=data["service"],
            package_ids=data["packages"],
            lines=form.line_quantities(),
            tracking_number=data["tracking_number"],
            reason=data["reason"],
        )
    except OrderActionError as error:
        return _shipping_page(request, number, status=refused(request, error), ship_form=form)
    messages.success(
        request,
        _("Shipped with %(carrier)s, tracking number %(tracking)s. The customer has the link.")
        % {"carrier": shipment.carrier.name, "tracking": shipment.tracking_number},
    )
    return redirect("logistics:order", number=number)


@require_POST
@logistics_required
def add_event(request, number, pk):
    shipment = get_object_or_404(Shipment, pk=pk, order__number=number)
    form = EventForm(request.POST, shipment=shipment)
    if not form.is_valid():
        messages.error(request, _("Please correct the marked fields. Nothing was saved."))
        return _shipping_page(request, number, status=400, event_form=form)
    data = form.cleaned_data
    try:
        services.record_event(
            shipment.pk,
            type=data["type"],
            happened_at=data["happened_at"],
            location=data["location"],
            description=data["description"],
            by=request.user,
        )
    except OrderActionError as error:
        return _shipping_page(request, number, status=refused(request, error), event_form=form)
    messages.success(request, _("Tracking event recorded."))
    return redirect("logistics:order", number=number)


@require_POST
@exceptions_required
def resolve(request, number, pk):
    problem = get_object_or_404(DeliveryException, pk=pk, order__number=number)
    form = ResolveForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Please correct the marked fields. Nothing was saved."))
        return _shipping_page(request, number, status=400)
    try:
        services.resolve_exception(
            problem.pk,
            by=request.user,
            resolution=form.cleaned_data["resolution"],
            note=form.cleaned_data["note"],
        )
    except OrderActionError as error:
        return _shipping_page(request, number, status=refused(request, error))
    messages.success(request, _("The problem is marked resolved."))
    return redirect("logistics:order", number=number)


@csrf_exempt
@require_POST
def webhook(request, carrier):
    """Tracking events pushed by a carrier; see logistics/webhooks.py for the contract.
    Every refusal is decided before anything is written."""
    carrier = Carrier.objects.filter(code=carrier, active=True).first()
    if carrier is None:
        return JsonResponse({"error": "unknown carrier"}, status=404)
    try:
        body = request.body
    except RequestDataTooBig:
        return JsonResponse({"error": "body too large"}, status=413)
    try:
        webhooks.verify(carrier.webhook_secret, request.headers, body)
        events = webhooks.parse_events(body)
        shipments = {
            s.tracking_number: s
            for s in Shipment.objects.filter(
                carrier=carrier, tracking_number__in={e["tracking_number"] for e in events}
            )
        }
        webhooks.check_against_shipments(events, shipments)
    except webhooks.WebhookRefused as refused:
        return JsonResponse({"error": refused.reason}, status=refused.status)
    result = {"accepted": 0, "duplicates": 0, "unknown": [], "invalid": []}
    elsewhere = []
    for event in events:
        shipment = shipments.get(event["tracking_number"])
        if shipment is None:
            elsewhere.append(event)
            continue
        try:
            _event, created = services.record_event(
                shipment.pk,
                type=event["type"],
                happened_at=event["happened_at"],
                location=event["location"],
                description=event["description"],
                carrier_event_id=event["id"],
            )
        except OrderActionError:
            result["invalid"].append(event["id"])
            continue
        result["accepted" if created else "duplicates"] += 1
    # Parcels sent back by customers (feedback's returns), by their tracking number.
    taken = set()
    if elsewhere:
        for _receiver, answer in parcel_events.send(
            sender=Carrier, carrier=carrier.code, events=elsewhere
        ):
            for outcome in ("accepted", "duplicates"):
                result[outcome] += len((answer or {}).get(outcome, ()))
                taken.update((answer or {}).get(outcome, ()))
    result["unknown"] = [event["id"] for event in elsewhere if event["id"] not in taken]
    return JsonResponse(result)
