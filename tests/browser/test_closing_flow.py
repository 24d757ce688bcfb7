"""Step 7 in a real Chromium, in English and in Simplified Chinese: the customer's
receipt opens the closing request; Sales submits it; Finance acknowledges it and sends
it back with a reason; Sales adds the payment proof and submits again; Finance records
the payment and the fapiao, sees every checklist item pass and closes the order.

Only ids and classes are matched, so the same steps run in both languages."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from feedback.services import confirm_receipt
from finance.models import Account, Invoice, LedgerEntry
from orders.models import Status
from tests.browser.helpers import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PDF = {"name": "proof.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4\n%test\n%%EOF\n"}


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_receipt_to_closed_with_a_send_back(open_page, live_server, staff, order_in, language):
    base = live_server.url
    order = order_in(Status.DELIVERED, salesperson=staff["Sales"])
    confirm_receipt(order.pk, how="customer")
    request_url = f"{base}/finance/orders/{order.number}/"

    # Sales finds the new request in its queue and submits it from the order page.
    sales = open_page(staff["Sales"], language=language)
    sales.goto(f"{base}/finance/requests/")
    sales.locator(f"#with-sales tr[data-order='{order.number}'] a").click()
    panel = sales.locator("#closing-panel")
    expect(panel.locator("#closing-status")).to_have_class("badge rq-open")
    sales.fill("#submit-note", "Customer paid by bank transfer.")
    sales.locator("#submit-closing").click()
    expect(sales.locator("#closing-panel #closing-status")).to_have_class("badge rq-submitted")

    # Finance acknowledges it and sends it back: the payment proof is missing.
    finance = open_page(staff["Finance"], language=language)
    finance.goto(f"{base}/finance/")
    finance.locator(f"#to-acknowledge tr[data-order='{order.number}'] a").click()
    expect(finance).to_have_url(request_url)
    finance.locator("#acknowledge").click()
    expect(finance.locator("#request-status")).to_have_class("badge rq-in_review")
    expect(finance.locator("#acknowledged")).to_contain_text(staff["Finance"].first_name)
    expect(finance.locator("#approve")).to_be_disabled()
    screenshot(finance, f"closing-{language}-01-checklist-failing")
    finance.locator("#send-back summary").click()
    expect(finance.locator("#id_reason")).to_have_attribute("required", "")
    finance.fill("#id_reason", "Please add the bank's payment receipt.")
    finance.locator("#send-back-button").click()
    expect(finance.locator("#request-status")).to_have_class("badge rq-sent_back")

    # Sales sees it back in its queue, with the reason; adds the proof and submits.
    sales.goto(f"{base}/finance/requests/")
    row = sales.locator(f"#with-sales tr[data-order='{order.number}']")
    expect(row).to_be_visible()
    row.locator("a").click()
    expect(sales.locator("#closing-sent-back-reason")).to_have_text(
        "Please add the bank's payment receipt."
    )
    sales.locator("#add-document summary").click()
    sales.select_option("#document-kind", "payment_proof")
    sales.set_input_files("#document-file", PDF)
    sales.locator("#document-button").click()
    expect(sales.locator("#closing-documents li a")).to_have_count(1)
    sales.fill("#submit-note", "Bank receipt attached.")
    sales.locator("#submit-closing").click()
    expect(sales.locator("#closing-panel #closing-status")).to_have_class("badge rq-submitted")
    screenshot(sales, f"closing-{language}-02-sales-resubmitted")

    # Finance takes it again, records the payment and the fapiao, and closes.
    finance.goto(request_url)
    finance.locator("#acknowledge").click()
    expect(finance.locator("#documents li a")).to_have_count(1)
    # What the customer owes: the goods and the freight charged when it shipped.
    total = str(Account.objects.get(order=order).charged)
    assert Decimal(total) > order.total
    finance.locator("#record-payment summary").click()
    finance.fill("#payment-amount", total)
    finance.fill("#payment-happened_on", order.placed_at.date().isoformat())
    finance.fill("#payment-reference", "BOC-20261204-01")
    finance.locator("#payment-button").click()
    expect(finance.locator("#balance")).to_contain_text("0.00")
    finance.locator("#record-invoice summary").click()
    finance.fill("#invoice-number", "04400012")
    finance.fill("#invoice-amount", total)
    finance.fill("#invoice-issued_on", order.placed_at.date().isoformat())
    finance.set_input_files("#invoice-document", {**PDF, "name": "fapiao.pdf"})
    finance.locator("#invoice-button").click()
    expect(finance.locator("#checklist li[data-passes='no']")).to_have_count(0)
    expect(finance.locator("#approve")).to_be_enabled()
    screenshot(finance, f"closing-{language}-03-checklist-passing")
    finance.locator("#approve").click()
    expect(finance.locator("#request-status")).to_have_class("badge rq-approved")
    screenshot(finance, f"closing-{language}-04-closed")

    order.refresh_from_db()
    assert order.status == Status.CLOSED
    assert LedgerEntry.objects.filter(order=order, kind="payment").count() == 1
    assert Invoice.objects.filter(order=order).count() == 1
