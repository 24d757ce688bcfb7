"""A return in a real Chromium, in English and in Simplified Chinese: the customer, on a
phone, asks to return one of two units with a photo from the status page; Sales finds
it on its page and approves it from the order page; the customer's status page shows
the RMA number and what happens next.

The refund goes on to the end: the customer gives the parcel's tracking number on the
phone; the warehouse scans the RMA number and receives the parcel; a second warehouse
person (not who received it) inspects it back to stock, which credits the customer;
Finance finds the refund due and pays it; the customer's phone shows the refund.

Only ids, names and values are matched, so the same steps run in both languages."""

import pytest
from django.utils import timezone
from PIL import Image
from playwright.sync_api import Page, expect

from feedback.models import ReturnPhoto, ReturnRequest, ReturnStatus
from finance import services as finance
from finance.models import Account, ChargeKind, LedgerEntry, PaymentMethod
from orders.models import Status
from orders.roles import Role
from tests.browser.helpers import PHONE, assert_fits_phone, screenshot
from tests.factories import make_user
from warehouse.models import MovementKind, StockMovement

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TRACKING = "SF1400123456"


def _ask_to_return_one(phone: Page, base, order, line, photo, shot) -> ReturnRequest:
    """The customer, on the phone, asks to return one of the two units, damaged, with a
    photo; the status page then lists the request."""
    phone.goto(f"{base}{order.get_public_url()}")
    phone.locator("#start-return").click()
    form = phone.locator("#return-form")
    expect(form.locator(f"input[name='qty-{line.pk}']")).to_have_attribute("max", "2")
    form.locator(f"input[name='qty-{line.pk}']").fill("1")
    form.locator("input[name='reason'][value='damaged']").check()
    form.locator("textarea[name='details']").fill("外包装压坏，杯子有凹痕。")
    form.locator("input[name='photos']").set_input_files(str(photo))
    assert_fits_phone(phone)
    screenshot(phone, shot)
    phone.locator("#submit-return").click()
    panel = phone.locator("#returns-panel")
    expect(panel).to_be_visible()
    request = ReturnRequest.objects.get(order=order)
    expect(panel.locator(f"#return-{request.pk}")).to_be_visible()
    expect(phone.locator("#start-return")).to_have_count(0)
    assert ReturnPhoto.objects.filter(request=request).count() == 1
    return request


def _sales_approves(sales: Page, base, order, line, request, *, outcome, answer, shot):
    """Sales finds the request on its page and approves one unit from the order page."""
    sales.goto(f"{base}/feedback/")
    sales.locator(f"#return-row-{request.pk} a").click()
    article = sales.locator(f"#return-{request.pk}")
    expect(article.locator(".photos img")).to_have_count(1)
    approve = sales.locator(f"#approve-return-{request.pk}")
    expect(approve.locator(f"input[name='approve-{line.pk}']")).to_have_value("1")
    approve.locator("select[name='outcome']").select_option(outcome)
    approve.locator("textarea[name='answer']").fill(answer)
    screenshot(sales, shot)
    sales.locator(f"#approve-{request.pk}").click()
    expect(sales.locator(f"#return-{request.pk} h3")).to_contain_text(f"R{order.number}-1")
    request.refresh_from_db()
    assert request.status == ReturnStatus.APPROVED
    assert request.outcome == outcome


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_return_asked_on_a_phone_and_approved_by_sales(
    open_page, live_server, staff, order_in, language, tmp_path, settings
):
    settings.MEDIA_ROOT = tmp_path / "media"
    base = live_server.url
    order = order_in(Status.DELIVERED, salesperson=staff["Sales"])
    line = order.lines.get()
    photo = tmp_path / "dented.png"
    Image.new("RGB", (320, 240), (200, 60, 40)).save(photo)

    # The customer, on a phone, asks to return one unit with a photo.
    phone = open_page(language=language, viewport=PHONE, phone=True)
    request = _ask_to_return_one(
        phone, base, order, line, photo, f"return-{language}-01-request-phone"
    )

    # Sales finds it on its page and approves it as an exchange from the order page.
    sales = open_page(staff["Sales"], language=language)
    _sales_approves(
        sales,
        base,
        order,
        line,
        request,
        outcome="exchange",
        answer="We send a new cup when yours is back.",
        shot=f"return-{language}-02-sales-decides",
    )

    # The customer sees the RMA number, what happens next and Sales' note.
    phone.goto(f"{base}{order.get_public_url()}")
    item = phone.locator(f"#return-{request.pk}")
    expect(item.locator("h3")).to_contain_text(f"R{order.number}-1")
    expect(item).to_contain_text("We send a new cup when yours is back.")
    assert_fits_phone(phone)
    screenshot(phone, f"return-{language}-03-approved-phone")


def _paid_in_full(order, by):
    """The customer paid what was charged (the goods and the freight)."""
    finance.record_payment(
        order.pk,
        finance.MoneyMovement(
            amount=Account.objects.get(order=order).balance,
            happened_on=timezone.localdate(),
            method_id=PaymentMethod.objects.get(code="bank_transfer").pk,
        ),
        by=by,
        key=f"refund-flow-pay-{order.pk}",
    )
    assert Account.objects.get(order=order).balance == 0


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_refund_from_the_phone_through_the_warehouse_to_finance(
    open_page, live_server, staff, order_in, language, tmp_path, settings
):
    settings.MEDIA_ROOT = tmp_path / "media"
    base = live_server.url
    order = order_in(Status.DELIVERED, salesperson=staff["Sales"])
    _paid_in_full(order, staff["Finance"])
    line = order.lines.get()
    photo = tmp_path / "dented.png"
    Image.new("RGB", (320, 240), (200, 60, 40)).save(photo)
    shot = f"refund-{language}"

    # 1. The customer, on a phone, asks to return one of the two units.
    phone = open_page(language=language, viewport=PHONE, phone=True)
    request = _ask_to_return_one(phone, base, order, line, photo, f"{shot}-01-request-phone")

    # 2. Sales approves it as a refund.
    sales = open_page(staff["Sales"], language=language)
    _sales_approves(
        sales,
        base,
        order,
        line,
        request,
        outcome="refund",
        answer="Please send the cup back; we refund it when it arrives.",
        shot=f"{shot}-02-sales-approves",
    )
    rma = request.rma_number
    assert rma == f"R{order.number}-1"

    # 3. The customer sees the RMA number and gives the parcel's tracking number.
    phone.goto(f"{base}{order.get_public_url()}")
    item = phone.locator(f"#return-{request.pk}")
    expect(item.locator("h3")).to_contain_text(rma)
    send_back = phone.locator(f"#send-back-{request.pk}")
    expect(send_back).to_be_visible()
    send_back.locator("input[name='tracking']").fill(TRACKING)
    send_back.locator("input[name='carrier']").fill("顺丰速运")
    send_back.locator("button[type='submit']").click()
    expect(phone.locator(f"#send-back-{request.pk}")).to_have_count(0)
    expect(phone.locator(f"#return-{request.pk}")).to_contain_text(TRACKING)
    request.refresh_from_db()
    assert (request.status, request.return_tracking) == (ReturnStatus.IN_TRANSIT, TRACKING)
    assert_fits_phone(phone)
    screenshot(phone, f"{shot}-03-sent-back-phone")

    # 4. The warehouse sees the parcel coming, scans its RMA number and receives it.
    receiver = staff["Warehouse"]
    warehouse = open_page(receiver, language=language)
    warehouse.goto(f"{base}/warehouse/")
    returns = warehouse.locator("#warehouse-returns")
    expect(returns).to_be_visible()
    expect(returns.locator(f"#returns-to-receive li[data-return='{request.pk}']")).to_contain_text(
        rma
    )
    warehouse.locator("#rma-scan").fill(rma.lower())
    warehouse.locator("#rma-scan").press("Enter")
    expect(warehouse).to_have_url(f"{base}/feedback/returns/{request.pk}/receive/")
    receive = warehouse.locator("#receive-form")
    expect(receive.locator(f"input[name='received-{line.pk}']")).to_have_value("1")
    screenshot(warehouse, f"{shot}-04-receive")
    warehouse.locator("#receive").click()
    expect(
        warehouse.locator(f"#returns-to-inspect li[data-return='{request.pk}']")
    ).to_contain_text(rma)
    expect(warehouse.locator("#returns-to-receive")).to_have_count(0)
    request.refresh_from_db()
    assert request.status == ReturnStatus.RECEIVED
    assert request.received_by == receiver

    # 5. Who received it may not inspect it; a second warehouse person does.
    inspect_url = f"{base}/feedback/returns/{request.pk}/inspect/"
    warehouse.goto(inspect_url)
    expect(warehouse.locator("#four-eyes")).to_be_visible()
    expect(warehouse.locator("#inspect-form")).to_have_count(0)
    checker = make_user(
        Role.WAREHOUSE, username="warehouse-checker", first_name="钱芳", last_name=""
    )
    second = open_page(checker, language=language)
    second.goto(f"{base}/warehouse/")
    second.locator(f"#returns-to-inspect li[data-return='{request.pk}'] a").click()
    expect(second).to_have_url(inspect_url)
    inspect = second.locator("#inspect-form")
    inspect.locator(f"input[name='restock-{line.pk}']").fill("1")
    inspect.locator(f"input[name='write_off-{line.pk}']").fill("0")
    inspect.locator(f"input[name='repair-{line.pk}']").fill("0")
    screenshot(second, f"{shot}-05-inspect")
    second.locator("#inspect").click()
    expect(second.locator("#returns-to-inspect")).to_have_count(0)
    request.refresh_from_db()
    assert request.status == ReturnStatus.INSPECTED
    assert request.inspected_by == checker
    assert request.refund_amount == line.unit_price * 1
    credit = LedgerEntry.objects.get(order=order, charge_kind=ChargeKind.RETURN)
    assert credit.amount < 0
    assert credit.reference == rma
    restock = StockMovement.objects.get(order=order, kind=MovementKind.RETURN_RESTOCK)
    assert restock.on_hand_change == 1
    assert restock.stock_item.product_id == line.product_id
    owed = -Account.objects.get(order=order).balance
    assert owed == -credit.amount > 0

    # 6. Finance finds the refund due and pays it from the order's finance page.
    money = open_page(staff["Finance"], language=language)
    money.goto(f"{base}/finance/")
    due = money.locator(f"#refunds-due tr[data-order='{order.number}']")
    expect(due).to_contain_text(str(owed))
    due.locator("a").click()
    expect(money).to_have_url(f"{base}/finance/orders/{order.number}/")
    expect(money.locator("#balance")).to_contain_text(str(-owed))
    money.locator("#record-refund summary").click()
    refund = money.locator("#refund-form")
    refund.locator("select[name='refund_for']").select_option("return")
    refund.locator("input[name='amount']").fill(str(owed))
    refund.locator("input[name='happened_on']").fill(timezone.localdate().isoformat())
    refund.locator("input[name='reference']").fill("BOC-REFUND-0001")
    refund.locator("input[name='reason']").fill(f"Return {rma}")
    screenshot(money, f"{shot}-06-finance-refund-form")
    money.locator("#refund-button").click()
    expect(money.locator("#balance")).to_contain_text("0.00")
    expect(money.locator("#ledger-table tr[data-kind='refund']")).to_contain_text(str(owed))
    screenshot(money, f"{shot}-07-finance-refunded")
    request.refresh_from_db()
    assert request.status == ReturnStatus.REFUNDED
    assert request.refund_paid == owed
    assert Account.objects.get(order=order).balance == 0

    # 7. The customer's phone shows the refund and its amount.
    phone.reload()
    item = phone.locator(f"#return-{request.pk}")
    expect(item.locator("h3")).to_contain_text(rma)
    expect(item).to_contain_text(str(owed))
    expect(phone.locator(f"#send-back-{request.pk}")).to_have_count(0)
    assert_fits_phone(phone)
    screenshot(phone, f"{shot}-08-refunded-phone")
