"""End to end in a real Chromium: one order goes from placed to closed, each role
signing in through the login form. Sales and Finance click their own button on the
order page; the warehouse works on its own page (acknowledge, scan every SKU, pack)
and has a second warehouse user review the packed goods; Logistics ships on its
shipping page with the proposed carrier and records the carrier's "delivered" event
there. The customer confirms receipt on the status page on a phone before Finance
closes, and finally looks at the closed order's status page.

Screenshots of every step go to artifacts/screenshots/ (git-ignored); the steps on
the departments' own pages are in order_flow_steps.py.
"""

import re
from decimal import Decimal

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from finance.services import submit_request
from logistics.models import Shipment
from orders import services
from orders.models import Status
from tests.browser.helpers import ENGLISH, PHONE, SCREENSHOTS, STAFF_NAMES, log_in
from tests.browser.order_flow_steps import (
    CARRIER,
    DASHBOARDS,
    LABELS,
    REVIEWER_NAME,
    REVIEWER_USERNAME,
    STEP_NAMES,
    Screenshots,
    customer_confirms_receipt,
    log_out,
    offered_actions,
    work_in_logistics,
    work_in_warehouse,
)
from tests.factories import CustomerFactory, ProductFactory, carrier, place, settle
from warehouse.models import Pick
from warehouse.services import receive_goods, stock_item_for

pytestmark = [
    pytest.mark.browser,
    # live_server needs committed data (conftest restores the migration's reference data).
    pytest.mark.django_db(transaction=True),
]

# Who does what, in order: role, the dashboard queue the order waits in, another
# role's dashboard the user must not open, and the role's clicks as
# (action, buttons offered before the click, status after it). The warehouse and
# Logistics have no clicks on the order page: their queues lead to their own pages
# (see work_in_warehouse and work_in_logistics).
FLOW = [
    (
        "Sales",
        "to_confirm",
        "/warehouse/",
        [("confirm", {"confirm", "cancel"}, Status.CONFIRMED)],
    ),
    ("Warehouse", "to_acknowledge", "/sales/", None),
    ("Logistics", "to_ship", "/finance/", None),
    # Finance closes from the closing request's page (tests/browser/test_closing_flow.py
    # works it in detail): here it acknowledges and approves a settled request.
    ("Finance", "to_acknowledge", "/logistics/", None),
]
# The buttons each role can ever get; everything else must never be offered to it.
ROLE_ACTIONS = {
    "Sales": {"confirm", "cancel"},
    "Warehouse": {"backorder", "release_backorder"},
    "Logistics": set(),
    "Finance": set(),
}
# Taken on the departments' own pages, never by a button on the order page.
OWN_PAGE_ACTIONS = {"pick", "repick", "ship", "deliver", "close"}
ALL_ACTIONS = set().union(*ROLE_ACTIONS.values(), OWN_PAGE_ACTIONS)


def test_order_from_placed_to_closed(live_server, page: Page, open_page, staff):
    base = live_server.url
    shot = Screenshots(SCREENSHOTS)
    carrier()
    customer = CustomerFactory(name="王小明", phone="13912345678", email="wang.xm@example.cn")
    order = place(
        customer=customer,
        lines=[
            services.LineRequest(
                ProductFactory(sku="TEA-0250", name="西湖龙井 250g", unit_price=Decimal("168.00")),
                2,
            ),
            services.LineRequest(
                ProductFactory(
                    sku="CUP-0500", name="不锈钢保温杯 500ml", unit_price=Decimal("89.00")
                ),
                1,
            ),
        ],
        channel="phone",
        salesperson=staff["Sales"],
    )
    detail_url = order.get_absolute_url()
    order_status = Status.PLACED
    # The goods are on the shelf before the order reaches the warehouse.
    for line in order.lines.all():
        receive_goods(stock_item_for(line.product).pk, 10, by=None, reason="Opening stock")

    for role, queue, forbidden_dashboard, clicks in FLOW:
        user = staff[role]
        log_in(page, base, user)
        # Each role lands on its own dashboard, with the order waiting in its queue.
        expect(page).to_have_url(f"{base}{DASHBOARDS[role]}")
        expect(page.locator("html")).to_have_attribute("lang", "en")
        expect(page.locator("header .userbox")).to_contain_text(STAFF_NAMES[role])
        shot(page, f"{role.lower()}-dashboard")
        if role == "Warehouse":
            # The warehouse's queue leads to its work page, not to the order page.
            work_in_warehouse(page, base, order, staff, shot)
            order_status = Status.PICKED
            clicks = []
        elif role == "Logistics":
            # So does Logistics' queue: to the shipping page.
            work_in_logistics(page, base, order, staff, shot)
            order_status = Status.DELIVERED
            clicks = []
        elif role == "Finance":
            # And Finance's: to the closing request, whose checklist all passes.
            page.locator(f"#to-acknowledge tr[data-order='{order.number}'] a").click()
            page.locator("#acknowledge").click()
            expect(page.locator("#checklist li[data-passes='no']")).to_have_count(0)
            page.locator("#approve").click()
            expect(page.locator("#request-status")).to_have_class("badge rq-approved")
            shot(page, "finance-close")
            page.goto(f"{base}{detail_url}")
            order_status = Status.CLOSED
            clicks = []
        else:
            page.locator(f"#queue-{queue} a[href='{detail_url}']").click()
            expect(page).to_have_url(f"{base}{detail_url}")

        for action, offered, new_status in clicks:
            # Only this role's buttons for the current state are offered.
            assert offered_actions(page) == offered
            assert not offered_actions(page) & (ALL_ACTIONS - ROLE_ACTIONS[role])
            # The step clock runs while the order is open.
            expect(page.locator("#step-clock")).to_be_visible()
            expect(page.locator("#step-clock")).to_contain_text(STEP_NAMES[order_status])

            entries = page.locator("#timeline ol.timeline > li")
            before = entries.count()
            page.locator(f"button[data-action='{action}']").click()

            badge = page.locator(".page-head h1 .badge")
            expect(badge).to_have_class(re.compile(rf"\bst-{new_status}\b"))
            expect(badge).to_have_text(LABELS[new_status])
            expect(page.locator(".messages .success")).to_contain_text(order.number)
            # Confirming also charges the goods on the order's ledger (internal).
            expect(entries).to_have_count(before + (2 if action == "confirm" else 1))
            expect(entries.nth(before)).to_contain_text(LABELS[new_status])
            expect(entries.nth(before)).to_contain_text(STAFF_NAMES[role])
            shot(page, f"{role.lower()}-{action}")
            order_status = new_status

        # Whatever is offered now still belongs to this role only.
        assert not offered_actions(page) & (ALL_ACTIONS - ROLE_ACTIONS[role])
        if order_status == Status.CLOSED:
            # Closed: the clock has stopped, nobody has anything left to do.
            expect(page.locator("#step-clock")).to_have_count(0)
            assert offered_actions(page) == set()
            # Six steps on the main path, plus Sales' verification of the contact details,
            # the warehouse's hand-off, reservation, packing and review, the hand-over
            # to the carrier, the carrier's "delivered" event and the customer's receipt.
            timeline = page.locator("#timeline ol.timeline > li")
            expect(timeline).to_have_text(
                [
                    re.compile(r"^\s*Order placed"),
                    re.compile(r"^\s*Contact and address checked"),
                    re.compile(r"^\s*Confirmed"),
                    re.compile(r"^\s*Charged \(Goods\): 425.00 CNY; balance 425.00"),
                    re.compile(r"^\s*The warehouse took over the order"),
                    re.compile(r"^\s*Stock reserved"),
                    re.compile(r"^\s*Picked"),
                    re.compile(r"^\s*Packed"),
                    re.compile(r"^\s*Review passed: ready for logistics"),
                    re.compile(rf"^\s*Handed to {CARRIER}, tracking number "),
                    re.compile(r"^\s*Charged \(Freight\): \d+\.\d\d CNY; balance \d+\.\d\d"),
                    re.compile(r"^\s*Shipped"),
                    re.compile(r"^\s*Parcel delivered · 上海市"),
                    re.compile(r"^\s*Delivered\s+Shipped → Delivered"),
                    re.compile(r"^\s*The customer confirmed receipt"),
                    re.compile(r"^\s*Closing request opened for Sales"),
                    # The goods and the freight.
                    re.compile(r"^\s*Payment received: \d+\.\d\d CNY; balance 0.00"),
                    re.compile(r"^\s*Invoice T\d+ recorded: \d+\.\d\d CNY"),
                    re.compile(r"^\s*Closing request submitted to Finance"),
                    re.compile(r"^\s*Finance took the closing request"),
                    re.compile(r"^\s*Closed"),
                ]
            )
            staff_html = page.content()

        if role == "Sales":
            # Sales cannot pick, not even by posting the warehouse's scan form by hand.
            token = page.locator("input[name=csrfmiddlewaretoken]").first.input_value()
            response = page.request.post(
                f"{base}{reverse('warehouse:scan', args=[order.number])}",
                form={"csrfmiddlewaretoken": token, "sku": "TEA-0250", "quantity": "2"},
                headers=ENGLISH,
            )
            assert response.status == 403
            order.refresh_from_db()
            assert order.status == Status.CONFIRMED
            assert not Pick.objects.filter(order=order).exists()

        # Another role's dashboard is not in the menu, and opening it gives the 403 page.
        expect(page.locator(f"header nav a[href='{forbidden_dashboard}']")).to_have_count(0)
        response = page.goto(f"{base}{forbidden_dashboard}")
        assert response is not None
        assert response.status == 403
        expect(page.locator("#content h1")).to_have_text("Not allowed")
        shot(page, f"{role.lower()}-forbidden-{forbidden_dashboard.strip('/')}")

        log_out(page)
        if role == "Logistics":
            # Delivered: the customer confirms receipt before Finance closes; Finance
            # has the payment and the fapiao, and Sales submits the closing request.
            customer_confirms_receipt(open_page, base, order, shot)
            settle(order, by=staff["Finance"])
            submit_request(order.pk, by=staff["Sales"], note="Paid and invoiced.")

    order.refresh_from_db()
    assert order.status == Status.CLOSED

    # The customer's status link, on a phone, in a fresh context (not signed in).
    public = open_page(viewport=PHONE, phone=True)
    response = public.goto(f"{base}{order.get_public_url()}")
    assert response is not None
    assert response.status == 200
    assert "noindex" in response.headers["x-robots-tag"]
    status_badge = public.locator("#current-status .badge")
    expect(status_badge).to_have_class(re.compile(r"\bst-closed\b"))
    expect(status_badge).to_have_text("Closed")
    history = public.locator("ol#public-timeline > li")
    # The main path, plus the warehouse's hand-off and packing (never the review),
    # the carrier and its events, and the customer's own receipt.
    expect(history).to_have_text(
        [
            re.compile(r"^\s*Order placed"),
            re.compile(r"^\s*Confirmed"),
            re.compile(r"^\s*The warehouse took over the order"),
            re.compile(r"^\s*Picked"),
            re.compile(r"^\s*Packed"),
            re.compile(rf"^\s*Handed to {CARRIER}, tracking number "),
            re.compile(r"^\s*Shipped"),
            re.compile(r"^\s*Parcel delivered · 上海市"),
            re.compile(r"^\s*Delivered\s*\d{4}-"),
            re.compile(r"^\s*The customer confirmed receipt"),
            re.compile(r"^\s*Closed"),
        ]
    )
    # The parcel stays on the page, delivered, with its tracking link.
    parcel = public.locator("#tracking li.shipment")
    expect(parcel).to_have_count(1)
    expect(parcel.locator(".badge")).to_have_text("Delivered")
    expect(parcel.locator(".track-link")).to_have_attribute(
        "href", Shipment.objects.get(order=order).tracking_link
    )
    expect(public.locator("#receipt-confirmed")).to_be_visible()
    html = public.content()
    customer_data = [
        customer.phone,
        customer.email,
        customer.name,  # greeted by a masked name only
        order.delivery_phone,
        order.delivery_street,
    ]
    staff_names = [user.get_full_name() for user in staff.values()] + [REVIEWER_NAME]
    usernames = [user.username for user in staff.values()] + [REVIEWER_USERNAME]
    leaked = [text for text in customer_data + staff_names + usernames if text in html]
    assert leaked == []
    # ...while the staff page, written the same way, does show them.
    actors = [staff[role].get_full_name() for role, *_ in FLOW] + [REVIEWER_NAME]
    assert all(text in staff_html for text in customer_data + actors)
    # Nothing sticks out sideways on a phone.
    assert public.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(public, "customer-public-status-phone")
