"""Receipts and cases in the admin: looked up, never added, changed or deleted."""

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
