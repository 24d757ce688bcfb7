"""The admin tunes the payment methods and invoice types (in three languages); the
money records themselves are read-only there and nothing can be deleted."""

import pytest
from django.urls import reverse

from finance.models import LedgerEntry, PaymentMethod
from orders.models import Status

pytestmark = pytest.mark.django_db


def test_the_admin_adds_a_payment_method_with_its_translations(admin_client):
    response = admin_client.post(
        reverse("admin:finance_paymentmethod_add"),
        {
            "code": "unionpay",
            "name_en": "UnionPay",
            "name_zh_hans": "银联",
            "name_zh_hant": "銀聯",
            "position": 60,
            "active": "on",
        },
    )
    assert response.status_code == 302
    method = PaymentMethod.objects.get(code="unionpay")
    assert (method.name_en, method.name_zh_hans, method.name_zh_hant) == (
        "UnionPay",
        "银联",
        "銀聯",
    )


def test_the_seeded_methods_and_types_are_listed_and_cannot_be_deleted(admin_client):
    html = admin_client.get(
        reverse("admin:finance_paymentmethod_changelist"), HTTP_ACCEPT_LANGUAGE="en"
    ).text
    for name in ("Bank transfer", "Alipay", "WeChat Pay", "Cash on delivery", "Card"):
        assert name in html
    method = PaymentMethod.objects.get(code="alipay")
    assert (
        admin_client.get(
            reverse("admin:finance_paymentmethod_delete", args=[method.pk])
        ).status_code
        == 403
    )
    html = admin_client.get(
        reverse("admin:finance_invoicetype_changelist"), HTTP_ACCEPT_LANGUAGE="en"
    ).text
    assert "Special VAT fapiao" in html


def test_ledger_entries_are_read_only_in_the_admin(admin_client, order_in):
    order = order_in(Status.CONFIRMED)
    entry = LedgerEntry.objects.get(order=order)
    assert admin_client.get(reverse("admin:finance_ledgerentry_changelist")).status_code == 200
    assert admin_client.get(reverse("admin:finance_ledgerentry_add")).status_code == 403
    assert (
        admin_client.get(reverse("admin:finance_ledgerentry_delete", args=[entry.pk])).status_code
        == 403
    )
    response = admin_client.post(
        reverse("admin:finance_ledgerentry_change", args=[entry.pk]), {"amount": "1.00"}
    )
    assert response.status_code == 403
    entry.refresh_from_db()
    assert entry.amount == order.total
