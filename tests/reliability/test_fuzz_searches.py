"""No input gives a 500: every search and filter (query strings), the dashboards, the
admin's searches and the customer choice at verification are sent hostile text (see
fuzz.py), signed in with the role that uses them. A 5xx fails; so does a refusal (4xx)
that changed a row, sent an email or stored a file.

Fixtures are built once per test and shared by its examples; each example runs in a
savepoint that is rolled back, so every example starts from the same order.
The fuzzer and the orders several modules use are in conftest.py.
"""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orders.roles import Role

from .fuzz import FUTURE, anything, field, form, fuzz_settings

pytestmark = [pytest.mark.django_db, pytest.mark.fuzz]


# ---------------------------------------------------------------------------
# Searches and filters (query strings)


@fuzz_settings
@given(data=st.data())
def test_order_list_filters(fuzzer, as_role, confirmed, data):
    as_role(Role.SALES)
    query = form(
        q=field("王"),
        status=field("", "placed"),
        channel=field("", "phone"),
        date_from=field("", "2026-01-01"),
        date_to=field("", FUTURE),
        page=field("1", "2", "-1", "last"),
    )
    fuzzer.get("/orders/", data.draw(query))


@fuzz_settings
@given(data=st.data())
def test_customer_lookup(fuzzer, as_role, placed, data):
    as_role(Role.SALES)
    query = form(
        customer_phone=field(placed.customer.phone, "138"),
        customer_email=field(placed.customer.email),
        customer_name=field("王小"),
    )
    fuzzer.get("/customers/lookup/", data.draw(query))


@fuzz_settings
@given(data=st.data())
def test_stock_search(fuzzer, as_role, product, data):
    as_role(Role.WAREHOUSE)
    fuzzer.get("/warehouse/stock/", data.draw(form(q=field(product.sku, "SKU"))))


@fuzz_settings
@given(data=st.data())
def test_batch_pick_list(fuzzer, as_role, acknowledged, data):
    as_role(Role.WAREHOUSE)
    query = form(orders=field(acknowledged.number, f"{acknowledged.number},x"))
    fuzzer.get("/warehouse/pick-list/", data.draw(query))


DASHBOARDS = [
    ("/sales/", Role.SALES),
    ("/manager/", Role.MANAGER),
    ("/warehouse/", Role.WAREHOUSE),
    ("/logistics/", Role.LOGISTICS),
    ("/finance/", Role.FINANCE),
    ("/logistics/problems/", Role.LOGISTICS),
    ("/feedback/", Role.SALES),
    ("/process/", Role.SALES),
]


@fuzz_settings
@given(page=st.sampled_from(DASHBOARDS), query=anything)
def test_dashboards_ignore_their_query(fuzzer, as_role, page, query):
    url, role = page
    as_role(role)
    fuzzer.get(url, query)


ADMIN_LISTS = [
    "/admin/orders/order/",
    "/admin/orders/customer/",
    "/admin/orders/orderevent/",
    "/admin/orders/followup/",
    "/admin/warehouse/stockitem/",
    "/admin/logistics/shipment/",
    "/admin/feedback/problemcase/",
]


@fuzz_settings
@given(url=st.sampled_from(ADMIN_LISTS), data=st.data())
def test_admin_searches(fuzzer, as_role, admin_user, placed, url, data):
    as_role(admin_user)
    fuzzer.get(url, data.draw(form(q=field("王"), p=field("1"), o=field("1"))))


@fuzz_settings
@given(data=st.data())
def test_customer_choice_at_verification(fuzzer, as_role, placed, data):
    as_role(Role.SALES)
    other = placed.customer.pk
    post = form(customer=field("separate", str(other), "²", "١", "0", "9" * 19))
    fuzzer.post(f"/orders/{placed.number}/customer/", data.draw(post))
