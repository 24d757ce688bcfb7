import pytest

from orders.models import Status
from orders.roles import Role
from orders.selectors import masked_first_name
from orders.services import add_comment


@pytest.fixture
def shipped(order_in, users):
    order = order_in(Status.SHIPPED)
    add_comment(order.pk, by=users[Role.WAREHOUSE], text="内部备注：客户上次投诉过")
    return order


@pytest.mark.django_db
def test_right_secret_shows_status_and_customer_timeline(client, shipped):
    response = client.get(shipped.get_public_url())
    assert response.status_code == 200
    html = response.text
    assert shipped.number in html
    assert 'id="current-status"' in html
    assert "st-shipped" in html
    # placed, confirmed, taken over by the warehouse, picked, packed, handed to the
    # carrier, shipped
    assert html.count("<li><div><strong>") == 7
    assert '<meta name="robots" content="noindex, nofollow">' in html
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert "no-store" in response["Cache-Control"]


def last_changed(token: str) -> str:
    """The token with its last character changed (it may already be an "x")."""
    return token[:-1] + ("y" if token.endswith("x") else "x")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "mangle",
    [
        # The last character changed (to "x", or "y" when it is an "x" already).
        lambda o: (
            f"/status/{o.number}/{o.public_token[:-1]}{'y' if o.public_token[-1] == 'x' else 'x'}/"
        ),
        lambda o: f"/status/{o.number}/wrong/",
        lambda o: f"/status/{o.number}/{o.public_token.upper()}/",
        lambda o: f"/status/20990101-0001/{o.public_token}/",
    ],
)
def test_wrong_secret_or_number_is_404(client, shipped, mangle):
    assert client.get(mangle(shipped)).status_code == 404


@pytest.mark.django_db
def test_secret_of_one_order_does_not_open_another(client, order_in, shipped):
    other = order_in(Status.PLACED)
    assert client.get(f"/status/{other.number}/{shipped.public_token}/").status_code == 404


@pytest.mark.django_db
def test_public_page_shows_no_personal_data_staff_names_or_comments(client, shipped, users):
    html = client.get(shipped.get_public_url()).text
    forbidden = [
        shipped.customer.phone,
        shipped.customer.email,
        shipped.delivery_phone,
        shipped.delivery_street,
        shipped.delivery_district,
        shipped.delivery_postal_code,
        shipped.customer.name,
        "内部备注",
        "test reason",
    ]
    for user in users.values():
        forbidden += [user.username, user.get_full_name()]
    for text in filter(None, forbidden):
        assert text not in html, text
    assert shipped.delivery_city in html
    assert masked_first_name(shipped.delivery_recipient) in html


@pytest.mark.django_db
def test_public_page_speaks_the_customers_language(client, shipped):
    url = shipped.get_public_url()
    english = client.get(url, HTTP_ACCEPT_LANGUAGE="en").text
    simplified = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-CN").text
    traditional = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-TW").text
    assert "Shipped" in english
    assert "已发货" in simplified
    assert "已發貨" in traditional


def test_masked_first_name():
    assert masked_first_name("王小明") == "王**"
    assert masked_first_name("Alice Martin") == "Alice"
    assert masked_first_name("") == ""
