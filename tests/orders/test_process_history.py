"""The process definition's history: changes made in the admin are recorded as
ProcessChange rows, and the process page shows them."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.duration import duration_string

from orders.models import ProcessChange, ProcessStep, StepChannelTarget
from orders.roles import Role
from orders.services import record_process_changes
from tests.factories import make_user

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
LANGS = ("en", "zh_hans", "zh_hant")


@pytest.fixture
def admin_user(db):
    return make_user(
        None, username="root", first_name="Rita", last_name="Root", is_superuser=True, is_staff=True
    )


def duration(value):
    return duration_string(value) if value is not None else ""


def admin_data(step, channel_targets=(), **changes):
    """The ProcessStep admin's form as the page shows it, with ``changes``."""
    data = {}
    for base in ("name", "how", "notes"):
        for lang in LANGS:
            data[f"{base}_{lang}"] = getattr(step, f"{base}_{lang}") or ""
    data.update(
        role=step.role,
        target=duration(step.target),
        warning_percent=step.warning_percent,
        follow_up_within=duration(step.follow_up_within),
        give_up_after=duration(step.give_up_after),
    )
    existing = list(step.channel_targets.all())
    data.update(
        {
            "channel_targets-TOTAL_FORMS": str(len(existing) + len(channel_targets)),
            "channel_targets-INITIAL_FORMS": str(len(existing)),
            "channel_targets-MIN_NUM_FORMS": "0",
            "channel_targets-MAX_NUM_FORMS": "1000",
        }
    )
    for i, target in enumerate(existing):
        data.update(
            {
                f"channel_targets-{i}-id": target.pk,
                f"channel_targets-{i}-step": step.pk,
                f"channel_targets-{i}-channel": target.channel,
                f"channel_targets-{i}-target": duration(target.target),
            }
        )
    for j, (channel, value) in enumerate(channel_targets, start=len(existing)):
        data.update(
            {
                f"channel_targets-{j}-step": step.pk,
                f"channel_targets-{j}-channel": channel,
                f"channel_targets-{j}-target": value,
            }
        )
    data.update(changes)
    return data


def save_in_admin(client, step, **kwargs):
    url = reverse("admin:orders_processstep_change", args=[step.pk])
    return client.post(url, admin_data(step, **kwargs))


@pytest.mark.django_db
def test_an_admin_change_records_each_changed_field(client, admin_user):
    step = ProcessStep.objects.get(code="confirmation")
    assert (step.target, step.role) == (timedelta(hours=24), Role.SALES)  # as seeded
    old_how = step.how_en
    assert old_how  # seeded
    client.force_login(admin_user)
    response = save_in_admin(
        client, step, target="26:00:00", role=Role.MANAGER, how_en="Call within 2 hours."
    )
    assert response.status_code == 302, response.content[:3000]
    rows = {c.field: c for c in ProcessChange.objects.filter(step=step)}
    assert set(rows) == {"target", "role", "how_en"}
    assert (rows["target"].old, rows["target"].new) == ("24 h", "26 h")
    assert (rows["role"].old, rows["role"].new) == ("Sales", "Manager")
    assert (rows["how_en"].old, rows["how_en"].new) == (old_how, "Call within 2 hours.")
    assert {c.by for c in rows.values()} == {admin_user}
    step.refresh_from_db()
    assert step.target == timedelta(hours=26)


@pytest.mark.django_db
def test_saving_without_a_change_records_nothing(client, admin_user):
    step = ProcessStep.objects.get(code="processing")
    client.force_login(admin_user)
    assert save_in_admin(client, step).status_code == 302
    assert ProcessChange.objects.count() == 0


@pytest.mark.django_db
def test_a_refused_admin_change_records_nothing(client, admin_user):
    step = ProcessStep.objects.get(code="processing")
    client.force_login(admin_user)
    response = save_in_admin(client, step, target="400 00:00:00", how_en="New text")
    assert response.status_code == 200  # the form again, with its error
    assert ProcessChange.objects.count() == 0


@pytest.mark.django_db
def test_a_channel_target_added_changed_and_removed_is_recorded(client, admin_user):
    step = ProcessStep.objects.get(code="confirmation")
    client.force_login(admin_user)
    assert save_in_admin(client, step, channel_targets=[("phone", "2:00:00")]).status_code == 302
    added = ProcessChange.objects.get()
    assert (added.field, added.old, added.new) == ("target:phone", "", "2 h")
    ProcessChange.objects.all().delete()

    assert save_in_admin(client, step, **{"channel_targets-0-target": "1:30:00"}).status_code == 302
    changed = ProcessChange.objects.get()
    assert (changed.field, changed.old, changed.new) == ("target:phone", "2 h", "1 h 30 min")
    ProcessChange.objects.all().delete()

    assert save_in_admin(client, step, **{"channel_targets-0-DELETE": "on"}).status_code == 302
    removed = ProcessChange.objects.get()
    assert (removed.field, removed.old, removed.new) == ("target:phone", "1 h 30 min", "")
    assert not StepChannelTarget.objects.filter(step=step).exists()


@pytest.mark.django_db
def test_record_process_changes_writes_only_what_differs(users):
    step = ProcessStep.objects.get(code="shipping")
    rows = record_process_changes(
        step,
        {
            "target": timedelta(days=2),
            "warning_percent": 75,
            "notes_en": "a",
            "give_up_after": None,
        },
        {
            "target": timedelta(days=1, hours=2),
            "warning_percent": 75,
            "notes_en": "b",
            "give_up_after": timedelta(minutes=45),
        },
        users[Role.MANAGER],
    )
    got = sorted((r.field, r.old, r.new) for r in ProcessChange.objects.all())
    assert len(rows) == 3
    assert got == [
        ("give_up_after", "", "45 min"),
        ("notes_en", "a", "b"),
        ("target", "48 h", "26 h"),
    ]
    assert {r.by for r in ProcessChange.objects.all()} == {users[Role.MANAGER]}


@pytest.mark.django_db
def test_the_process_page_shows_the_changes(client, admin_user, users):
    step = ProcessStep.objects.get(code="confirmation")
    client.force_login(admin_user)
    moment = datetime(2026, 5, 4, 23, 50, tzinfo=ZoneInfo("UTC"))  # 07:50 on 5 May in Shanghai
    with time_machine.travel(moment, tick=False):
        assert save_in_admin(client, step, target="26:00:00", role=Role.MANAGER).status_code == 302
    client.force_login(users[Role.WAREHOUSE])
    html = client.get(reverse("process"), **EN).text
    section = html[html.index('id="process-changes"') :].split("</section>")[0]
    assert 'Changes to the process <span class="muted">(2)</span>' in section
    target_row = section[section.index('data-field="target"') :].split("</tr>")[0]
    assert "2026-05-05 07:50" in target_row
    assert "2. Order confirmation" in target_row
    assert "Target time" in target_row
    assert "24 h" in target_row and "26 h" in target_row
    assert "Rita Root" in target_row
    role_row = section[section.index('data-field="role"') :].split("</tr>")[0]
    assert "Responsible role" in role_row
    assert "<td data-old>Sales</td>" in role_row
    assert "<td data-new>Manager</td>" in role_row


@pytest.mark.django_db
def test_the_process_page_labels_changes_in_the_readers_language(client, admin_user, users):
    step = ProcessStep.objects.get(code="confirmation")
    client.force_login(admin_user)
    assert save_in_admin(client, step, target="26:00:00").status_code == 302
    client.force_login(users[Role.SALES])
    html = client.get(reverse("process"), HTTP_ACCEPT_LANGUAGE="zh-CN").text
    section = html[html.index('id="process-changes"') :].split("</section>")[0]
    assert "目标时间" in section


@pytest.mark.django_db
def test_the_process_page_shows_the_latest_50_in_flat_queries(client, users):
    step = ProcessStep.objects.get(code="tracking")
    client.force_login(users[Role.SALES])
    url = reverse("process")
    client.get(url)
    counts = []
    for total in (0, 1, 60):
        ProcessChange.objects.all().delete()
        ProcessChange.objects.bulk_create(
            ProcessChange(
                step=step, field="notes_en", old=f"v{i}", new=f"v{i + 1}", by=users[Role.MANAGER]
            )
            for i in range(total)
        )
        with CaptureQueriesContext(connection) as queries:
            html = client.get(url, **EN).text
        counts.append(len(queries))
        assert html.count("data-change=") == min(total, 50)
    assert counts[0] == counts[1] == counts[2]
    assert "The latest 50 of 60 changes." in html


@pytest.mark.django_db
def test_process_changes_are_read_only_in_the_admin(client, admin_user, users):
    step = ProcessStep.objects.get(code="tracking")
    change = ProcessChange.objects.create(step=step, field="notes_en", old="a", new="b")
    client.force_login(admin_user)
    assert client.get(reverse("admin:orders_processchange_add")).status_code == 403
    assert (
        client.get(reverse("admin:orders_processchange_delete", args=[change.pk])).status_code
        == 403
    )
    page = client.get(reverse("admin:orders_processchange_change", args=[change.pk]))
    assert page.status_code == 200
    assert 'name="new"' not in page.text  # shown, not editable
    response = client.post(
        reverse("admin:orders_processchange_change", args=[change.pk]), {"old": "x", "new": "y"}
    )
    assert response.status_code == 403
    change.refresh_from_db()
    assert (change.old, change.new) == ("a", "b")


@pytest.mark.django_db
def test_review_meetings_are_in_the_admin_and_not_deletable(client, admin_user, users):
    from orders.models import ActionItem, ReviewMeeting

    meeting = ReviewMeeting.objects.create(
        held_on=datetime(2026, 3, 2).date(),
        departments=["Sales"],
        period_start=datetime(2026, 2, 1).date(),
        period_end=datetime(2026, 2, 28).date(),
        findings="Too slow.",
        recorded_by=users[Role.MANAGER],
    )
    ActionItem.objects.create(
        meeting=meeting,
        title="Shorter script",
        owner=users[Role.SALES],
        due_on=datetime(2026, 4, 1).date(),
    )
    client.force_login(admin_user)
    page = client.get(reverse("admin:orders_reviewmeeting_change", args=[meeting.pk]))
    assert page.status_code == 200
    assert "Shorter script" in page.text
    delete = reverse("admin:orders_reviewmeeting_delete", args=[meeting.pk])
    assert client.get(delete).status_code == 403
