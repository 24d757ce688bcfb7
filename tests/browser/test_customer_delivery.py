"""The customer's side of delivery, in a real Chromium on a phone-size screen (390 by 844 px).

- A customer follows a shipped order to confirmed receipt: the parcel with its tracking
  link and estimate, the carrier's events arriving over real HTTP (the carrier
  simulator posting signed webhooks to the live server), then "Yes, I received my
  order".
- A customer who lost the link finds the order through /track/ with a phone number.
- A customer reports a problem with a photo from the phone, and Sales sees the case on
  /feedback/ (desktop).

Nothing may stick out sideways at 390 px. Screenshots go to artifacts/screenshots/
(git-ignored).
"""

import io
import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from PIL import Image
from playwright.sync_api import Page, expect

from feedback.models import CaseStatus, ProblemCase, ProblemKind, Receipt, ReceiptMethod
from logistics.models import ShipmentStatus, TrackingEvent
from orders import services
from orders.models import Status
from tests.browser.helpers import ENGLISH, assert_fits_phone, log_in
from tests.browser.helpers import screenshot as shot
from tests.factories import CustomerFactory, ProductFactory

pytestmark = [
    pytest.mark.browser,
    # live_server needs committed data (conftest restores the migration's reference data).
    pytest.mark.django_db(transaction=True),
]

CARRIER = "Test Express"
# Where the carrier simulator's events happen (logistics simulate_carrier HUBS).
FIRST_HUB = "上海分拨中心"


@pytest.fixture
def media(settings, tmp_path):
    """Problem photos are written under a temporary media folder."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def customer(db):
    # Stored as the system stores every phone number: E.164.
    return CustomerFactory(name="王小明", phone="+8613912345678", email="wang.xm@example.cn")


@pytest.fixture
def build(order_in, users, customer):
    """An order of this customer, driven to ``status`` through the real services
    (the warehouse's flow, shipping with the proposed carrier, the carrier's events)."""

    def make(status):
        return order_in(
            status,
            customer=customer,
            lines=[
                services.LineRequest(
                    ProductFactory(sku="TEA-0250", name="西湖龙井 250g", unit_price=Decimal("168")),
                    2,
                ),
                services.LineRequest(
                    ProductFactory(
                        sku="CUP-0500", name="不锈钢保温杯 500ml", unit_price=Decimal("89")
                    ),
                    1,
                ),
            ],
            salesperson=users["Sales"],
        )

    return make


def starts(text: str):
    """A timeline entry whose message is ``text`` (its date follows)."""
    return re.compile(rf"^\s*{re.escape(text)}\s*\d{{4}}-\d\d-\d\d")


def test_customer_follows_shipped_order_to_confirmed_receipt(live_server, phone_page: Page, build):
    phone = phone_page
    # Shipped yesterday: the carrier's events (each ten minutes after the last, from the
    # hand-over) all lie in the past when they arrive.
    with time_machine.travel(timezone.now() - timedelta(days=1)):
        order = build(Status.SHIPPED)
    shipment = order.shipments.get()
    url = f"{live_server.url}{order.get_public_url()}"

    response = phone.goto(url)
    assert response is not None and response.status == 200
    expect(phone.locator("#current-status .badge")).to_have_text("Shipped")
    expect(phone.locator("ol.progress li[aria-current=step]")).to_have_text("Shipped")
    # The parcel: carrier, tracking number, the carrier's tracking link, its estimate.
    parcel = phone.locator("#tracking li.shipment")
    expect(parcel).to_have_count(1)
    expect(parcel.locator(".shipment-head")).to_contain_text(CARRIER)
    expect(parcel.locator(".badge")).to_have_text("Handed to the carrier")
    expect(parcel.locator(".tracking-number")).to_have_text(shipment.tracking_number)
    expect(parcel).to_contain_text(shipment.estimated_delivery.isoformat())
    link = parcel.get_by_role("link", name=f"Track with {CARRIER}")
    expect(link).to_have_attribute("href", shipment.tracking_link)
    expect(link).to_have_attribute("target", "_blank")
    expect(phone.locator("#estimate")).to_contain_text(shipment.estimated_delivery.isoformat())
    expect(phone.locator("#promised-date")).to_have_text(order.promised_date.isoformat())
    # Packed and shipped: the delivery can no longer change, and there is no receipt yet.
    expect(phone.locator("#change-form")).to_have_count(0)
    expect(phone.locator("#receipt-panel")).to_have_count(0)
    history = phone.locator("ol#public-timeline > li")
    expect(history.last).to_have_text(starts("Shipped"))
    expect(history.nth(-2)).to_have_text(
        starts(f"Handed to {CARRIER}, tracking number {shipment.tracking_number}")
    )
    assert_fits_phone(phone)
    shot(phone, "customer-shipped-phone.png")

    # The carrier's system posts its signed events to the webhook over real HTTP.
    out = io.StringIO()
    call_command(
        "simulate_carrier",
        shipment.tracking_number,
        url=live_server.url,
        scenario="normal",
        stdout=out,
    )
    assert "sent 4, accepted 4, duplicates 0" in out.getvalue()
    assert list(TrackingEvent.objects.filter(shipment=shipment).values_list("type", flat=True)) == [
        "in_transit",
        "in_transit",
        "out_for_delivery",
        "delivered",
    ]

    phone.reload()
    expect(phone.locator("#current-status .badge")).to_have_text("Delivered")
    expect(phone.locator("ol.progress li[aria-current=step]")).to_have_text("Delivered")
    expect(parcel.locator(".badge")).to_have_text("Delivered")
    # The carrier's events are on the customer's timeline, in the order they happened,
    # with where; then the order's own step.
    expect(history.locator("strong")).to_have_text(
        [
            re.compile("^Order placed"),
            "Confirmed",
            "The warehouse took over the order",
            "Picked",
            "Packed",
            f"Handed to {CARRIER}, tracking number {shipment.tracking_number}",
            "Shipped",
            f"In transit · {FIRST_HUB}",
            re.compile("^In transit · "),
            re.compile("^Out for delivery · "),
            f"Parcel delivered · {order.delivery_city}",
            "Delivered",
        ]
    )
    # Now the customer is asked whether everything arrived.
    panel = phone.locator("#receipt-panel")
    expect(panel.locator("h2")).to_have_text("Did you receive everything?")
    expect(phone.locator("#confirm-receipt")).to_be_visible()
    expect(phone.locator("#report-problem-toggle")).to_be_visible()
    expect(phone.locator("#receipt-deadline")).to_be_visible()
    assert_fits_phone(phone)
    shot(phone, "customer-delivered-phone.png")

    phone.locator("#confirm-receipt").click()
    expect(phone).to_have_url(re.compile(re.escape(order.get_public_url()) + "#receipt-panel$"))
    expect(phone.locator(".messages .success")).to_have_text(
        "Thank you! We have noted that you received your order."
    )
    expect(phone.locator("#receipt-confirmed")).to_contain_text("receipt confirmed on")
    expect(phone.locator("#confirm-receipt")).to_have_count(0)
    expect(phone.locator("#receipt-deadline")).to_have_count(0)
    # A problem can still be reported afterwards.
    expect(phone.locator("#report-problem-toggle")).to_have_text(
        "Something wrong? Report a problem"
    )
    expect(history.last).to_have_text(starts("The customer confirmed receipt"))
    assert_fits_phone(phone)
    shot(phone, "customer-receipt-phone.png")

    order.refresh_from_db()
    shipment.refresh_from_db()
    assert order.status == Status.DELIVERED
    assert shipment.status == ShipmentStatus.DELIVERED
    receipt = Receipt.objects.get(order=order)
    assert (receipt.how, receipt.by) == (ReceiptMethod.CUSTOMER, None)
    codes = list(order.events.values_list("code", flat=True))
    assert codes.count("tracking") == 4
    # The receipt, then the closing request it opens for Sales (internal).
    assert codes[-2:] == ["receipt_confirmed", "closing_opened"]
    event = order.events.get(code="receipt_confirmed")
    assert event.public and event.actor is None
    assert order.events.filter(to_status=Status.DELIVERED, actor__isnull=True).count() == 1

    # A second tap (a reload of the form, another tab) changes nothing.
    token = phone.locator("input[name=csrfmiddlewaretoken]").first.input_value()
    again = phone.request.post(
        f"{live_server.url}"
        f"{reverse('feedback:confirm_receipt', args=[order.number, order.public_token])}",
        form={"csrfmiddlewaretoken": token},
        headers={**ENGLISH, "Referer": url},
    )
    assert again.ok
    assert Receipt.objects.filter(order=order).count() == 1
    assert order.events.filter(code="receipt_confirmed").count() == 1


def test_customer_who_lost_the_link_finds_the_order_by_phone(live_server, phone_page: Page, build):
    phone = phone_page
    order = build(Status.SHIPPED)
    phone.goto(f"{live_server.url}{reverse('public_lookup')}")
    expect(phone.locator("#lookup-title")).to_have_text("Find your order")
    phone.get_by_label("Order number").fill(order.number)
    # Typed the way people write it; the order has it as +8613912345678.
    phone.get_by_label("Email or mobile phone").fill("139 1234 5678")
    assert_fits_phone(phone)
    shot(phone, "lookup-phone.png")
    phone.get_by_role("button", name="Show my order").click()

    expect(phone).to_have_url(f"{live_server.url}{order.get_public_url()}")
    expect(phone.locator("#status-title")).to_have_text(f"Order {order.number}")
    expect(phone.locator("#current-status .badge")).to_have_text("Shipped")
    expect(phone.locator("#tracking .tracking-number")).to_have_text(
        order.shipments.get().tracking_number
    )
    assert_fits_phone(phone)


def test_customer_reports_a_problem_with_a_photo_and_sales_sees_it(
    live_server, phone_page: Page, page: Page, build, users, media, tmp_path
):
    phone = phone_page
    order = build(Status.DELIVERED)
    photo = tmp_path / "broken-cup.png"
    Image.new("RGB", (320, 240), (200, 60, 40)).save(photo)

    phone.goto(f"{live_server.url}{order.get_public_url()}")
    expect(phone.locator("#current-status .badge")).to_have_text("Delivered")
    phone.locator("#report-problem-toggle").click()
    form = phone.locator("#report-problem-form")
    expect(form).to_be_visible()
    form.get_by_label("Something arrived damaged").check()
    form.get_by_label("Please tell us more").fill("The steel cup arrived with a deep dent.")
    form.get_by_label("Photos (optional)").set_input_files(str(photo))
    assert_fits_phone(phone)
    shot(phone, "problem-report-form-phone.png")
    form.get_by_role("button", name="Send my report").click()

    expect(phone).to_have_url(re.compile(re.escape(order.get_public_url()) + "#receipt-panel$"))
    expect(phone.locator(".messages .success")).to_have_text(
        "Thank you. We have received your report; Sales will contact you soon."
    )
    case_box = phone.locator("#open-case")
    expect(case_box).to_contain_text("We are looking into your report")
    expect(case_box).to_contain_text("Something arrived damaged")
    # While the case is open, no second report; receipt is not confirmed by the report.
    expect(phone.locator("#report-problem-toggle")).to_have_count(0)
    expect(phone.locator("#confirm-receipt")).to_be_visible()
    expect(phone.locator("ol#public-timeline > li").last).to_have_text(
        starts("Problem reported: something arrived damaged")
    )
    # The customer's own words and the photo stay off the public page.
    html = phone.content()
    assert "deep dent" not in html
    assert "feedback/photos" not in html
    assert_fits_phone(phone)
    shot(phone, "problem-report-phone.png")

    case = ProblemCase.objects.get(order=order)
    assert (case.kind, case.status, case.owner) == (
        ProblemKind.DAMAGED,
        CaseStatus.OPEN,
        users["Sales"],
    )
    assert case.details == "The steel cup arrived with a deep dent."
    stored = case.photos.get()
    assert (stored.content_type, stored.width, stored.height) == ("image/png", 320, 240)
    assert (Path(media) / stored.image.name).is_file()
    assert not Receipt.objects.filter(order=order).exists()

    # Sales, on a desktop, sees the case on /feedback/ and opens it with its photo.
    log_in(page, live_server.url, users["Sales"])
    page.goto(f"{live_server.url}{reverse('feedback:cases')}")
    expect(page.locator("#open-cases-count")).to_have_text("1")
    row = page.locator(f"#open-case-{case.pk}")
    expect(row).to_contain_text(order.number)
    expect(row).to_contain_text("Something arrived damaged")
    expect(row).to_contain_text("1 photo")
    expect(row).to_contain_text("The steel cup arrived with a deep dent.")
    expect(row.locator(".badge")).to_have_text("On time")
    # Waiting on a problem, the order is not counted as awaiting a plain receipt.
    expect(page.locator(f"#awaiting-{order.number}")).to_have_count(0)
    shot(page, "feedback-cases.png")

    row.get_by_role("link", name=order.number).click()
    expect(page).to_have_url(re.compile(re.escape(order.get_absolute_url()) + f"#case-{case.pk}$"))
    card = page.locator(f"#case-{case.pk}")
    expect(card).to_contain_text("The steel cup arrived with a deep dent.")
    image = card.get_by_role("img", name="Photo 1")
    expect(image).to_be_visible()
    assert image.evaluate("img => img.complete && img.naturalWidth") == 320
    shot(page, "feedback-case-order-page.png")
