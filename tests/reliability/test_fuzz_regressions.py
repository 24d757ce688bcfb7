"""The inputs that the form fuzzing found to give a 500, kept as plain examples, and
checks of the fuzz harness itself (fuzz.py).
"""

import pytest

from orders.roles import Role

from .fuzz import PHONE, token

pytestmark = [pytest.mark.django_db, pytest.mark.fuzz]


# ---------------------------------------------------------------------------
# The harness itself


def test_snapshot_sees_inserts_and_updates(placed):
    from orders.models import Order, OrderEvent

    from .fuzz import snapshot

    before = snapshot()
    Order.objects.filter(pk=placed.pk).update(special_instructions="changed")
    after_update = snapshot()
    OrderEvent.objects.create(order=placed, kind="comment", code="comment", note="x")
    after_insert = snapshot()
    table = Order._meta.db_table
    assert before[table] != after_update[table]
    assert after_update[OrderEvent._meta.db_table] != after_insert[OrderEvent._meta.db_table]


def test_fuzzer_sends_bytes_as_given(fuzzer, as_role, placed):
    as_role(Role.SALES)
    response = fuzzer.get("/orders/", {"q": b"\xff\xfe", "status": "\ud800"})
    assert response.status_code == 400  # the status is not a choice; nothing crashed
    assert response.wsgi_request.GET["q"] == "\ufffd\ufffd"


# ---------------------------------------------------------------------------
# The inputs that gave a 500 before, as plain examples


def english(response):
    return response.content.decode()


def test_nul_in_customer_lookup_is_400_with_a_message(client, users):
    client.force_login(users[Role.SALES])
    for query in ("customer_name=a%00b", "customer_email=%40%00", "customer_phone=%00"):
        response = client.get(f"/customers/lookup/?{query}", HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 400
        assert "Null characters are not allowed." in english(response)
        assert 'role="alert"' in english(response)


def test_customer_lookup_still_cuts_overlong_text(client, users, placed):
    client.force_login(users[Role.SALES])
    response = client.get("/customers/lookup/", {"customer_name": placed.customer.name * 100})
    assert response.status_code == 200


def test_nul_in_stock_search_is_400_with_the_page(client, users, stock_item):
    client.force_login(users[Role.WAREHOUSE])
    response = client.get("/warehouse/stock/?q=%00", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    html = english(response)
    assert "<h1>Stock</h1>" in html
    assert "Null characters are not allowed." in html
    assert "Correct the search to see the stock." in html
    assert stock_item.product.sku not in html


def test_stock_search_still_finds_by_sku(client, users, stock_item):
    client.force_login(users[Role.WAREHOUSE])
    response = client.get("/warehouse/stock/", {"q": f"  {stock_item.product.sku}  "})
    assert response.status_code == 200
    assert f'id="stock-{stock_item.pk}"' in english(response)


def test_unreadable_batch_pick_list_is_400_not_every_order(client, users, acknowledged):
    client.force_login(users[Role.WAREHOUSE])
    response = client.get("/warehouse/pick-list/?orders=%00", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    html = english(response)
    assert "This list of order numbers cannot be read:" in html
    assert acknowledged.number not in html


def test_nul_in_partial_delivery_note_is_400_and_records_nothing(client, users, backordered):
    client.force_login(users[Role.SALES])
    response = client.post(
        f"/orders/{backordered.number}/partial/",
        {"note": "a\x00b"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400
    assert "Null characters are not allowed." in english(response)
    backordered.refresh_from_db()
    assert backordered.partial_agreed_at is None
    assert not backordered.events.filter(code="partial_agreed").exists()


def test_unicode_digits_as_customer_choice_are_refused(client, users, placed):
    client.force_login(users[Role.SALES])
    response = client.post(
        f"/orders/{placed.number}/customer/", {"customer": "²"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 400
    assert "Choose a customer, or keep the order separate." in english(response)


def test_a_forged_line_count_is_refused_without_building_the_lines(client, users, product):
    client.force_login(users[Role.SALES])
    post = {
        "token": token(),
        "channel": "phone",
        "customer_name": "王小明",
        "customer_phone": PHONE,
        "province": "上海市",
        "city": "上海市",
        "street": "世纪大道 100 号",
        "requested_window": "any",
        "lines-TOTAL_FORMS": "100000",
        "lines-INITIAL_FORMS": "0",
        "lines-0-product": str(product.pk),
        "lines-0-quantity": "1",
    }
    response = client.post("/orders/new/", post, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert len(response.context["lines"].forms) == 30
    assert "Please submit at most 30 forms." in english(response)


@pytest.mark.parametrize("url", ["/accounts/login/", "/admin/login/"])
def test_an_overlong_username_is_refused_not_a_500(client, url):
    response = client.post(url, {"username": "x" * 256, "password": "wrong"})
    assert response.status_code < 500
