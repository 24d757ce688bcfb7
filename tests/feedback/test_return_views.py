"""Return pages: the customer's request from the status page (order number and secret,
4xx with a message and nothing written on bad input, the window said plainly), Sales'
phone request and decision on the order page (role checked), the photos (Sales only)."""

import uuid
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse

from feedback import returns
from feedback.models import ReturnPhoto, ReturnRequest, ReturnStatus
from orders.models import Status
from orders.roles import Role

from .conftest import image_bytes, photo

pytestmark = pytest.mark.django_db
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def return_url(order, token=None):
    return reverse("feedback:request_return", args=[order.number, token or order.public_token])


def form_data(order, **overrides):
    (line,) = order.lines.all()
    data = {"token": uuid.uuid4().hex, "reason": "damaged", f"qty-{line.pk}": "1"}
    data.update(overrides)
    return data


def test_the_status_page_offers_a_return_and_the_form_lists_what_may_come_back(client, delivered):
    status_page = client.get(delivered.get_public_url(), **EN).text
    assert 'id="start-return"' in status_page
    assert return_url(delivered) in status_page
    page = client.get(return_url(delivered), **EN)
    assert page.status_code == 200
    assert page["X-Robots-Tag"] == "noindex, nofollow"
    html = page.text
    (line,) = delivered.lines.all()
    assert f'name="qty-{line.pk}"' in html
    assert 'max="2"' in html
    assert "Changed my mind (until" in html
    assert 'enctype="multipart/form-data"' in html


def test_a_wrong_secret_is_a_404(client, delivered):
    assert client.get(return_url(delivered, token="x" * 43)).status_code == 404
    assert (
        client.post(return_url(delivered, token="x" * 43), form_data(delivered)).status_code == 404
    )


def test_the_customer_sends_a_request_with_a_photo(client, delivered):
    data = form_data(delivered, details="盒子压坏了", photos=[photo()])
    response = client.post(return_url(delivered), data, **EN)
    assert response.status_code == 302
    assert response["Location"].endswith("#returns-panel")
    request = ReturnRequest.objects.get(order=delivered)
    assert request.status == ReturnStatus.REQUESTED
    assert request.details == "盒子压坏了"
    assert ReturnPhoto.objects.filter(request=request).count() == 1
    status_page = client.get(delivered.get_public_url(), **EN).text
    assert 'id="returns-panel"' in status_page
    assert "Sales will answer soon" in status_page
    assert 'id="start-return"' not in status_page  # one open return at a time
    # The same form again (the file sent again too) writes nothing more.
    data["photos"] = [photo()]
    again = client.post(return_url(delivered), data, **EN)
    assert again.status_code == 302
    assert ReturnRequest.objects.count() == 1
    assert ReturnPhoto.objects.count() == 1
    assert "We already have this return request." in client.get(again["Location"], **EN).text


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"reason": ""}, "Choose why you return the goods."),
        ({"reason": "stolen"}, "Choose why you return the goods."),
        ({"qty": "0"}, "Choose at least one item and how many to return."),
        ({"qty": "3"}, "At most 2."),
        ({"qty": "-1"}, "Enter 0 or more."),
        ({"qty": "１"}, None),  # full-width digit: Django reads it as 1
        ({"qty": "abc"}, "Enter how many units, as a whole number."),
        ({"token": "not-a-token"}, "The form was incomplete. Please reload the page."),
        ({"details": "x" * 4001}, "at most 4000 characters"),
        ({"photos": "bad"}, "is not a photo in JPEG, PNG or WebP format."),
    ],
)
def test_bad_input_is_a_400_with_a_message_and_nothing_written(
    client, delivered, overrides, message
):
    (line,) = delivered.lines.all()
    overrides = dict(overrides)
    if "qty" in overrides:
        overrides[f"qty-{line.pk}"] = overrides.pop("qty")
    if overrides.get("photos") == "bad":
        overrides["photos"] = [photo(name="x.jpg", content=b"not an image at all")]
    response = client.post(return_url(delivered), form_data(delivered, **overrides), **EN)
    if message is None:
        assert response.status_code == 302
        assert ReturnRequest.objects.get().lines.get().quantity == 1
        return
    assert response.status_code == 400
    assert message in response.text
    assert not ReturnRequest.objects.exists()
    assert not ReturnPhoto.objects.exists()
    assert not delivered.events.filter(code="return_requested").exists()


def test_outside_every_window_the_page_says_why_and_offers_sales(client, delivered):
    late = returns.delivered_at(delivered) + timedelta(days=31)
    with time_machine.travel(late, tick=False):
        page = client.get(return_url(delivered), **EN).text
        status_page = client.get(delivered.get_public_url(), **EN).text
        refused = client.post(return_url(delivered), form_data(delivered), **EN)
    assert 'id="return-window-closed"' in page
    assert "Please contact Sales" in page
    assert 'id="return-form"' not in page
    assert 'id="start-return"' not in status_page
    assert refused.status_code == 400
    assert not ReturnRequest.objects.exists()


def test_before_delivery_there_is_nothing_to_return(client, order_in):
    shipped = order_in(Status.SHIPPED)
    assert 'id="no-return"' in client.get(return_url(shipped), **EN).text
    assert 'id="returns-panel"' not in client.get(shipped.get_public_url(), **EN).text
    assert client.post(return_url(shipped), form_data(shipped), **EN).status_code == 400
    assert not ReturnRequest.objects.exists()


def test_sales_records_a_phone_request_and_approves_it_in_part(client, delivered, users):
    (line,) = delivered.lines.all()
    client.force_login(users[Role.SALES])
    order_page = client.get(delivered.get_absolute_url(), **EN).text
    assert 'id="phone-return-form"' in order_page
    answer = client.post(
        reverse("feedback:record_return", args=[delivered.number]),
        {"token": uuid.uuid4().hex, "reason": "wrong_item", f"qty-{line.pk}": "2"},
        **EN,
    )
    assert answer.status_code == 302
    request = ReturnRequest.objects.get(order=delivered)
    assert request.channel == "phone" and request.recorded_by == users[Role.SALES]
    approved = client.post(
        reverse("feedback:approve_return", args=[request.pk]),
        {"outcome": "exchange", f"approve-{line.pk}": "1", "answer": "We exchange one."},
        **EN,
    )
    assert approved.status_code == 302
    request.refresh_from_db()
    assert request.status == ReturnStatus.APPROVED
    assert request.rma_number == f"R{delivered.number}-1"
    page = client.get(delivered.get_absolute_url(), **EN).text
    assert request.rma_number in page
    status_page = client.get(delivered.get_public_url(), **EN).text
    assert request.rma_number in status_page
    assert "We exchange one." in status_page
    # Decided: a second decision is a 409 and changes nothing.
    again = client.post(
        reverse("feedback:refuse_return", args=[request.pk]), {"answer": "No"}, **EN
    )
    assert again.status_code == 409
    request.refresh_from_db()
    assert request.status == ReturnStatus.APPROVED


def test_a_refusal_without_a_reason_is_a_400(client, delivered, users):
    request, _created = returns.request_return(
        delivered.pk, reason_code="damaged", quantities={delivered.lines.get().pk: 1}, key="k" * 32
    )
    client.force_login(users[Role.SALES])
    response = client.post(
        reverse("feedback:refuse_return", args=[request.pk]), {"answer": " "}, **EN
    )
    assert response.status_code == 400
    assert "Write the reason the customer will read." in response.text
    request.refresh_from_db()
    assert request.status == ReturnStatus.REQUESTED
    bad_outcome = client.post(
        reverse("feedback:approve_return", args=[request.pk]), {"outcome": "gift"}, **EN
    )
    assert bad_outcome.status_code == 400
    assert ReturnRequest.objects.get().status == ReturnStatus.REQUESTED


@pytest.mark.parametrize("role", [Role.WAREHOUSE, Role.LOGISTICS, Role.FINANCE])
def test_only_sales_decides_records_and_sees_photos(client, delivered, users, role):
    request, _created = returns.request_return(
        delivered.pk,
        reason_code="damaged",
        quantities={delivered.lines.get().pk: 1},
        key="k" * 32,
        photos=[returns_photo()],
    )
    client.force_login(users[role])
    for url, data in [
        (reverse("feedback:approve_return", args=[request.pk]), {"outcome": "refund"}),
        (reverse("feedback:refuse_return", args=[request.pk]), {"answer": "No"}),
        (reverse("feedback:record_return", args=[delivered.number]), {}),
    ]:
        assert client.post(url, data).status_code == 403, url
    photo_url = reverse("feedback:return_photo", args=[request.photos.get().pk])
    assert client.get(photo_url).status_code == 403
    request.refresh_from_db()
    assert request.status == ReturnStatus.REQUESTED
    client.force_login(users[Role.SALES])
    served = client.get(photo_url)
    assert served.status_code == 200
    assert served["Content-Type"] == "image/jpeg"
    assert b"".join(served.streaming_content) == image_bytes()


def returns_photo():
    from feedback.photos import check_photo

    return check_photo(photo())


def test_sales_sees_the_requests_to_decide(client, delivered, users):
    request, _created = returns.request_return(
        delivered.pk, reason_code="damaged", quantities={delivered.lines.get().pk: 2}, key="k" * 32
    )
    client.force_login(users[Role.SALES])
    page = client.get(reverse("feedback:cases"), **EN).text
    row = page.split(f'id="return-row-{request.pk}"', 1)[1].split("</tr>", 1)[0]
    assert delivered.number in row
    assert "Arrived damaged" in row
    assert '<td class="num">2</td>' in row


def test_sales_dashboard_lists_returns_to_decide_and_waiting_for_goods(client, order_in, users):
    asked = order_in(Status.DELIVERED)
    waiting = order_in(Status.DELIVERED)
    returns.request_return(
        asked.pk, reason_code="damaged", quantities={asked.lines.get().pk: 2}, key="a" * 32
    )
    second, _ = returns.request_return(
        waiting.pk, reason_code="wrong_item", quantities={waiting.lines.get().pk: 1}, key="b" * 32
    )
    returns.approve_return(second.pk, by=users[Role.SALES], outcome="exchange")
    client.force_login(users[Role.SALES])
    page = client.get(reverse("sales_dashboard"), **EN).text
    to_decide = page.split('id="sales-returns-to-decide"', 1)[1].split("</ul>", 1)[0]
    approved = page.split('id="sales-returns-approved"', 1)[1].split("</ul>", 1)[0]
    assert asked.number in to_decide and "2 units" in to_decide
    assert waiting.number not in to_decide
    assert f"R{waiting.number}-1" in approved and "Exchange" in approved
