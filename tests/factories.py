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


# The transitions that lead from placed to each state.
PATH_TO = {
    Status.PLACED: [],
    Status.CONFIRMED: ["confirm"],
    Status.BACKORDERED: ["confirm", "backorder"],
    Status.PICKED: ["confirm", "pick"],
    Status.SHIPPED: ["confirm", "pick", "ship"],
    Status.DELIVERED: ["confirm", "pick", "ship", "deliver"],
    Status.CLOSED: ["confirm", "pick", "ship", "deliver", "close"],
    Status.CANCELLED: ["cancel"],
}


def order_in_status(status, *, by, **kwargs):
    order = place(by=by, **kwargs)
    for name in PATH_TO[status]:
        fields = {"promised_date": promise_date()} if name == "confirm" else {}
        services.perform_action(order.pk, name, by=by, note="test reason", **fields)
    order.refresh_from_db()
    assert order.status == status
    return order
