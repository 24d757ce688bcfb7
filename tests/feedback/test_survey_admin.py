"""The survey's question sets in the admin: a set that has been sent is locked (its
answers keep their meaning); the admin copies it to a new version, edits the copy and
makes it the active one, and new surveys use it."""

import pytest
from django.urls import reverse
from django.utils import timezone

from feedback import services, surveys
from feedback.models import QuestionSet, Survey, SurveyOptOut, SurveySettings
from orders.models import Status
from orders.roles import Role
from tests.factories import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, db):
    client.force_login(make_user(None, username="root", is_superuser=True, is_staff=True))
    return client


def action(admin_client, name, *sets):
    return admin_client.post(
        reverse("admin:feedback_questionset_changelist"),
        {"action": name, "_selected_action": [s.pk for s in sets]},
    )


def test_a_sent_set_is_locked_then_copied_edited_and_made_active(admin_client, order_in, users):
    first = QuestionSet.objects.get(active=True)
    order = order_in(Status.DELIVERED, salesperson=users[Role.SALES])
    services.confirm_receipt(order.pk, how="customer")
    surveys.send_surveys(now=timezone.now() + SurveySettings.load().send_after)
    assert Survey.objects.get(order=order).question_set == first

    change = admin_client.get(reverse("admin:feedback_questionset_change", args=[first.pk]))
    assert change.status_code == 200
    page = change.content.decode()
    assert 'name="intro_en"' not in page  # read-only once sent
    assert 'name="questions-0-text_en"' not in page

    action(admin_client, "copy_as_new_version", first)
    copy = QuestionSet.objects.get(version=first.version + 1)
    assert not copy.active
    assert [q.code for q in copy.questions.order_by("position")] == [
        q.code for q in first.questions.order_by("position")
    ]
    assert copy.questions.get(code="packaging").text_zh_hant == "包裝如何？"
    editable = admin_client.get(reverse("admin:feedback_questionset_change", args=[copy.pk]))
    assert 'name="questions-0-text_en"' in editable.content.decode()

    action(admin_client, "make_active", copy)
    assert QuestionSet.objects.get(active=True) == copy
    # The first set's answers keep their questions: nothing of it changed or went away.
    assert first.questions.count() == 4
    assert (
        admin_client.post(
            reverse("admin:feedback_questionset_delete", args=[first.pk]), {"post": "yes"}
        ).status_code
        == 403
    )


def test_only_one_settings_row(admin_client):
    SurveySettings.load()
    assert admin_client.get(reverse("admin:feedback_surveysettings_add")).status_code == 403
    page = admin_client.get(reverse("admin:feedback_surveysettings_change", args=[1]))
    assert page.status_code == 200


def test_staff_record_an_opt_out_with_their_name(admin_client):
    response = admin_client.post(
        reverse("admin:feedback_surveyoptout_add"), {"email": "Li.Hua@Example.com"}
    )
    assert response.status_code == 302
    entry = SurveyOptOut.objects.get()
    assert entry.by.username == "root"
