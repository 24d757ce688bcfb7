"""Shared fixtures for the query-budget tests: orders of every kind, built through the
services (the rows the system itself writes), and one signed-in client per role.

``KINDS`` is the mix: every queue, list and section of the staff pages gets rows. The
small set is one order of each kind (10 orders); growing it adds the same kinds in
turn, so a page shows the same sections at every size and only the number of rows
changes: a query per row is then the only way for the count to grow.
"""

import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q
from django.test import Client, override_settings
from django.utils import timezone

from feedback import services as feedback
from feedback.models import ReceiptMethod
from feedback.photos import check_photo
from finance import services as finance
from orders import services as order_services
from orders.models import Customer, Order, OrderDocument, Status
from orders.roles import Role
from tests.factories import (
    DELIVERY,
    CustomerFactory,
    ProductFactory,
    carrier,
    make_user,
    pdf_upload,
    promise_date,
    reviewer,
    settle,
)
from warehouse import services as warehouse
from warehouse.models import Bin, StockItem

SMALL, LARGE = 10, 200

# One order of each kind is the small set. Cancelled and closed orders are left out to
# keep it at ten: neither has a section of its own on a staff page (the order list
# shows every state alike), and the "problem" order carries a receipt.
KINDS = (
    "placed",  # unverified and past the final limit: Sales' "verify" and "no answer"
    "to_acknowledge",  # confirmed, not handed over; the customer asked for a change
    "to_pick",  # acknowledged and reserved, one unit picked: the batch pick list
    "backordered",  # short of stock: Sales' and the warehouse's backorder queues
    "to_pack",  # every unit picked, no package yet
    "to_review",  # packed, waiting for the second person
    "to_ship",  # reviewed: Logistics' queue
    "shipped",  # in transit, with a tracking event and an open delivery problem
    "problem",  # delivered, receipt confirmed, then an open problem case with a photo
    "awaiting_receipt",  # delivered, a resolved problem case, no receipt yet
)


@dataclass
class World:
    """The users, the products and the orders built so far, by kind."""

    users: dict
    products: list
    orders: dict = field(default_factory=lambda: {kind: [] for kind in KINDS})

    @property
    def count(self) -> int:
        return sum(len(orders) for orders in self.orders.values())

    def first(self, kind) -> Order:
        return self.orders[kind][0]

    def grow(self, total: int) -> None:
        """Add orders, one kind after the other, until there are ``total``: the first
        of each kind through the services, the others copied from it in bulk."""
        while self.count < total and any(not orders for orders in self.orders.values()):
            kind = KINDS[self.count % len(KINDS)]
            self.orders[kind].append(build_order(self, kind, self.count))
        wanted = {}
        for n in range(self.count, total):
            kind = KINDS[n % len(KINDS)]
            wanted[kind] = wanted.get(kind, 0) + 1
        self.add_copies(wanted)
        self.sweep()

    def add_copies(self, wanted: dict) -> None:
        """``wanted``: {kind: how many more orders of that kind}."""
        templates = [self.first(kind) for kind in wanted for _ in range(wanted[kind])]
        kinds = [kind for kind in wanted for _ in range(wanted[kind])]
        for kind, order in zip(kinds, copy_orders(templates), strict=True):
            self.orders[kind].append(order)

    def sweep(self) -> None:
        # The deadline sweep, run as if weeks had passed: late steps, follow-ups for
        # Sales and, later still, escalations for the managers.
        later = timezone.now() + timedelta(days=60)
        order_services.mark_overdue_steps(now=later)
        order_services.escalate_overdue_follow_ups(now=later + timedelta(days=30))


# The apps whose rows hang off an order (lines, timeline, fulfilment, shipments...).
ORDER_APPS = ("orders", "warehouse", "logistics", "feedback", "finance")


def _order_graph() -> list:
    """Every model whose rows belong to an order, directly or through another such
    row, each after the models it points to: the order in which copies are made."""
    from django.apps import apps

    models = [
        m
        for m in apps.get_models(include_auto_created=True)
        if m._meta.app_label in ORDER_APPS and m is not Order
    ]
    belonging = _owned_closure(models)
    owned, ordered = {Order}, []
    while True:
        ready = [
            m
            for m in sorted(belonging - owned, key=lambda m: m._meta.label)
            if all(
                f.related_model in owned or f.related_model not in belonging or f.related_model is m
                for f in m._meta.concrete_fields
                if f.is_relation
            )
        ]
        if not ready:
            return ordered
        owned.update(ready)
        ordered.extend(ready)


def _owned_closure(models) -> set:
    """The models that belong to an order, in any order."""
    owned = {Order}
    while True:
        more = {
            m
            for m in models
            if m not in owned
            and any(f.related_model in owned for f in m._meta.concrete_fields if f.is_relation)
        }
        if not more:
            return owned
        owned |= more


def copy_orders(templates: list) -> list:
    """A copy of each order in ``templates`` (repeats allowed) with everything that
    belongs to it, made in bulk: one INSERT per table instead of the dozens of
    queries the services run per order. Unique values get new ones; each copy has a
    customer of its own. Stock rows are shared and their totals are not changed."""
    if not templates:
        return []
    customers = CustomerFactory.build_batch(len(templates))
    for customer, template in zip(customers, templates, strict=True):
        customer.language = template.customer.language
    Customer.objects.bulk_create(customers)
    originals = Order.objects.filter(pk__in={t.pk for t in templates})
    rows = {row["id"]: row for row in originals.values()}
    start = Order.objects.count()
    orders = []
    for n, (template, customer) in enumerate(zip(templates, customers, strict=True)):
        row = dict(rows[template.pk])
        del row["id"]
        row["number"] = f"{row['number'][:8]}-{100000 + start + n}"
        row["public_token"] = secrets.token_urlsafe(24)
        row["idempotency_key"] = None
        row["customer_id"] = customer.pk
        orders.append(Order(**row))
    Order.objects.bulk_create(orders)
    # copies[model][old pk] = {copy index: new pk}
    copies = {Order: {}}
    for n, (template, order) in enumerate(zip(templates, orders, strict=True)):
        copies[Order].setdefault(template.pk, {})[n] = order.pk
    for model in _order_graph():
        pk = model._meta.pk
        links = [
            f for f in model._meta.concrete_fields if f.is_relation and f.related_model in copies
        ]
        query = Q()
        for f in links:
            query |= Q(**{f"{f.attname}__in": list(copies[f.related_model])})
        made, keys = [], []
        for row in model._default_manager.filter(query).values():
            owner = next(f for f in links if row[f.attname] is not None)
            for n in copies[owner.related_model][row[owner.attname]]:
                copy = dict(row)
                for f in links:
                    if copy[f.attname] is not None:
                        copy[f.attname] = copies[f.related_model][row[f.attname]][n]
                if not pk.is_relation:
                    del copy[pk.attname]
                if "tracking_number" in copy and model.__name__ == "Shipment":
                    copy["tracking_number"] = f"{row['tracking_number']}-{n}"
                if model.__name__ == "Invoice":  # fapiao numbers are unique per type
                    copy["number"] = f"{row['number']}-{copy['order_id']}"
                if model.__name__ == "ReturnRequest" and row["rma_number"]:  # unique
                    copy["rma_number"] = f"R{copy['order_id']}-{n}"
                made.append(model(**copy))
                keys.append((row[pk.attname], n))
        model._default_manager.bulk_create(made)
        copies[model] = {}
        for (old, n), obj in zip(keys, made, strict=True):
            copies[model].setdefault(old, {})[n] = obj.pk
    return orders


def tiny_jpeg():
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), (200, 30, 30)).save(buffer, format="JPEG")
    return SimpleUploadedFile("photo.jpg", buffer.getvalue(), content_type="image/jpeg")


def make_world() -> World:
    """Users of every role, a carrier, and six products in bins with plenty of stock
    (one of them below its alert level, so the low-stock list has a row)."""
    users = {role: make_user(role) for role in Role.values}
    users["reviewer"] = reviewer()
    carrier()
    main = warehouse.main_warehouse()
    products = []
    for n in range(6):
        product = ProductFactory(sku=f"PERF-{n}", name=f"Perf product {n}")
        item = warehouse.stock_item_for(product)
        StockItem.objects.filter(pk=item.pk).update(
            bin=Bin.objects.create(warehouse=main, code=f"{'ABCDEF'[n]}-0{n}"),
            low_stock_threshold=1_000_000 if n == 0 else 0,
        )
        warehouse.receive_goods(item.pk, 100_000, by=None, serve=False)
        products.append(product)
    return World(users=users, products=products)


def _pack(order, by):
    warehouse.add_package(
        order.pk, by=by, weight_kg=Decimal("1.5"), length_cm=30, width_cm=20, height_cm=10
    )
    warehouse.finish_packing(order.pk, by=by)


def build_order(world: World, kind: str, n: int) -> Order:
    """One order of ``kind``, driven there through the services like a real one."""
    users = world.users
    sales, picker = users[Role.SALES], users[Role.WAREHOUSE]
    first, second = world.products[n % 6], world.products[(n + 1) % 6]
    order = order_services.place_order(
        customer=CustomerFactory(),
        channel="phone",
        lines=[order_services.LineRequest(first, 2), order_services.LineRequest(second, 1)],
        delivery=DELIVERY,
        by=sales,
        salesperson=sales,
        special_instructions="请放门卫室" if n % 2 else "",
    )
    if kind == "placed":
        Order.objects.filter(pk=order.pk).update(
            step_started_at=timezone.now() - timedelta(days=30)
        )
        # The customer's email, kept as evidence (what an email order carries).
        OrderDocument.objects.create(
            order=order,
            title="email.txt",
            file=ContentFile(b"Please send two cups.", name="email.txt"),
            content_type="text/plain",
            uploaded_by=sales,
        )
        return order
    order_services.verify_order(order.pk, by=None, contact=True, address=True, method="phone")
    order_services.confirm_order(order.pk, by=sales, promised_date=promise_date())
    if kind == "to_acknowledge":
        order_services.request_delivery_change(order.pk, instructions=f"请先打电话 {n}")
        return order
    if kind == "backordered":
        order_services.backorder_order(order.pk, by=picker, note="没货了")
        return order
    assert warehouse.acknowledge_order(order.pk, by=picker) == []
    lines = list(order.lines.all())
    if kind == "to_pick":
        warehouse.record_pick(order.pk, by=picker, scanned=lines[0].sku, quantity=1)
        return order
    for line in lines:
        warehouse.record_pick(order.pk, by=picker, scanned=line.sku, quantity=line.quantity)
    if kind == "to_pack":
        return order
    _pack(order, picker)
    if kind == "to_review":
        return order
    warehouse.review_order(order.pk, by=users["reviewer"], passed=True)
    if kind == "to_ship":
        return order
    from logistics import services as logistics

    order.refresh_from_db()
    options = logistics.carrier_options(order, logistics.unshipped_packages(order))
    shipment = logistics.ship(order.pk, by=users[Role.LOGISTICS], service_id=options[0].service.pk)
    logistics.record_event(shipment.pk, type="in_transit", by=users[Role.LOGISTICS])
    if kind == "shipped":
        logistics.record_event(shipment.pk, type="delayed", by=users[Role.LOGISTICS])
        return order
    logistics.record_event(shipment.pk, type="delivered", by=users[Role.LOGISTICS])
    if kind == "problem":
        feedback.confirm_receipt(order.pk, how=ReceiptMethod.PHONE, by=sales, note="电话确认")
        # Its closing request with a payment, an invoice and a document from Sales.
        settle(order, by=users[Role.FINANCE])
        finance.add_document(
            order.pk, by=sales, kind="payment_proof", upload=pdf_upload(), key=f"perf-{n}"
        )
    case, _created = feedback.report_problem(
        order.pk,
        kind="damaged",
        details=f"杯子碎了 {n}",
        photos=[check_photo(tiny_jpeg())] if kind == "problem" else [],
        key=f"perf-{n}",
    )
    if kind == "awaiting_receipt":
        feedback.resolve_case(case.pk, by=sales, resolution="已补发")
    if kind == "problem":
        # Two refused return requests and an open one, with a photo.
        from feedback import returns

        line = order.lines.first()
        for index in range(3):
            request, _created = returns.request_return(
                order.pk,
                reason_code="damaged",
                quantities={line.pk: 1},
                photos=[check_photo(tiny_jpeg())],
                key=f"perf-return-{n}-{index}",
            )
            if index < 2:
                returns.refuse_return(request.pk, by=sales, answer="已过保")
    order.refresh_from_db()
    assert order.status == Status.DELIVERED
    return order


@pytest.fixture(scope="module")
def world_db(django_db_setup, django_db_blocker, tmp_path_factory):
    """A module-wide transaction the orders are built in, rolled back at the end:
    building them once per module, not once per test, keeps the module fast."""
    media = tmp_path_factory.mktemp("perf-media")
    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=media), transaction.atomic():
        yield
        transaction.set_rollback(True)


def clients_for(world: World) -> dict:
    """A signed-in test client per role (None: anonymous)."""
    clients = {None: Client()}
    for role in Role.values:
        client = Client()
        client.force_login(world.users[role])
        clients[role] = client
    return clients
