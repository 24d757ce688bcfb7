"""The public pages: online order, confirmation link, status page, lookup."""

import uuid

from django.conf import settings
from django.contrib import messages
from django.core import signing
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_ratelimit.decorators import ratelimit

from .. import selectors, services
from ..forms import (
    DeliveryChangeForm,
    LookupForm,
    OnlineOrderForm,
    OnlineOrderTokenForm,
)
from ..models import (
    CUSTOMER_CHANGEABLE_STATUSES,
    ChangeRequestStatus,
    Channel,
    Status,
)
from ..web import error_status

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
    """The customer's status page: progress, promised date, the delivery change card,
    the customer-facing timeline, and what the departments add (orders.panels): the
    parcels with their tracking links and the carrier's estimate, the receipt panel."""
    if order.status in MAIN_PATH:
        reached = MAIN_PATH.index(order.status)
        progress = [(Status(s), i <= reached, i == reached) for i, s in enumerate(MAIN_PATH)]
    else:
        progress = []
    events = selectors.public_timeline(order)
    # Asking for a delivery change writes a public "change_requested" event in the same
    # transaction (services.request_delivery_change): without one there is no request
    # to read, and the page saves a query.
    asked = any(event.code == "change_requested" for event in events)
    requests = selectors.change_requests_for(order) if asked else []
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
            "events": events,
            "first_name": selectors.masked_first_name(order.delivery_recipient),
            "lines": order.lines.all(),
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
    products = selectors.products_on_sale()
    if request.method == "POST" and getattr(request, "limited", False):
        form = OnlineOrderForm(request.POST, products=products)
        messages.error(request, _("Too many orders from your network. Please wait a few minutes."))
        return render(request, "orders/online_order.html", {"form": form}, status=429)
    if request.method != "POST":
        # The blank form's fields are rendered once (_blank_form_fields); each page
        # gets its own token.
        fields = _blank_form_fields(products)
        form = OnlineOrderTokenForm(initial={"token": _new_form_token()})
        context = {"form": form, "blank_fields": fields}
        return render(request, "orders/online_order.html", context)

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
            lines=[
                services.LineRequest(selectors.product_from_row(row), qty)
                for row, qty in data["lines"]
            ],
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
    response = redirect("online_order_received", number=order.number, token=order.public_token)
    _remember_placed_order(request, response, order)
    return response


# The fields of the blank order form, rendered once per language and list of products
# on sale (each worker process keeps a few): they are the same for every visitor. The
# form token and the CSRF token are outside them.
_BLANK_FIELDS: dict[tuple, str] = {}
_BLANK_FIELDS_KEPT = 16


def _blank_form_fields(products) -> str:
    key = (
        get_language(),
        tuple((p.pk, p.name, p.sku, str(p.unit_price), p.currency) for p in products),
    )
    html = _BLANK_FIELDS.get(key)
    if html is None:
        if len(_BLANK_FIELDS) >= _BLANK_FIELDS_KEPT:
            _BLANK_FIELDS.clear()
        form = OnlineOrderForm(products=products)
        html = _BLANK_FIELDS[key] = render_to_string(
            "orders/_online_order_fields.html", {"form": form}
        )
    return html


# The orders this browser placed: only it sees their full details on the thank-you
# page. The link alone (it is printed in the label's QR code and sent by email) shows
# no more than the public status page. The order numbers are kept in a signed,
# HttpOnly cookie for the /order/ pages rather than in the session, so that ordering
# reads and writes no session row (two statements per order).
PLACED_ORDERS_COOKIE = "o2d_placed"
PLACED_ORDERS_SALT = "orders.views.public.placed_orders"
PLACED_ORDERS_KEPT = 10


def _placed_orders(request) -> list[str]:
    value = request.get_signed_cookie(
        PLACED_ORDERS_COOKIE,
        default="",
        salt=PLACED_ORDERS_SALT,
        max_age=settings.SESSION_COOKIE_AGE,
    )
    return [number for number in value.split(",") if number]


def _remember_placed_order(request, response, order):
    placed = [number for number in _placed_orders(request) if number != order.number]
    placed = [*placed[-(PLACED_ORDERS_KEPT - 1) :], order.number]
    response.set_signed_cookie(
        PLACED_ORDERS_COOKIE,
        ",".join(placed),
        salt=PLACED_ORDERS_SALT,
        max_age=settings.SESSION_COOKIE_AGE,
        path="/order/",
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


def online_order_received(request, number, token):
    """The thank-you page after an online order. The browser that placed the order sees
    the full details; anyone else with the link sees only what the status page shows
    (a masked first name, the city, the goods)."""
    order = selectors.order_for_public(number, token)
    placed_here = order.number in _placed_orders(request)
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
