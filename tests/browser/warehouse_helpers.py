"""What the warehouse's browser tests (test_warehouse_flow.py, test_warehouse_shortage.py,
test_pick_lists.py) share besides their fixtures (``people`` and ``products`` are in
conftest.py): the products and their bins, stock, a confirmed order, the work page,
scanning a SKU and the bins of a table in order.
"""

from django.urls import reverse
from playwright.sync_api import Page

from orders import services as order_services
from orders.models import Order
from tests.factories import place, promise_date
from warehouse import services

# Products and the bins they sit in. Walking order is bin order: A before B before C;
# the rice has no bin yet and comes last.
PRODUCTS = [
    ("TEA-0250", "West Lake Longjing tea 250g", "168.00", "B-02-3"),
    ("CUP-0500", "Steel vacuum cup 500ml", "89.00", "A-01-1"),
    ("LAMP-010", "Desk lamp", "129.00", "C-05-2"),
    ("RICE-005", "Wuchang rice 5kg", "128.00", None),
]


def stock(product, quantity):
    item = services.stock_item_for(product)
    services.receive_goods(item.pk, quantity, by=None, reason="Opening stock")
    return item


def confirmed_order(sales, lines, **kwargs) -> Order:
    """An order Sales has confirmed: it is the warehouse's turn."""
    order = place(
        lines=[order_services.LineRequest(product, quantity) for product, quantity in lines],
        salesperson=sales,
        **kwargs,
    )
    return order_services.confirm_order(order.pk, by=sales, promised_date=promise_date())


def work_url(order) -> str:
    return reverse("warehouse:order", args=[order.number])


def scan(page: Page, sku: str, quantity: int = 1):
    form = page.locator("#scan-form")
    form.get_by_label("Scan or type the SKU").fill(sku)
    form.get_by_label("Quantity").fill(str(quantity))
    page.locator("#confirm-pick").click()


def bins_in(page: Page, table: str) -> list[str]:
    return page.locator(f"{table} tbody tr td:first-child").all_inner_texts()
