"""Receipts and cases in the admin: looked up, never added, changed or deleted."""

from decimal import Decimal

import pytest
from django.urls import reverse

from feedback import services
from feedback.models import ProblemCase, Receipt, ReceiptMethod
from feedback.photos import check_photo
from tests.factories import make_user

from .conftest import photo


@pytest.fixture
def admin_client(client, db):
    client.force_login(make_user(None, username="root", is_superuser=True, is_staff=True))
    return client


@pytest.mark.django_db
def test_cases_and_receipts_are_read_only_in_the_admin(admin_client, delivered):
    case, _ = services.report_problem(
        delivered.pk, kind="missing", details="少一盒", photos=[check_photo(photo())], key="a" * 32
    )
    receipt, _ = services.confirm_receipt(delivered.pk, how=ReceiptMethod.CUSTOMER)
    for model, obj in (("problemcase", case), ("receipt", receipt)):
        changelist = admin_client.get(reverse(f"admin:feedback_{model}_changelist"))
        assert changelist.status_code == 200
        assert delivered.number in changelist.text
        change = admin_client.get(reverse(f"admin:feedback_{model}_change", args=[obj.pk]))
        assert change.status_code == 200
        assert 'name="_save"' not in change.text
        assert admin_client.get(reverse(f"admin:feedback_{model}_add")).status_code == 403
        delete = reverse(f"admin:feedback_{model}_delete", args=[obj.pk])
        assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    assert (
        "少一盒"
        in admin_client.get(reverse("admin:feedback_problemcase_change", args=[case.pk])).text
    )
    assert ProblemCase.objects.count() == Receipt.objects.count() == 1


@pytest.mark.django_db
def test_returns_are_read_only_and_reasons_are_tuned_in_three_languages(admin_client, delivered):
    from feedback import returns
    from feedback.models import ReturnReason, ReturnRequest

    request, _ = returns.request_return(
        delivered.pk,
        reason_code="damaged",
        quantities={delivered.lines.get().pk: 1},
        key="r" * 32,
        details="盒子破了",
    )
    change = admin_client.get(reverse("admin:feedback_returnrequest_change", args=[request.pk]))
    assert change.status_code == 200
    assert "盒子破了" in change.text
    assert 'name="_save"' not in change.text
    assert admin_client.get(reverse("admin:feedback_returnrequest_add")).status_code == 403
    delete = reverse("admin:feedback_returnrequest_delete", args=[request.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403

    reason = ReturnReason.objects.get(code="changed_mind")
    assert (reason.name_zh_hans, reason.window_days) == ("七天无理由退货", 7)
    url = reverse("admin:feedback_returnreason_change", args=[reason.pk])
    form = {
        "code": "changed_mind",
        "name_en": "Changed my mind",
        "name_zh_hans": "七天无理由退货",
        "name_zh_hant": "七天無理由退貨",
        "window_days": "14",
        "restocking_fee": "5.50",
        "position": "50",
        "active": "on",
    }
    for bad in ({"window_days": "0"}, {"restocking_fee": "100.01"}, {"restocking_fee": "-1"}):
        assert admin_client.post(url, {**form, **bad}).status_code == 200  # refused
    assert ReturnReason.objects.get(pk=reason.pk).window_days == 7
    assert admin_client.post(url, form).status_code == 302
    reason.refresh_from_db()
    assert (reason.window_days, reason.restocking_fee, reason.refund_freight) == (
        14,
        Decimal("5.50"),
        False,
    )
    delete = reverse("admin:feedback_returnreason_delete", args=[reason.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    assert ReturnRequest.objects.count() == 1
