"""The public order page: validation, idempotency, rate limiting, honeypot, email."""

import threading
import uuid
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test import Client
from django.utils import timezone

from orders import emails
from orders.models import Channel, Customer, Notification, Order, Status
from tests.factories import ProductFactory


@pytest.fixture
def tea(db):
    return ProductFactory(sku="TEA-1", name="西湖龙井 250g", unit_price="168.00")


def form_data(product, **overrides):
    data = {
        "token": uuid.uuid4().hex,
        "website": "",
        "name": "王小明",
        "country": "CN",
        "phone": "138 0013 8000",
        "email": "xiaoming@example.cn",
        "province": "浙江省",
        "city": "杭州市",
        "district": "西湖区",
        "street": "文三路 259 号",
        "postal_code": "310012",
        "requested_date": (timezone.localdate() + timedelta(days=3)).isoformat(),
        "requested_window": "evening",
        "special_instructions": "请放门卫室",
        f"qty_{product.pk}": "2",
    }
    data.update(overrides)
    return data


@pytest.mark.django_db
def test_form_lists_active_products_only(client, tea):
    hidden = ProductFactory(active=False, name="停售商品")
    html = client.get("/order/").text
    assert tea.name in html
    assert hidden.name not in html
    assert 'name="token"' in html
    assert 'name="website"' in html


@pytest.mark.django_db
def test_customer_places_an_online_order(client, tea):
    response = client.post("/order/", form_data(tea), HTTP_ACCEPT_LANGUAGE="zh-hans")
    order = Order.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/order/received/{order.number}/{order.public_token}/"
    assert (order.channel, order.status) == (Channel.ONLINE, Status.PLACED)
    assert order.customer.phone == "+8613800138000"
    assert order.customer.language == "zh-hans"
    assert order.delivery_city == "杭州市"
    assert order.requested_window == "evening"
    assert str(order.total) == "336.00"
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert order.number in page.text
    assert order.get_public_url() in page.text
    assert Notification.objects.get(order=order).kind == "order_received"


@pytest.mark.django_db
def test_refresh_or_double_click_creates_one_order(client, tea):
    data = form_data(tea)
    first = client.post("/order/", data)
    second = client.post("/order/", data)
    assert first["Location"] == second["Location"]
    assert Order.objects.count() == 1
    assert Customer.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_identical_submissions_create_one_order(tea, settings):
    settings.O2D_ONLINE_ORDER_RATE = "1000/m"
    data = form_data(tea)
    results, errors = [], []
    barrier = threading.Barrier(50)

    def submit():
        try:
            barrier.wait()
            response = Client().post("/order/", data)
            results.append((response.status_code, response.get("Location")))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(results) == 50
    assert {status for status, _ in results} == {302}
    assert len({location for _, location in results}) == 1
    assert Order.objects.count() == 1
    assert Customer.objects.count() == 1
    assert Order.objects.get().lines.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"phone": "12345"}, "phone"),
        ({"phone": "call me"}, "phone"),
        ({"phone": "000 0000 0000"}, "phone"),
        ({"email": "not-an-email"}, "email"),
        ({"email": ""}, "email"),
        ({"qty": "0"}, None),
        ({"qty": "-1"}, "qty"),
        ({"qty": "100001"}, "qty"),
        ({"qty": "abc"}, "qty"),
        ({"qty": "1e3"}, "qty"),
        ({"street": ""}, "street"),
        ({"city": ""}, "city"),
        ({"province": ""}, "province"),
        ({"country": "XX"}, "country"),
        ({"requested_date": "2020-01-01"}, "requested_date"),
        ({"requested_date": "2026-02-30"}, "requested_date"),
        ({"requested_window": "midnight"}, "requested_window"),
        ({"token": "abc"}, "token"),
        ({"website": "http://spam.example"}, "website"),
        ({"name": "x" * 500}, "name"),
    ],
)
def test_bad_input_gets_a_clear_message_and_creates_nothing(client, tea, overrides, field):
    if "qty" in overrides:
        overrides[f"qty_{tea.pk}"] = overrides.pop("qty")
        field = f"qty_{tea.pk}" if field else None
    response = client.post("/order/", form_data(tea, **overrides), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    form = response.context["form"]
    if field:
        assert form.errors[field]
    else:
        assert form.non_field_errors()
    assert 'class="errorlist' in response.text
    assert Order.objects.count() == 0
    assert Customer.objects.count() == 0


@pytest.mark.django_db
def test_foreign_phone_is_validated_for_its_country(client, tea):
    data = form_data(tea, country="US", phone="(202) 555-0142", province="DC", city="Washington")
    assert client.post("/order/", data).status_code == 302
    assert Order.objects.get().customer.phone == "+12025550142"


@pytest.mark.django_db
@pytest.mark.parametrize("which", ["unknown", "inactive"])
def test_unknown_or_inactive_product_is_refused(client, tea, which):
    other = ProductFactory(active=False)
    key = "qty_999999" if which == "unknown" else f"qty_{other.pk}"
    response = client.post("/order/", form_data(tea, **{f"qty_{tea.pk}": "", key: "3"}))
    assert response.status_code == 400
    assert response.context["form"].non_field_errors()
    assert Order.objects.count() == 0


@pytest.mark.django_db
def test_rate_limit_per_client_address(client, tea, settings):
    settings.O2D_ONLINE_ORDER_RATE = "2/m"
    assert client.post("/order/", form_data(tea)).status_code == 302
    assert client.post("/order/", form_data(tea)).status_code == 302
    blocked = client.post("/order/", form_data(tea))
    assert blocked.status_code == 429
    assert Order.objects.count() == 2
    other_address = client.post("/order/", form_data(tea), REMOTE_ADDR="10.0.0.9")
    assert other_address.status_code == 302


@pytest.mark.django_db
def test_csrf_is_enforced(tea):
    response = Client(enforce_csrf_checks=True).post("/order/", form_data(tea))
    assert response.status_code == 403
    assert Order.objects.count() == 0


@pytest.mark.django_db
def test_received_page_needs_the_secret(client, tea):
    client.post("/order/", form_data(tea))
    order = Order.objects.get()
    assert client.get(f"/order/received/{order.number}/wrong/").status_code == 404


# ---------------------------------------------------------------- the order-received email


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "greeting"),
    [("zh-hans", "我们已收到"), ("zh-hant", "我們已收到"), ("en", "received")],
)
def test_order_received_email_in_the_customers_language(client, tea, language, greeting):
    client.post("/order/", form_data(tea), HTTP_ACCEPT_LANGUAGE=language)
    notification = Notification.objects.get()
    assert emails.deliver(notification.pk) is True
    (message,) = mail.outbox
    assert greeting in message.subject
    order = notification.order
    assert order.number in message.subject
    assert order.get_public_url() in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert order.get_public_url() in html
    assert message.to == ["xiaoming@example.cn"]
    # Sent once, however often the job runs.
    assert emails.deliver(notification.pk) is False
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_smtp_failure_keeps_the_order_and_the_email_for_a_retry(client, tea, settings):
    client.post("/order/", form_data(tea))
    notification = Notification.objects.get()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2
    with pytest.raises(OSError):
        emails.deliver(notification.pk)
    notification.refresh_from_db()
    assert notification.sent_at is None
    assert notification.attempts == 1
    assert "Connection" in notification.last_error
    assert Order.objects.count() == 1
    # Nothing re-sends it before its retry is due; the retry after the outage succeeds.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert emails.deliver(notification.pk) is False
    with time_machine.travel(timezone.now() + timedelta(seconds=emails.retry_delay(1) + 1)):
        assert emails.deliver(notification.pk) is True
    notification.refresh_from_db()
    assert notification.sent_at is not None
    assert notification.last_error == ""


@pytest.mark.django_db
def test_unsent_emails_are_found_again_by_the_sweep(client, tea):
    client.post("/order/", form_data(tea))
    notification = Notification.objects.get()
    assert list(emails.unsent()) == []
    later = timezone.now() + timedelta(minutes=11)
    assert list(emails.unsent(now=later)) == [notification.pk]
    emails.deliver(notification.pk)
    assert list(emails.unsent(now=later)) == []
