"""Order intake in a real Chromium: a customer orders online on a phone, Sales enters a
phone order and confirms it after verifying the contact details and address, and a
customer answers the confirmation link from the order-received email.

Screenshots go to artifacts/screenshots/intake-*.png (git-ignored).
"""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from orders import links, services
from orders.models import Channel, Customer, Order, Status, VerificationMethod
from tests.browser.helpers import assert_fits_phone, log_in, screenshot
from tests.factories import CustomerFactory, ProductFactory, place

pytestmark = [
    pytest.mark.browser,
    # live_server needs committed data (conftest restores the migration's reference data).
    pytest.mark.django_db(transaction=True),
]

PRODUCTS = [
    ("TEA-0250", "West Lake Longjing tea 250g", "168.00"),
    ("CUP-0500", "Steel vacuum cup 500ml", "89.00"),
    ("RICE-005", "Wuchang rice 5kg", "128.00"),
]


@pytest.fixture
def products(db):
    return [
        ProductFactory(sku=sku, name=name, unit_price=Decimal(price))
        for sku, name, price in PRODUCTS
    ]


def shot(page: Page, name: str, full_page: bool = True):
    screenshot(page, f"intake-{name}", full_page=full_page)


def focus_path_to(page: Page, target: str, limit: int = 40) -> list[str]:
    """Press Tab until ``target`` (a selector) has the focus; returns the names of the
    fields passed on the way (a date input's day/month/year parts count once)."""
    passed: list[str] = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.locator(target).evaluate("el => el === document.activeElement"):
            return passed
        name = page.evaluate("document.activeElement && document.activeElement.name")
        if not passed or passed[-1] != name:
            passed.append(name)
    raise AssertionError(f"{target} never got the focus; Tab went through {passed}")


# ---------------------------------------------------------------------------


def test_online_order_on_a_phone(live_server, phone_page: Page, products):
    page = phone_page
    tea, cup, rice = products
    wish_date = timezone.localdate() + timedelta(days=6)

    page.goto(f"{live_server.url}{reverse('online_order')}")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_text("Place an order")
    # Every active product is offered, with an empty quantity.
    expect(page.locator("#online-order .catalogue-row")).to_have_count(3)
    expect(page.locator(f"input[name=qty_{rice.pk}]")).to_have_value("")
    assert_fits_phone(page)

    page.fill(f"input[name=qty_{tea.pk}]", "2")
    page.fill(f"input[name=qty_{cup.pk}]", "1")
    page.fill("#id_name", "Li Na")
    page.fill("#id_phone", "12345")  # a typo: far too short for a mobile number
    page.fill("#id_email", "li.na@example.cn")
    expect(page.locator("#id_country")).to_have_value("CN")
    page.fill("#id_province", "Beijing")
    page.fill("#id_city", "Beijing")
    page.fill("#id_district", "Chaoyang")
    page.fill("#id_street", "88 Jianguo Road, building 3, flat 1201")
    page.fill("#id_postal_code", "100022")
    page.fill("#id_requested_date", wish_date.isoformat())
    page.select_option("#id_requested_window", "evening")
    page.fill("#id_special_instructions", "Please call 10 minutes before arriving.")
    shot(page, "01-online-form")

    # The bad phone number is refused, everything typed is kept, nothing is ordered.
    with page.expect_response(re.compile(r"/order/$")) as answer:
        page.locator("#place-order").click()
    assert answer.value.status == 400
    expect(page.locator(".messages[role=alert]")).to_contain_text("Nothing was ordered yet")
    phone_field = page.locator(".field.has-error", has=page.locator("#id_phone"))
    expect(phone_field.locator(".errorlist")).to_contain_text("Enter a valid phone number")
    expect(page.locator(".field.has-error")).to_have_count(1)
    # Screen readers hear the error with the field.
    expect(page.locator("#id_phone")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#id_phone")).to_have_accessible_description(
        re.compile("Enter a valid phone number")
    )
    expect(page.locator(f"input[name=qty_{tea.pk}]")).to_have_value("2")
    expect(page.locator("#id_street")).to_have_value("88 Jianguo Road, building 3, flat 1201")
    expect(page.locator("#id_requested_date")).to_have_value(wish_date.isoformat())
    assert Order.objects.count() == 0
    assert Customer.objects.count() == 0
    assert_fits_phone(page)
    shot(page, "02-online-error")

    # Correct the number, then finish without a mouse: Tab from the phone field to
    # the button, in reading order and past the hidden honeypot, and press Enter.
    page.fill("#id_phone", "139 1234 5678")
    page.locator("#id_phone").focus()
    passed = focus_path_to(page, "#place-order")
    assert passed == [
        "email",
        "country",
        "province",
        "city",
        "district",
        "street",
        "postal_code",
        "requested_date",
        "requested_window",
        "special_instructions",
    ]
    page.keyboard.press("Enter")

    expect(page).to_have_url(re.compile(r"/order/received/"))
    order = Order.objects.get()
    expect(page.locator("#order-number")).to_have_text(order.number)
    status_link = page.locator("#status-link")
    expect(status_link).to_have_attribute("href", order.get_public_url())
    expect(status_link).to_contain_text(order.get_public_url())
    expect(page.locator("#content")).to_contain_text("2 × West Lake Longjing tea 250g")
    expect(page.locator("#content")).to_contain_text("Total: 425.00 CNY")
    assert_fits_phone(page)
    shot(page, "03-received")

    assert order.status == Status.PLACED
    assert order.channel == Channel.ONLINE
    assert order.customer.phone == "+8613912345678"
    assert order.customer.email == "li.na@example.cn"
    assert order.delivery_street == "88 Jianguo Road, building 3, flat 1201"
    assert order.requested_date == wish_date
    assert order.requested_window == "evening"
    assert order.special_instructions == "Please call 10 minutes before arriving."
    assert {(line.sku, line.quantity) for line in order.lines.all()} == {
        ("TEA-0250", 2),
        ("CUP-0500", 1),
    }
    assert order.total == Decimal("425.00")

    status_link.tap()
    expect(page).to_have_url(f"{live_server.url}{order.get_public_url()}")
    badge = page.locator("#current-status .badge")
    expect(badge).to_have_class(re.compile(r"\bst-placed\b"))
    expect(badge).to_have_text("Placed")
    expect(page.locator("ol.progress li[aria-current=step]")).to_have_text("Placed")
    expect(page.locator("ol#public-timeline > li")).to_have_count(1)
    expect(page.locator("ol#public-timeline > li")).to_contain_text("Order placed (Online)")
    assert_fits_phone(page)
    shot(page, "04-status")


def test_phone_order_through_confirmation(live_server, page: Page, users, products):
    base = live_server.url
    sales = users["Sales"]
    sales.first_name, sales.last_name = "Chen", "Jing"
    sales.save(update_fields=["first_name", "last_name"])
    tea, cup, _rice = products

    log_in(page, base, sales)
    expect(page).to_have_url(f"{base}{reverse('sales_dashboard')}")
    page.goto(f"{base}{reverse('order_create')}")
    expect(page.locator("h1")).to_have_text("New phone or email order")

    page.select_option("#id_channel", "phone")
    page.fill("#id_customer_name", "Zhang Wei")
    page.fill("#id_customer_phone", "136 0000 1234")
    page.fill("#id_customer_email", "zhang.wei@example.cn")
    page.select_option("#id_lines-0-product", label=str(tea))
    page.fill("#id_lines-0-quantity", "3")
    page.select_option("#id_lines-1-product", label=str(cup))
    page.fill("#id_lines-1-quantity", "2")
    page.fill("#id_province", "Zhejiang")
    page.fill("#id_city", "Hangzhou")
    page.fill("#id_district", "Xihu")
    page.fill("#id_street", "90 Wensan Road, room 502")
    page.fill("#id_postal_code", "310012")
    page.select_option("#id_requested_window", "morning")
    # The form adds the order up while Sales types: 3 × 168.00 + 2 × 89.00.
    expect(page.locator("#live-total")).to_have_text("682.00")
    shot(page, "10-new-phone-order")
    page.get_by_role("button", name="Create order").click()

    expect(page.locator(".messages .success")).to_contain_text("was created")
    order = Order.objects.get()
    expect(page).to_have_url(f"{base}{order.get_absolute_url()}")
    badge = page.locator(".page-head h1 .badge")
    expect(badge).to_have_text("Placed")
    confirm = page.locator("#confirm-form button[data-action=confirm]")
    expect(confirm).to_be_disabled()
    expect(page.locator("#verify-first")).to_be_visible()
    proposed = services.proposed_delivery_date(order)
    expect(page.locator("#promised-date")).to_have_value(proposed.isoformat())
    shot(page, "11-order-unverified")

    assert order.channel == Channel.PHONE
    assert order.salesperson == sales
    assert order.customer.phone == "+8613600001234"
    assert order.delivery_recipient == "Zhang Wei"  # recipient left empty: the customer
    assert order.delivery_phone == "+8613600001234"
    assert order.total == Decimal("682.00")
    assert not order.is_verified

    verification = page.locator("#verification")
    verification.locator("input[name=contact]").check()
    verification.locator("input[name=address]").check()
    verification.locator("select[name=method]").select_option("phone")
    verification.locator("input[name=note]").fill("Called the customer, read the address back.")
    shot(page, "12-verification-ticked")
    verification.locator("#record-verification").click()

    expect(page.locator(".messages .success")).to_have_text("Verification recorded.")
    expect(verification.locator(".checks")).to_contain_text("✓ Contact details checked")
    expect(verification.locator(".checks")).to_contain_text("✓ Delivery address checked")
    expect(page.locator("#record-verification")).to_have_count(0)
    expect(page.locator("#verify-first")).to_have_count(0)
    expect(confirm).to_be_enabled()
    expect(page.locator("#promised-date")).to_have_value(proposed.isoformat())
    shot(page, "13-verified")

    promised = timezone.localdate() + timedelta(days=5)
    page.fill("#promised-date", promised.isoformat())
    page.select_option("#confirm-method", "phone")
    page.fill("#confirm-agreed", "3 tea, 2 cups; morning delivery.")
    confirm.click()

    expect(page.locator(".messages .success")).to_contain_text(f"Order {order.number} is now")
    expect(badge).to_have_class(re.compile(r"\bst-confirmed\b"))
    expect(badge).to_have_text("Confirmed")
    entries = page.locator("#timeline ol.timeline > li")
    # Placed, checked, confirmed, and the goods charged on the order's ledger.
    expect(entries).to_have_count(4)
    expect(entries.nth(3)).to_contain_text("Charged (Goods)")
    expect(entries.nth(0)).to_contain_text("Order placed (Phone)")
    expect(entries.nth(1)).to_contain_text("Contact and address checked")
    expect(entries.nth(1)).to_contain_text("Called the customer, read the address back.")
    expect(entries.nth(2)).to_contain_text("Confirmed")
    expect(entries.nth(2)).to_contain_text("Placed → Confirmed")
    for entry in (entries.nth(0), entries.nth(1), entries.nth(2)):
        expect(entry).to_contain_text("Chen Jing")
    history = page.locator("#promise-history > li")
    expect(history).to_have_count(1)
    expect(history.first).to_contain_text(promised.isoformat())
    expect(history.first).to_contain_text("Phone call")
    expect(history.first).to_contain_text("Chen Jing")
    expect(history.first).to_contain_text("3 tea, 2 cups; morning delivery.")
    # Confirmed: the verification card and the confirm form are gone.
    expect(page.locator("#verification")).to_have_count(0)
    expect(page.locator("#confirm-form")).to_have_count(0)
    shot(page, "14-confirmed")

    order.refresh_from_db()
    assert order.status == Status.CONFIRMED
    assert order.is_verified
    promise = order.promises.get()
    assert (promise.date, promise.method, promise.by) == (
        promised,
        VerificationMethod.PHONE,
        sales,
    )


def test_customer_confirms_from_the_email_link(live_server, phone_page: Page):
    page = phone_page
    order = place(
        verified=False,
        customer=CustomerFactory(name="王小明", email="wang.xm@example.cn"),
        lines=[
            services.LineRequest(
                ProductFactory(sku="TEA-0250", name="西湖龙井 250g", unit_price=Decimal("168.00")),
                2,
            )
        ],
    )
    url = links.confirm_url(order)
    site = settings.SITE_URL.rstrip("/")
    assert url.startswith(site)
    proposed = services.proposed_delivery_date(order)

    response = page.goto(live_server.url + url.removeprefix(site))
    assert response is not None
    assert response.status == 200
    assert "noindex" in response.headers["x-robots-tag"]
    expect(page.locator("#confirm-title")).to_have_text(f"Your order {order.number}")
    expect(page.locator("#answer")).to_contain_text(proposed.isoformat())
    expect(page.locator("#callback-noted")).to_have_count(0)
    assert_fits_phone(page)
    shot(page, "20-confirm-link")

    page.locator("#answer-callback").tap()
    expect(page.locator("#callback-noted")).to_have_text(
        "Thank you. We will call you soon to go through your order."
    )
    # Asked once is enough; confirming is still possible.
    expect(page.locator("#answer-callback")).to_have_count(0)
    expect(page.locator("#answer-confirm")).to_be_visible()
    assert_fits_phone(page)
    shot(page, "21-callback-noted")
    order.refresh_from_db()
    assert order.callback_requested_at is not None
    assert order.status == Status.PLACED

    page.locator("#answer-confirm").tap()
    expect(page.locator("#confirmed-note")).to_have_text(
        f"Your order is confirmed. Promised delivery date: {proposed.isoformat()}."
    )
    expect(page.locator("#answer-confirm")).to_have_count(0)
    assert_fits_phone(page)
    shot(page, "22-confirmed")

    order.refresh_from_db()
    assert order.status == Status.CONFIRMED
    assert order.is_verified
    promise = order.promises.get()
    assert (promise.date, promise.method, promise.by) == (proposed, VerificationMethod.LINK, None)
