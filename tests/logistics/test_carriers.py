"""Carrier selection rules and tracking numbers in each carrier's format."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from logistics import services, tracking_numbers
from logistics.models import Carrier, CarrierRule, CarrierService
from orders.models import DeliveryWindow
from tests.factories import DELIVERY


def make_service(
    code,
    level="standard",
    *,
    days=2,
    max_kg="30",
    base="10",
    per_kg="1",
    window=False,
    province="",
    city="",
    rule_max=None,
):
    carrier, _ = Carrier.objects.get_or_create(
        code=code,
        defaults={"name": code.title(), "tracking_url": f"https://t.{code}.example/{{tracking}}"},
    )
    service = CarrierService.objects.create(
        carrier=carrier,
        level=level,
        transit_days=days,
        max_weight_kg=Decimal(max_kg),
        base_price=Decimal(base),
        price_per_kg=Decimal(per_kg),
        honours_time_window=window,
    )
    CarrierRule.objects.create(
        service=service,
        province=province,
        city=city,
        max_weight_kg=Decimal(rule_max) if rule_max else None,
    )
    return service


class Pkg:
    def __init__(self, kg):
        self.weight_kg = Decimal(kg)


class FakeOrder:
    """Only what carrier_options reads from an order."""

    def __init__(self, province="上海市", city="上海市", window=DeliveryWindow.ANY, promised=None):
        self.delivery_province = province
        self.delivery_city = city
        self.requested_window = window
        self.promised_date = promised


MONDAY = date(2026, 11, 23)


@pytest.mark.django_db
def test_cheapest_service_that_arrives_by_the_promised_date_is_proposed():
    slow_cheap = make_service("post", "economy", days=5, base="5")
    fast = make_service("express", "express", days=1, base="25")
    normal = make_service("normal", days=2, base="10")
    order = FakeOrder(promised=MONDAY + timedelta(days=3))  # Thursday
    options = services.carrier_options(order, [Pkg("1")], today=MONDAY)
    assert [o.service for o in options] == [normal, fast, slow_cheap]
    assert [o.meets_promise for o in options] == [True, True, False]
    assert options[0].cost == Decimal("11.00")  # 10 + 1 kg × 1
    assert options[0].arrives == MONDAY + timedelta(days=2)


@pytest.mark.django_db
def test_when_nothing_meets_the_promise_the_fastest_is_proposed():
    slow = make_service("post", "economy", days=5, base="5")
    fast = make_service("express", "express", days=3, base="25")
    order = FakeOrder(promised=MONDAY + timedelta(days=1))
    options = services.carrier_options(order, [Pkg("1")], today=MONDAY)
    assert [o.service for o in options] == [fast, slow]


@pytest.mark.django_db
def test_transit_days_skip_the_weekend():
    assert services.add_working_days(date(2026, 11, 27), 1) == date(2026, 11, 30)  # Fri → Mon
    assert services.add_working_days(MONDAY, 0) == MONDAY


@pytest.mark.django_db
def test_destination_rules_by_province_and_city():
    everywhere = make_service("national")
    shanghai = make_service("citylink", "same_day", days=0, province="上海市")
    pudong_only = make_service("pudong", "express", days=0, province="上海市", city="浦东")
    in_shanghai = services.carrier_options(FakeOrder(), [Pkg("1")], today=MONDAY)
    assert {o.service for o in in_shanghai} == {everywhere, shanghai}
    in_beijing = services.carrier_options(
        FakeOrder(province="北京市", city="北京市"), [Pkg("1")], today=MONDAY
    )
    assert {o.service for o in in_beijing} == {everywhere}
    in_pudong = services.carrier_options(FakeOrder(city="浦东"), [Pkg("1")], today=MONDAY)
    assert pudong_only in {o.service for o in in_pudong}


@pytest.mark.django_db
def test_weight_limits_per_package_and_per_destination():
    light = make_service("light", max_kg="5")
    heavy_rule = make_service("capped", rule_max="6")
    free = make_service("free")
    options = {o.service for o in services.carrier_options(FakeOrder(), [Pkg("4"), Pkg("4")])}
    assert options == {light, free}  # 8 kg in total exceeds capped's 6 kg rule
    options = {o.service for o in services.carrier_options(FakeOrder(), [Pkg("6")])}
    assert options == {heavy_rule, free}  # a 6 kg package exceeds light's 5 kg


@pytest.mark.django_db
def test_a_time_window_needs_a_service_that_honours_it():
    plain = make_service("plain")
    windowed = make_service("windowed", window=True)
    anytime = {o.service for o in services.carrier_options(FakeOrder(), [Pkg("1")])}
    assert anytime == {plain, windowed}
    morning = FakeOrder(window=DeliveryWindow.MORNING)
    assert {o.service for o in services.carrier_options(morning, [Pkg("1")])} == {windowed}


@pytest.mark.django_db
def test_inactive_services_rules_and_carriers_are_never_proposed():
    service = make_service("sleepy")
    assert services.carrier_options(FakeOrder(), [Pkg("1")])
    CarrierRule.objects.update(active=False)
    assert services.carrier_options(FakeOrder(), [Pkg("1")]) == []
    CarrierRule.objects.update(active=True)
    Carrier.objects.filter(pk=service.carrier_id).update(active=False)
    assert services.carrier_options(FakeOrder(), [Pkg("1")]) == []


# ---------------------------------------------------------------- tracking numbers


@pytest.mark.parametrize(
    ("digits", "scheme", "check"),
    [
        ("7992739871", "luhn", "3"),  # the textbook Luhn example
        ("47312482", "s10", "9"),  # UPU S10 example RR473124829GB
        ("00000000", "s10", "5"),  # remainder 0 -> 11 -> 5
    ],
)
def test_check_digits(digits, scheme, check):
    assert tracking_numbers.check_digit(digits, scheme) == check


@pytest.mark.django_db
def test_generated_numbers_have_the_carriers_format_and_validate():
    post = Carrier(
        code="post",
        name="Post",
        tracking_prefix="EE",
        tracking_suffix="CN",
        tracking_digits=8,
        check_digit="s10",
        tracking_url="https://p/{tracking}",
    )
    for _ in range(50):
        number = tracking_numbers.generate(post)
        assert len(number) == 2 + 8 + 1 + 2
        assert number.startswith("EE") and number.endswith("CN")
        assert tracking_numbers.is_valid(post, number)
    assert tracking_numbers.is_valid(post, "ee 473124829 cn")
    assert not tracking_numbers.is_valid(post, "EE473124828CN")  # wrong check digit
    assert not tracking_numbers.is_valid(post, "EE47312482CN")  # too short
    assert not tracking_numbers.is_valid(post, "XX473124829CN")  # wrong prefix


def test_delivery_fixture_is_in_shanghai():
    # The rules tests above assume orders go to Shanghai by default.
    assert DELIVERY.province == "上海市"
