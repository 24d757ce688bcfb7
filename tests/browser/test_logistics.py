"""Logistics at a desktop, in a real Chromium: the dashboard (to ship, in transit, late
shipments, open delivery problems), the shipping page with the carrier proposal,
choosing another service (refused without a reason, in the reader's language; shipped
with one), a carrier reporting a delay over real HTTP (the carrier simulator posting
signed webhooks to the live server), the delivery problem on the dashboard and on
/logistics/problems/, and resolving it from the shipping page.

Screenshots go to artifacts/screenshots/logistics-*.png (git-ignored).
"""

import io
import re
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext
from playwright.sync_api import Page, expect

from logistics.models import (
    Carrier,
    CarrierRule,
    CarrierService,
    DeliveryException,
    Resolution,
    Shipment,
    ShipmentStatus,
)
from orders import services
from orders.models import Status
from orders.roles import Role
from tests.browser.helpers import log_in
from tests.browser.helpers import screenshot as shot
from tests.factories import CustomerFactory, ProductFactory

pytestmark = [
    pytest.mark.browser,
    # live_server needs committed data (conftest restores the migration's reference data).
    pytest.mark.django_db(transaction=True),
]

CLERK = "孙磊"
SHUNDA = "顺达快递 ShunDa Express"
HUAPOST = "华邮 HuaPost"
REASON = "The customer paid for next-day delivery."


def make_carrier(code, name, prefix, digits, check, suffix, services_):
    """A carrier as Logistics sets it up in the admin; each service delivers everywhere.
    ``services_``: (level, days in transit, heaviest kg, base price, price per kg,
    honours time windows)."""
    carrier = Carrier.objects.create(
        code=code,
        name=name,
        tracking_url=f"https://track.{code}.example/?n={{tracking}}",
        tracking_prefix=prefix,
        tracking_digits=digits,
        check_digit=check,
        tracking_suffix=suffix,
    )
    for level, days, heaviest, base, per_kg, window in services_:
        service = CarrierService.objects.create(
            carrier=carrier,
            level=level,
            transit_days=days,
            max_weight_kg=Decimal(heaviest),
            base_price=Decimal(base),
            price_per_kg=Decimal(per_kg),
            honours_time_window=window,
        )
        CarrierRule.objects.create(service=service)
    return carrier


@pytest.fixture
def clerk(users):
    user = users[Role.LOGISTICS]
    user.first_name, user.last_name = CLERK, ""
    user.save(update_fields=["first_name", "last_name"])
    return user


@pytest.fixture
def orders(order_in, users, clerk):
    """Two orders on the dashboard: one shipped six days ago and now late against its
    promise (in transit), and one reviewed and waiting to ship, promised in two weeks.
    Then the carriers Logistics chooses from."""
    with time_machine.travel(timezone.now() - timedelta(days=6)):
        late = order_in(
            Status.SHIPPED,
            customer=CustomerFactory(name="马超", phone="+8613700001111"),
            lines=[services.LineRequest(ProductFactory(sku="TOW-0003", name="竹纤维毛巾"), 3)],
            salesperson=users[Role.SALES],
        )
    ready = order_in(
        Status.PICKED,
        customer=CustomerFactory(name="李娜", phone="+8613900002222"),
        lines=[
            services.LineRequest(
                ProductFactory(sku="CUP-0500", name="不锈钢保温杯 500ml", unit_price=Decimal("89")),
                2,
            )
        ],
        salesperson=users[Role.SALES],
    )
    # The customer agreed to a later date: every service arrives in time, so the
    # cheapest is proposed whatever the weekday.
    services.record_new_delivery_date(
        ready.pk, by=users[Role.SALES], date=timezone.localdate() + timedelta(days=14)
    )
    make_carrier(
        "shunda",
        SHUNDA,
        "SD",
        12,
        "luhn",
        "",
        [
            ("standard", 2, "30", "10.00", "2.00", True),
            ("express", 1, "20", "22.00", "4.00", True),
        ],
    )
    make_carrier(
        "huapost", HUAPOST, "EE", 8, "s10", "CN", [("economy", 4, "30", "8.00", "1.00", False)]
    )
    ready.refresh_from_db()
    return late, ready


def switch_language(page: Page, code: str):
    page.locator("#lang-select").select_option(code)
    page.locator("form.lang-switch button[type=submit]").click()
    expect(page.locator("html")).to_have_attribute("lang", code)


def post_ship_form(page: Page, number: str):
    """Click "Hand to the carrier"; returns the answer's HTTP status."""
    path = reverse("logistics:ship", args=[number])
    with page.expect_response(
        lambda r: r.request.method == "POST" and r.url.endswith(path)
    ) as answer:
        page.locator("#ship-button").click()
    return answer.value.status


def test_logistics_ships_with_another_carrier_and_resolves_a_delay(
    live_server, page: Page, orders, clerk
):
    late, order = orders
    base = live_server.url
    ship_url = reverse("logistics:order", args=[order.number])

    log_in(page, base, clerk)
    expect(page).to_have_url(f"{base}{reverse('logistics:dashboard')}")
    expect(page.locator("header .userbox")).to_contain_text(CLERK)
    expect(page.locator(f"#queue-to_ship a[href='{ship_url}']")).to_have_text(order.number)
    late_url = reverse("logistics:order", args=[late.number])
    expect(page.locator(f"#queue-in_transit a[href='{late_url}']")).to_have_text(late.number)
    late_row = page.locator("#late-shipments tbody tr")
    expect(late_row).to_have_count(1)
    expect(late_row).to_contain_text(late.number)
    expect(late_row).to_contain_text(late.promised_date.isoformat())
    expect(page.locator("#open-exceptions tbody tr")).to_have_text(["No open delivery problem."])
    shot(page, "logistics-dashboard.png")

    # The shipping page: every service that can carry it, the cheapest proposed.
    page.locator(f"#queue-to_ship a[href='{ship_url}']").click()
    expect(page).to_have_url(f"{base}{ship_url}")
    options = page.locator("#carrier-options tbody tr")
    expect(options).to_have_count(4)
    expect(options.first).to_contain_text(f"{HUAPOST} · Economy")
    expect(options.first).to_contain_text("Proposed")
    expect(options.first).to_contain_text("9.50")
    expect(page.locator("#carrier-options .badge")).to_have_count(1)
    form = page.locator("#ship-form")
    service = form.get_by_label("Carrier and service")
    proposed = CarrierService.objects.get(carrier__code="huapost")
    express = CarrierService.objects.get(carrier__code="shunda", level="express")
    expect(service).to_have_value(str(proposed.pk))
    expect(form.locator("input[name=packages]")).to_be_checked()
    shot(page, "logistics-ship.png")

    # Another service without a reason: refused, nothing shipped.
    service.select_option(str(express.pk))
    assert post_ship_form(page, order.number) == 400
    refusal = f"Say why you chose another carrier than the proposed {HUAPOST} · Economy."
    expect(page.locator(".messages .error")).to_have_text(refusal)
    expect(service).to_have_value(str(express.pk))
    expect(page.locator("section[id^='shipment-']")).to_have_count(0)
    shot(page, "logistics-ship-refused.png")
    assert not Shipment.objects.filter(order=order).exists()
    order.refresh_from_db()
    assert order.status == Status.PICKED

    # The same refusal reads in the clerk's language.
    page.goto(f"{base}{ship_url}")
    switch_language(page, "zh-hans")
    page.locator("#ship-form select[name=service]").select_option(str(express.pk))
    assert post_ship_form(page, order.number) == 400
    with translation.override("zh-hans"):
        proposed_name = f"{HUAPOST} · {gettext('Economy')}"
        chinese = gettext("Say why you chose another carrier than the proposed %(carrier)s.") % {
            "carrier": proposed_name
        }
    assert chinese != refusal  # the catalogue has it
    expect(page.locator(".messages .error")).to_have_text(chinese)
    shot(page, "logistics-ship-refused-zh-hans.png")
    assert not Shipment.objects.filter(order=order).exists()
    page.goto(f"{base}{ship_url}")
    switch_language(page, "en")

    # With a reason it ships, and the page says which service was chosen instead of which.
    service.select_option(str(express.pk))
    form.get_by_label("Why another carrier than the proposed one").fill(REASON)
    post_ship_form(page, order.number)
    shipment = Shipment.objects.get(order=order)
    expect(page.locator(".messages .success")).to_have_text(
        f"Shipped with {SHUNDA}, tracking number {shipment.tracking_number}. "
        "The customer has the link."
    )
    expect(page.locator(".page-head h1 .badge")).to_have_text("Shipped")
    card = page.locator(f"#shipment-{shipment.pk}")
    expect(card.locator("h2")).to_contain_text(shipment.tracking_number)
    expect(card).to_contain_text(f"chosen instead of {HUAPOST} · Economy: {REASON}")
    assert re.fullmatch(r"SD\d{13}", shipment.tracking_number)
    assert (shipment.service, shipment.proposed_service) == (express, proposed)
    assert (shipment.override_reason, shipment.shipped_by) == (REASON, clerk)
    order.refresh_from_db()
    assert order.status == Status.SHIPPED
    shot(page, "logistics-shipped.png")

    # The carrier reports a delay (and then delivers), over real HTTP.
    out = io.StringIO()
    call_command(
        "simulate_carrier",
        shipment.tracking_number,
        url=live_server.url,
        scenario="delayed",
        stdout=out,
    )
    assert "sent 5, accepted 5, duplicates 0" in out.getvalue()
    problem = DeliveryException.objects.get(order=order)
    assert (problem.type, problem.owner, problem.resolved_at) == ("delayed", clerk, None)

    page.goto(f"{base}{reverse('logistics:dashboard')}")
    row = page.locator("#open-exceptions tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(order.number)
    expect(row).to_contain_text(SHUNDA)
    expect(row).to_contain_text("Delayed")
    expect(row).to_contain_text(CLERK)
    expect(row.locator(".badge")).not_to_contain_text("Overdue")
    shot(page, "logistics-dashboard-exception.png")

    page.locator("header nav a", has_text="Delivery problems").click()
    expect(page).to_have_url(f"{base}{reverse('logistics:problems')}")
    row = page.locator("#problems-table tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(order.number)
    expect(row).to_contain_text(order.customer.name)
    expect(row.get_by_role("link", name=order.customer.phone)).to_have_attribute(
        "href", f"tel:{order.customer.phone}"
    )
    expect(row).to_contain_text("Delayed")
    expect(row).to_contain_text(f"{SHUNDA} {shipment.tracking_number}")
    expect(row).to_contain_text(CLERK)
    shot(page, "logistics-exception.png")

    # Resolved from the shipping page: it goes on the timeline and off the lists.
    row.get_by_role("link", name=order.number).click()
    expect(page).to_have_url(f"{base}{ship_url}")
    item = page.locator(f"#exception-{problem.pk}")
    expect(item).to_contain_text("Delayed")
    events = page.locator(f"#shipment-{shipment.pk} ol.timeline > li")
    expect(events).to_have_count(5)
    expect(events.nth(1)).to_contain_text("Delayed")
    expect(events.nth(1)).to_contain_text("carrier")
    shot(page, "logistics-exception-order.png")
    item.get_by_label("Resolution").select_option(Resolution.NONE)
    item.get_by_label("What was done").fill("The carrier caught up; delivered one day late.")
    item.get_by_role("button", name="Mark resolved").click()
    expect(page.locator(".messages .success")).to_have_text("The problem is marked resolved.")
    expect(item).to_contain_text("Nothing needed (resolved by itself)")
    expect(item).to_contain_text("The carrier caught up; delivered one day late.")
    expect(item.locator("form")).to_have_count(0)
    shot(page, "logistics-resolved.png")

    problem.refresh_from_db()
    assert (problem.resolution, problem.resolved_by) == (Resolution.NONE, clerk)
    assert order.events.filter(code="exception_resolved", actor=clerk).count() == 1
    shipment.refresh_from_db()
    order.refresh_from_db()
    assert shipment.status == ShipmentStatus.DELIVERED
    assert order.status == Status.DELIVERED

    page.goto(f"{base}{reverse('logistics:dashboard')}")
    expect(page.locator("#open-exceptions tbody tr")).to_have_text(["No open delivery problem."])
    expect(page.locator(f"#queue-in_transit a[href='{ship_url}']")).to_have_count(0)
