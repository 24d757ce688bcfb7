"""A return in a real Chromium, in English and in Simplified Chinese: the customer, on a
phone, asks to return one of two units with a photo from the status page; Sales finds
it on its page, approves it as an exchange from the order page; the customer's status
page shows the RMA number and what happens next.

Only ids, names and values are matched, so the same steps run in both languages."""

import pytest
from PIL import Image
from playwright.sync_api import expect

from feedback.models import ReturnPhoto, ReturnRequest, ReturnStatus
from orders.models import Status
from tests.browser.helpers import PHONE, assert_fits_phone, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


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
    phone.goto(f"{base}{order.get_public_url()}")
    phone.locator("#start-return").click()
    form = phone.locator("#return-form")
    expect(form.locator(f"input[name='qty-{line.pk}']")).to_have_attribute("max", "2")
    form.locator(f"input[name='qty-{line.pk}']").fill("1")
    form.locator("input[name='reason'][value='damaged']").check()
    form.locator("textarea[name='details']").fill("外包装压坏，杯子有凹痕。")
    form.locator("input[name='photos']").set_input_files(str(photo))
    assert_fits_phone(phone)
    screenshot(phone, f"return-{language}-01-request-phone")
    phone.locator("#submit-return").click()
    panel = phone.locator("#returns-panel")
    expect(panel).to_be_visible()
    request = ReturnRequest.objects.get(order=order)
    expect(panel.locator(f"#return-{request.pk}")).to_be_visible()
    expect(phone.locator("#start-return")).to_have_count(0)
    assert ReturnPhoto.objects.filter(request=request).count() == 1

    # Sales finds it on its page and approves it as an exchange from the order page.
    sales = open_page(staff["Sales"], language=language)
    sales.goto(f"{base}/feedback/")
    sales.locator(f"#return-row-{request.pk} a").click()
    article = sales.locator(f"#return-{request.pk}")
    expect(article.locator(".photos img")).to_have_count(1)
    approve = sales.locator(f"#approve-return-{request.pk}")
    expect(approve.locator(f"input[name='approve-{line.pk}']")).to_have_value("1")
    approve.locator("select[name='outcome']").select_option("exchange")
    approve.locator("textarea[name='answer']").fill("We send a new cup when yours is back.")
    screenshot(sales, f"return-{language}-02-sales-decides")
    sales.locator(f"#approve-{request.pk}").click()
    expect(sales.locator(f"#return-{request.pk} h3")).to_contain_text(f"R{order.number}-1")
    request.refresh_from_db()
    assert request.status == ReturnStatus.APPROVED
    assert request.outcome == "exchange"

    # The customer sees the RMA number, what happens next and Sales' note.
    phone.goto(f"{base}{order.get_public_url()}")
    item = phone.locator(f"#return-{request.pk}")
    expect(item.locator("h3")).to_contain_text(f"R{order.number}-1")
    expect(item).to_contain_text("We send a new cup when yours is back.")
    assert_fits_phone(phone)
    screenshot(phone, f"return-{language}-03-approved-phone")
