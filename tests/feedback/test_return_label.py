"""The return label: a real two-page PDF read back with poppler and a real barcode
reader (zbar), as a carrier's scanner would: the RMA number as Code 128, the status
link as QR, the return address in Chinese; the instructions in the customer's
language. The customer gets it with the order's secret, Sales from the order page."""

import pytest
from django.conf import settings
from django.urls import reverse

from feedback import returns
from feedback.models import ReturnAddress
from orders.roles import Role
from tests.warehouse.test_documents import pdfinfo, pdftext, scanned

pytestmark = pytest.mark.django_db
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture
def approved(delivered, users):
    line = delivered.lines.get()
    request, _created = returns.request_return(
        delivered.pk, reason_code="damaged", quantities={line.pk: 2}, key="l" * 32
    )
    return returns.approve_return(
        request.pk, by=users[Role.SALES], outcome="refund", approved={line.pk: 1}
    )


def public_url(request, token=None):
    order = request.order
    return reverse(
        "feedback:public_return_label", args=[order.number, token or order.public_token, request.pk]
    )


def test_the_label_is_a_scannable_4x6_page_and_instructions(client, approved, tmp_path):
    approved.order.contact_language = "en"
    approved.order.save(update_fields=["contact_language"])
    response = client.get(public_url(approved))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Cache-Control"] == "private, no-store"
    pdf = response.content
    assert pdfinfo(pdf) == {"pages": 2, "size": (288, 432)}
    text = pdftext(pdf, tmp_path)
    address = ReturnAddress.current()
    assert "退货" in text
    assert approved.rma_number in text
    assert "富特北路100号3号库" in text and address.postal_code in text
    assert f"{approved.lines.get().line.sku}" in text and "×1" in text
    assert "Howtosendreturn" in text  # page 2, in the customer's language
    codes = scanned(pdf, tmp_path)
    assert codes["CODE-128"] == {approved.rma_number}
    assert codes["QR-Code"] == {settings.SITE_URL.rstrip("/") + approved.order.get_public_url()}


def test_a_chinese_customer_reads_chinese_instructions(client, approved, tmp_path):
    approved.order.contact_language = "zh-hans"
    approved.order.save(update_fields=["contact_language"])
    text = pdftext(client.get(public_url(approved)).content, tmp_path)
    assert "Howtosendreturn" not in text
    assert "如何寄回退货" in text


def test_no_label_without_the_secret_an_approval_or_returned_goods(client, approved, order_in):
    from orders.models import Status

    assert client.get(public_url(approved, token="x" * 43)).status_code == 404
    # Another order's secret does not open this order's label.
    other = order_in(Status.DELIVERED)
    wrong = reverse(
        "feedback:public_return_label", args=[other.number, other.public_token, approved.pk]
    )
    assert client.get(wrong).status_code == 404
    # Not decided yet: no label.
    asked, _created = returns.request_return(
        other.pk, reason_code="damaged", quantities={other.lines.get().pk: 1}, key="m" * 32
    )
    assert client.get(public_url(asked)).status_code == 404
    # Kept with a partial refund: nothing comes back, no label.
    approved.outcome = "partial_refund"
    approved.save(update_fields=["outcome"])
    assert client.get(public_url(approved)).status_code == 404


def test_sales_prints_it_and_other_roles_may_not(client, approved, users):
    url = reverse("feedback:return_label", args=[approved.pk])
    client.force_login(users[Role.WAREHOUSE])
    assert client.get(url).status_code == 403
    client.force_login(users[Role.SALES])
    response = client.get(url)
    assert response.status_code == 200
    assert response.content.startswith(b"%PDF")
    page = client.get(approved.order.get_absolute_url(), **EN).text
    assert url in page
    status_page = client.get(approved.order.get_public_url(), **EN).text
    assert public_url(approved) in status_page
