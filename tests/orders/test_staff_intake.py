"""The staff order form: email evidence, customer lookup, one order per submission."""

import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from orders.models import Channel, Order, OrderDocument
from orders.roles import Role
from tests.factories import CustomerFactory, ProductFactory, place

EML = (
    b"From: Li Lei <lilei@example.cn>\r\nTo: orders@o2d.example\r\n"
    b"Subject: =?utf-8?b?6K6i6LSt?=\r\n\r\nPlease send 3 boxes of tea.\r\n"
)


def form(product, **overrides):
    data = {
        "token": uuid.uuid4().hex,
        "channel": "email",
        "customer_name": "李雷",
        "customer_phone": "13912345678",
        "customer_email": "lilei@example.cn",
        "province": "广东省",
        "city": "深圳市",
        "street": "科技园南路 8 号",
        "requested_window": "any",
        "original_text": "",
        "lines-TOTAL_FORMS": "1",
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "30",
        "lines-0-product": str(product.pk),
        "lines-0-quantity": "3",
    }
    data.update(overrides)
    return data


@pytest.fixture
def sales(client, users):
    client.force_login(users[Role.SALES])
    return client


@pytest.mark.django_db
def test_email_order_needs_the_original_email(sales):
    response = sales.post("/orders/new/", form(ProductFactory()))
    assert response.status_code == 400
    assert response.context["form"].non_field_errors()
    assert Order.objects.count() == 0


@pytest.mark.django_db
def test_pasted_email_is_kept_with_the_order(sales, users):
    text = "王经理您好，请寄 3 盒龙井到深圳。"
    response = sales.post("/orders/new/", form(ProductFactory(), original_text=text))
    assert response.status_code == 302
    order = Order.objects.get()
    assert order.channel == Channel.EMAIL
    document = order.documents.get()
    assert (document.text, document.uploaded_by) == (text, users[Role.SALES])
    assert text in sales.get(order.get_absolute_url()).text


@pytest.mark.django_db
def test_uploaded_eml_is_kept_and_downloaded_by_staff_only(
    sales, client, users, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    upload = SimpleUploadedFile("order.eml", EML, content_type="message/rfc822")
    response = sales.post("/orders/new/", form(ProductFactory(), original_file=upload))
    assert response.status_code == 302
    document = OrderDocument.objects.get()
    assert document.content_type == "message/rfc822"
    assert "order.eml" not in document.file.name  # stored under a random name
    url = f"/orders/{document.order.number}/documents/{document.pk}/"
    download = sales.get(url)
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == EML
    client.logout()
    assert client.get(url).status_code == 302
    client.force_login(users[Role.WAREHOUSE])  # every department may read the evidence
    assert client.get(url).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("order.pdf", b"not a pdf at all"),
        ("order.exe", b"MZ\x90\x00"),
        ("order.eml", b"\x00\x01\x02binary"),
        ("big.pdf", b"%PDF-1.7\n" + b"0" * (5 * 1024 * 1024)),
    ],
)
def test_bad_uploads_are_refused_and_nothing_is_saved(sales, name, content, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    upload = SimpleUploadedFile(name, content)
    response = sales.post("/orders/new/", form(ProductFactory(), original_file=upload))
    assert response.status_code == 400
    assert response.context["form"].errors["original_file"]
    assert Order.objects.count() == 0
    assert OrderDocument.objects.count() == 0
    assert not any(tmp_path.rglob("*.*"))


@pytest.mark.django_db
def test_phone_order_needs_no_evidence(sales):
    assert sales.post("/orders/new/", form(ProductFactory(), channel="phone")).status_code == 302


@pytest.mark.django_db
def test_double_submitted_staff_form_creates_one_order(sales):
    data = form(ProductFactory(), original_text="邮件内容")
    first = sales.post("/orders/new/", data)
    second = sales.post("/orders/new/", data)
    assert first["Location"] == second["Location"]
    assert Order.objects.count() == 1
    assert OrderDocument.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    [
        {"customer_phone": "139 1234 5678"},
        {"customer_email": "LILEI@example.cn"},
        {"customer_name": "李雷"},
    ],
)
def test_lookup_offers_the_existing_customer(sales, query):
    customer = CustomerFactory(name="李雷", phone="+8613912345678", email="lilei@example.cn")
    place(customer=customer)
    html = sales.get("/customers/lookup/", query).text
    assert "data-use-customer" in html
    assert customer.phone in html
    assert 'data-street="世纪大道 100 号 8 楼"' in html  # the last order's address


@pytest.mark.django_db
def test_lookup_without_a_match_or_with_junk_is_empty(sales):
    CustomerFactory(name="李雷")
    assert "data-use-customer" not in sales.get("/customers/lookup/", {"customer_phone": "12"}).text
    assert sales.get("/customers/lookup/", {"customer_name": "x" * 5000}).status_code == 200


@pytest.mark.django_db
def test_lookup_is_for_sales_only(client, users):
    client.force_login(users[Role.WAREHOUSE])
    assert client.get("/customers/lookup/", {"customer_name": "李雷"}).status_code == 403


@pytest.mark.django_db
def test_product_options_carry_prices_for_live_totals(sales):
    product = ProductFactory(unit_price="19.90")
    html = sales.get("/orders/new/").text
    assert f'data-price="19.90" value="{product.pk}"' in html or 'data-price="19.90"' in html
    assert 'id="live-total"' in html
    assert "js/order-form.js" in html
