"""factory_boy factories and helpers. Orders are created through the services, so
tests start from orders exactly like the ones the system makes."""

from datetime import timedelta
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from orders import services
from orders.models import Customer, Product, Status


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    password = factory.PostGenerationMethodCall("set_password", "pw-for-tests")

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        for role in extracted or []:
            self.groups.add(Group.objects.get(name=role))
        if create:
            self.save()


def make_user(role=None, **kwargs):
    kwargs.setdefault("username", (role or "norole").lower() + "-user")
    return UserFactory(roles=[role] if role else [], **kwargs)


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    name = "王小明"
    phone = factory.Sequence(lambda n: f"+861380013{n:04d}")
    email = factory.Sequence(lambda n: f"customer{n}@example.cn")
    language = "zh-hans"


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    sku = factory.Sequence(lambda n: f"SKU-{n:04d}")
    name = factory.Sequence(lambda n: f"Product {n}")
    unit_price = Decimal("12.50")


DELIVERY = services.DeliveryDetails(
    recipient="王小明",
    phone="+8613800138000",
    province="上海市",
    city="上海市",
    district="浦东新区",
    street="世纪大道 100 号 8 楼",
    postal_code="200120",
)


def place(customer=None, lines=None, channel="phone", by=None, verified=True, **kwargs):
    """Place an order through the service with sensible defaults; by default Sales has
    already verified its contact details and address."""
    customer = customer or CustomerFactory()
    if lines is None:
        lines = [services.LineRequest(ProductFactory(), 2)]
    order = services.place_order(
        customer=customer,
        channel=channel,
        lines=lines,
        delivery=kwargs.pop("delivery", DELIVERY),
        by=by,
        **kwargs,
    )
    if verified:
        order = services.verify_order(order.pk, by=None, contact=True, address=True, method="phone")
    return order


def promise_date():
    return timezone.localdate() + timedelta(days=3)


# The steps that lead from placed to each state; "warehouse" is the warehouse's
# whole flow (acknowledge, reserve, pick, pack, review by a second person).
PATH_TO = {
    Status.PLACED: [],
    Status.CONFIRMED: ["confirm"],
    Status.BACKORDERED: ["confirm", "backorder"],
    Status.PICKED: ["confirm", "warehouse"],
    Status.SHIPPED: ["confirm", "warehouse", "ship"],
    Status.DELIVERED: ["confirm", "warehouse", "ship", "deliver"],
    Status.CLOSED: ["confirm", "warehouse", "ship", "deliver", "close"],
    Status.CANCELLED: ["cancel"],
}


def stock_for(order, *, extra=0):
    """Receive exactly enough stock for ``order`` (plus ``extra`` units per line)."""
    from warehouse.services import receive_goods, stock_item_for

    for line in order.lines.all():
        item = stock_item_for(line.product)
        receive_goods(item.pk, line.quantity + extra, by=None, serve=False)


def reviewer():
    """A second warehouse user: the review gate refuses whoever picked."""
    return make_user("Warehouse", username="reviewer-user")


def through_warehouse(order, *, by, review=True, pack=True):
    """Drive a confirmed order through the warehouse's real flow: stock, acknowledge,
    pick every line by SKU, then (``pack``) one package and (``review``) a passed
    review by another person."""
    from warehouse import services as warehouse

    stock_for(order)
    assert warehouse.acknowledge_order(order.pk, by=by) == []
    for line in order.lines.all():
        warehouse.record_pick(order.pk, by=by, scanned=line.sku, quantity=line.quantity)
    if pack:
        warehouse.add_package(
            order.pk, by=by, weight_kg=Decimal("1.5"), length_cm=30, width_cm=20, height_cm=10
        )
        warehouse.finish_packing(order.pk, by=by)
        if review:
            warehouse.review_order(order.pk, by=reviewer(), passed=True)
    order.refresh_from_db()
    return order


def carrier(code="test-express", **kwargs):
    """A carrier with a standard service that delivers everywhere, up to 30 kg."""
    from logistics.models import Carrier, CarrierRule, CarrierService

    defaults = {
        "name": "Test Express",
        "tracking_url": "https://track.test-express.example/{tracking}",
        "tracking_prefix": "TE",
        "tracking_digits": 10,
        "check_digit": "luhn",
    }
    item, created = Carrier.objects.get_or_create(code=code, defaults={**defaults, **kwargs})
    if created:
        service = CarrierService.objects.create(
            carrier=item,
            level="standard",
            transit_days=2,
            max_weight_kg=Decimal("30"),
            base_price=Decimal("12.00"),
            price_per_kg=Decimal("2.00"),
            honours_time_window=True,
        )
        CarrierRule.objects.create(service=service)
    return item


def ship(order, *, by):
    """Ship every package of a reviewed order with the proposed carrier."""
    from logistics import services as logistics

    carrier()
    packages = logistics.unshipped_packages(order)
    best = logistics.carrier_options(order, packages)[0]
    return logistics.ship(order.pk, by=by, service_id=best.service.pk)


def deliver(order, *, by=None):
    """The carrier reports every shipment of ``order`` delivered."""
    from logistics import services as logistics

    for shipment in order.shipments.all():
        logistics.record_event(shipment.pk, type="delivered", by=by)


def pdf_upload(name="invoice.pdf"):
    """A small file that is a PDF by its content (the forms check the first bytes)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, b"%PDF-1.4\n% test\n%%EOF\n", content_type="application/pdf")


def settle(order, *, by, paid=None, invoiced=None):
    """Finance records the customer's payment of the balance and an invoice for the
    amount charged (or the amounts given)."""
    from finance import services as finance
    from finance.models import Account, InvoiceType, PaymentMethod

    account = Account.objects.get(order=order)
    today = timezone.localdate()
    method, _created = PaymentMethod.objects.get_or_create(
        code="bank_transfer", defaults={"name": "Bank transfer"}
    )
    kind, _created = InvoiceType.objects.get_or_create(
        code="vat_general", defaults={"name": "General VAT fapiao"}
    )
    paid = account.balance if paid is None else paid
    if paid:
        finance.record_payment(
            order.pk,
            finance.MoneyMovement(amount=paid, happened_on=today, method_id=method.pk),
            by=by,
            key=f"test-payment-{order.pk}",
        )
    invoiced = account.charged if invoiced is None else invoiced
    if invoiced:
        finance.record_invoice(
            order.pk,
            finance.InvoiceDetails(
                type_id=kind.pk, number=f"T{order.pk:09d}", amount=invoiced, issued_on=today
            ),
            pdf_upload(),
            by=by,
            key=f"test-invoice-{order.pk}",
        )


def close(order, *, by):
    """Step 7 for real: receipt confirmed by phone, the balance paid and invoiced, the
    closing request submitted by Sales, acknowledged and approved by Finance."""
    from feedback.services import confirm_receipt
    from finance import services as finance

    confirm_receipt(order.pk, how="phone", by=by, note="test")
    settle(order, by=by)
    finance.submit_request(order.pk, by=by)
    finance.acknowledge_request(order.pk, by=by)
    finance.approve(order.pk, by=by)


def order_in_status(status, *, by, **kwargs):
    order = place(by=by, **kwargs)
    for name in PATH_TO[status]:
        if name == "warehouse":
            through_warehouse(order, by=by)
            continue
        if name == "ship":
            ship(order, by=by)
            continue
        if name == "deliver":
            deliver(order, by=by)
            continue
        if name == "close":
            close(order, by=by)
            continue
        fields = {"promised_date": promise_date()} if name == "confirm" else {}
        services.perform_action(order.pk, name, by=by, note="test reason", **fields)
    order.refresh_from_db()
    assert order.status == status
    return order
