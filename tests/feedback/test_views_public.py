"""The receipt panel on the public status page and the customer's answers: order
number plus secret, CSRF, rate limits, idempotent, 4xx with a message, no personal data."""

import uuid

import pytest
from django.test import Client
from django.utils import timezone

from feedback import services
from feedback.models import ProblemCase, ProblemPhoto, Receipt, ReceiptMethod
from orders.models import OrderEvent, Status
from orders.roles import Role

from .conftest import image_bytes, photo, stored_files

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def confirm_url(order, token=None):
    return f"/feedback/status/{order.number}/{token or order.public_token}/received/"


def report_url(order, token=None):
    return f"/feedback/status/{order.number}/{token or order.public_token}/problem/"


def report_data(**overrides):
    data = {"token": uuid.uuid4().hex, "kind": "damaged", "details": "两个杯子碎了"}
    data.update(overrides)
    return data


@pytest.mark.django_db
def test_a_delivered_order_asks_the_customer_on_the_status_page(client, delivered):
    html = client.get(delivered.get_public_url(), **EN).text
    assert 'id="receipt-panel"' in html
    assert "Did you receive everything?" in html
    assert 'id="confirm-receipt"' in html
    assert f'action="{confirm_url(delivered)}"' in html
    assert 'id="report-problem-form"' in html
    assert 'enctype="multipart/form-data"' in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert 'id="receipt-deadline"' in html
    for kind in ("missing", "damaged", "wrong_item"):
        assert f'value="{kind}"' in html
    assert 'accept="image/jpeg,image/png,image/webp"' in html


@pytest.mark.django_db
@pytest.mark.parametrize("status", [Status.PLACED, Status.SHIPPED, Status.CANCELLED])
def test_before_delivery_there_is_no_receipt_panel(client, order_in, status):
    html = client.get(order_in(status).get_public_url()).text
    assert 'id="receipt-panel"' not in html
    assert 'id="confirm-receipt"' not in html


@pytest.mark.django_db
def test_the_customer_confirms_receipt(client, delivered):
    response = client.post(confirm_url(delivered), **EN)
    assert response.status_code == 302
    assert response["Location"] == delivered.get_public_url() + "#receipt-panel"
    receipt = Receipt.objects.get(order=delivered)
    assert receipt.how == ReceiptMethod.CUSTOMER
    html = client.get(response["Location"], **EN).text
    assert 'id="receipt-confirmed"' in html
    # The page speaks the business's date (Asia/Shanghai), not the UTC timestamp's.
    assert f"receipt confirmed on {timezone.localtime(receipt.confirmed_at):%Y-%m-%d}" in html
    assert 'id="confirm-receipt"' not in html
    assert "The customer confirmed receipt" in html  # on the public timeline
    assert "Thank you! We have noted that you received your order." in html


@pytest.mark.django_db
def test_a_double_submit_confirms_once(client, delivered):
    assert client.post(confirm_url(delivered)).status_code == 302
    assert client.post(confirm_url(delivered)).status_code == 302
    assert Receipt.objects.count() == 1
    assert OrderEvent.objects.filter(order=delivered, code="receipt_confirmed").count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "mangle",
    [
        lambda o: o.public_token[:-1] + ("x" if o.public_token[-1] != "x" else "y"),
        lambda o: o.public_token.upper(),
        lambda o: "A" * 32,
    ],
)
def test_a_wrong_secret_is_404_and_writes_nothing(client, delivered, mangle):
    token = mangle(delivered)
    assert client.post(confirm_url(delivered, token)).status_code == 404
    assert client.get(report_url(delivered, token)).status_code == 404
    response = client.post(
        report_url(delivered, token), report_data(photos=[photo()]), format="multipart"
    )
    assert response.status_code == 404
    assert not Receipt.objects.exists()
    assert not ProblemCase.objects.exists()


@pytest.mark.django_db
def test_another_orders_secret_does_not_open_this_one(client, delivered, order_in):
    other = order_in(Status.DELIVERED)
    assert client.post(confirm_url(delivered, other.public_token)).status_code == 404
    assert not Receipt.objects.exists()


@pytest.mark.django_db
def test_confirming_is_a_post(client, delivered):
    assert client.get(confirm_url(delivered)).status_code == 405
    assert not Receipt.objects.exists()


@pytest.mark.django_db
def test_confirming_an_order_not_yet_delivered_is_409_with_a_message(client, order_in):
    shipped = order_in(Status.SHIPPED)
    response = client.post(confirm_url(shipped), **EN)
    assert response.status_code == 409
    assert "receipt can only be confirmed once delivered" in response.text
    assert not Receipt.objects.exists()


@pytest.mark.django_db
def test_the_forms_need_the_csrf_token(delivered):
    client = Client(enforce_csrf_checks=True)
    assert client.post(confirm_url(delivered)).status_code == 403
    assert client.post(report_url(delivered), report_data()).status_code == 403
    assert not Receipt.objects.exists()
    assert not ProblemCase.objects.exists()


@pytest.mark.django_db
def test_answers_are_rate_limited_per_client_address(client, delivered, settings):
    settings.O2D_RECEIPT_RATE = "3/m"
    for _ in range(3):
        client.post(report_url(delivered), report_data(kind=""))
    response = client.post(confirm_url(delivered), **EN)
    assert response.status_code == 429
    assert "Too many requests from your network" in response.text
    response = client.post(report_url(delivered), report_data(), **EN)
    assert response.status_code == 429
    assert not Receipt.objects.exists()
    assert not ProblemCase.objects.exists()
    # Another address is not affected.
    other = Client(REMOTE_ADDR="198.51.100.7")
    assert other.post(confirm_url(delivered)).status_code == 302


@pytest.mark.django_db
def test_the_customer_reports_a_problem_with_photos(client, delivered, _media):
    data = report_data(photos=[photo(), photo(name="2.webp", fmt="WEBP")])
    response = client.post(report_url(delivered), data, **EN)
    assert response.status_code == 302
    assert response["Location"] == delivered.get_public_url() + "#receipt-panel"
    case = ProblemCase.objects.get(order=delivered)
    assert (case.kind, case.details) == ("damaged", "两个杯子碎了")
    assert ProblemPhoto.objects.filter(case=case).count() == 2
    assert len(stored_files(_media)) == 2
    html = client.get(response["Location"], **EN).text
    assert 'id="open-case"' in html
    assert "We are looking into your report" in html
    assert "两个杯子碎了" not in html  # the customer's words are not on the public page
    assert 'id="report-problem-form"' not in html
    # Receipt can still be confirmed.
    assert 'id="confirm-receipt"' in html


@pytest.mark.django_db
def test_a_resubmitted_report_opens_one_case(client, delivered):
    data = report_data()
    assert client.post(report_url(delivered), data).status_code == 302
    assert client.post(report_url(delivered), data).status_code == 302
    assert ProblemCase.objects.count() == 1


@pytest.mark.django_db
def test_the_report_form_has_a_page_of_its_own(client, delivered):
    response = client.get(report_url(delivered), **EN)
    assert response.status_code == 200
    assert 'id="report-problem-form"' in response.text
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    # Other sites never see the secret address; "no-referrer" would make browsers
    # post the form with "Origin: null", which the CSRF check refuses.
    assert response["Referrer-Policy"] == "same-origin"
    assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"kind": ""}, "Choose what is wrong."),
        ({"kind": "lost_parcel"}, "Select a valid choice."),
        ({"details": ""}, "Please describe the problem."),
        ({"details": "x" * 4001}, "at most 4000 characters"),
        ({"token": "not-a-token"}, "reload the page"),
        ({"photos": [photo(name="virus.jpg", content=b"MZ\x90\x00 not an image")]}, "virus.jpg"),
        (
            {"photos": [photo(name=f"{i}.jpg") for i in range(6)]},
            "Send at most 5 photos.",
        ),
        (
            {"photos": [photo(name="huge.jpg", content=image_bytes() + b"\0" * 5_300_000)]},
            "huge.jpg is larger than 5 MB.",
        ),
    ],
    ids=["no-kind", "bad-kind", "no-details", "long-details", "token", "not-image", "six", "big"],
)
def test_bad_reports_get_400_with_a_message_and_write_nothing(
    client, delivered, _media, overrides, message
):
    response = client.post(report_url(delivered), report_data(**overrides), **EN)
    assert response.status_code == 400
    assert message in response.text
    assert "Please correct the marked fields. Nothing was sent." in response.text
    assert not ProblemCase.objects.exists()
    assert stored_files(_media) == []


@pytest.mark.django_db
def test_a_second_report_while_one_is_open_is_409(client, delivered):
    assert client.post(report_url(delivered), report_data()).status_code == 302
    response = client.post(report_url(delivered), report_data(kind="missing"), **EN)
    assert response.status_code == 409
    assert "We are already looking into a problem with this order" in response.text
    assert ProblemCase.objects.count() == 1


@pytest.mark.django_db
def test_reporting_on_an_order_not_delivered_is_409(client, order_in):
    shipped = order_in(Status.SHIPPED)
    response = client.post(report_url(shipped), report_data(), **EN)
    assert response.status_code == 409
    assert not ProblemCase.objects.exists()


@pytest.mark.django_db
def test_the_panel_shows_no_personal_data_or_staff_words(client, delivered, users):
    case, _ = services.report_problem(
        delivered.pk,
        kind="missing",
        details="少了一盒，请打电话 13900001111",
        photos=[],
        key="a" * 32,
    )
    services.resolve_case(case.pk, by=users[Role.SALES], resolution="内部：已联系王经理补发")
    services.confirm_receipt(
        delivered.pk, how=ReceiptMethod.PHONE, by=users[Role.SALES], note="内部备注"
    )
    html = client.get(delivered.get_public_url(), **EN).text
    assert 'id="receipt-confirmed"' in html
    assert f'id="case-{case.pk}-resolved"' in html
    forbidden = [
        "13900001111",
        "内部",
        delivered.customer.name,
        delivered.customer.phone,
        delivered.customer.email,
        delivered.delivery_street,
    ]
    for user in users.values():
        forbidden += [user.username, user.get_full_name()]
    for text in filter(None, forbidden):
        assert text not in html, text


@pytest.mark.django_db
def test_after_confirmation_a_problem_can_still_be_reported(client, delivered):
    services.confirm_receipt(delivered.pk, how=ReceiptMethod.CUSTOMER)
    html = client.get(delivered.get_public_url(), **EN).text
    assert "Something wrong? Report a problem" in html
    assert client.post(report_url(delivered), report_data()).status_code == 302
    assert ProblemCase.objects.count() == 1


@pytest.mark.django_db
def test_a_closed_order_shows_its_receipt_but_asks_nothing(client, order_in):
    order = order_in(Status.CLOSED)  # receipt confirmed, settled, closed by Finance
    html = client.get(order.get_public_url(), **EN).text
    assert 'id="receipt-confirmed"' in html
    assert 'id="confirm-receipt"' not in html
    assert 'id="report-problem-form"' not in html
