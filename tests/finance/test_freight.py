"""Freight comes from the shipment: each shipment charges the customer the carrier's
price when it ships, unless the freight terms (the admin's) include it or the order
ships free; once per shipment, on the order's timeline."""

from decimal import Decimal

import pytest
from django.urls import reverse

from finance.models import Account, ChargeKind, FreightTerms, LedgerEntry
from logistics.models import Shipment
from orders.models import Status
from orders.roles import Role
from orders.services import LineRequest
from tests.factories import ProductFactory

from .conftest import EN

pytestmark = pytest.mark.django_db

# tests.factories: one 1.5 kg package, Test Express at 12.00 + 2.00 per kg.
CARRIER_PRICE = Decimal("15.00")


def freight_entries(order):
    return LedgerEntry.objects.filter(order=order, charge_kind=ChargeKind.FREIGHT)


def test_a_shipment_charges_the_carrier_price_once(order_in):
    order = order_in(Status.SHIPPED)
    shipment = Shipment.objects.get(order=order)
    assert shipment.freight_cost == CARRIER_PRICE
    (entry,) = freight_entries(order)
    assert entry.amount == CARRIER_PRICE
    assert entry.currency == "CNY"
    assert entry.recorded_by is None  # charged by the system, not by a person
    assert entry.reference == f"Test Express {shipment.tracking_number}"
    account = Account.objects.get(order=order)
    assert account.charged == order.total + CARRIER_PRICE
    assert account.balance == order.total + CARRIER_PRICE
    event = order.events.get(code="ledger_charge", data__what="freight")
    assert event.data["amount"] == "15.00"
    assert not event.public


def test_a_second_signal_for_the_same_shipment_charges_nothing_more(order_in):
    from finance import services

    order = order_in(Status.SHIPPED)
    shipment = Shipment.objects.get(order=order)
    again = services.charge_freight(
        order,
        shipment_id=shipment.pk,
        carrier="Test Express",
        tracking_number=shipment.tracking_number,
        freight_cost=shipment.freight_cost,
        at=shipment.shipped_at,
    )
    assert again == freight_entries(order).get()
    assert freight_entries(order).count() == 1
    assert Account.objects.get(order=order).charged == order.total + CARRIER_PRICE


def test_an_order_whose_goods_reach_the_free_amount_ships_free(order_in):
    terms = FreightTerms.current()
    terms.free_from = Decimal("0.01")
    terms.save()
    order = order_in(Status.SHIPPED)
    assert not freight_entries(order).exists()
    assert Account.objects.get(order=order).charged == order.total
    event = order.events.get(code="freight_free")
    assert event.data["free_from"] == "0.01"


def test_below_the_free_amount_freight_is_charged(order_in):
    terms = FreightTerms.current()
    terms.free_from = Decimal("999999.00")
    terms.save()
    order = order_in(Status.SHIPPED)
    assert freight_entries(order).get().amount == CARRIER_PRICE
    assert not order.events.filter(code="freight_free").exists()


def test_freight_included_in_prices_charges_nothing(order_in):
    FreightTerms.objects.filter(pk=1).update(charge_customer=False)
    order = order_in(Status.SHIPPED)
    assert not freight_entries(order).exists()
    assert order.events.filter(code="freight_included").count() == 1


def test_an_order_in_another_currency_is_left_to_finance(order_in):
    dollars = ProductFactory(currency="USD", unit_price=Decimal("30.00"))
    order = order_in(Status.SHIPPED, lines=[LineRequest(dollars, 1)])
    assert order.currency == "USD"
    assert not freight_entries(order).exists()
    assert order.events.filter(code="freight_by_hand").count() == 1


def test_finance_sees_the_freight_on_the_order_ledger(client, order_in, users):
    order = order_in(Status.SHIPPED)
    shipment = Shipment.objects.get(order=order)
    client.force_login(users[Role.FINANCE])
    page = client.get(reverse("finance:request", args=[order.number]), **EN)
    assert page.status_code == 200
    text = page.content.decode()
    assert "Freight" in text
    assert shipment.tracking_number in text
    detail = client.get(order.get_absolute_url(), **EN).content.decode()
    assert "Charged (Freight): 15.00 CNY" in detail


def test_the_terms_are_one_row_the_admin_changes_but_never_adds_or_deletes(admin_client):
    url = reverse("admin:finance_freightterms_change", args=[1])
    page = admin_client.get(url, **EN)
    assert page.status_code == 200
    assert admin_client.get(reverse("admin:finance_freightterms_add")).status_code == 403
    assert (
        admin_client.get(reverse("admin:finance_freightterms_delete", args=[1])).status_code == 403
    )
    answer = admin_client.post(url, {"charge_customer": "on", "free_from": "-5"}, **EN)
    assert answer.status_code == 200  # the form again, with the error
    assert FreightTerms.current().free_from is None
    admin_client.post(url, {"charge_customer": "on", "free_from": "199.00"})
    assert FreightTerms.current().free_from == Decimal("199.00")
    assert FreightTerms.objects.count() == 1
