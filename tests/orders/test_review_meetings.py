"""Review meetings and their action items: recording, who may, stale updates, and the
owner's dashboard."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from orders.models import ActionItem, ActionStatus, ReviewMeeting
from orders.roles import Role
from orders.services.review import action_version
from tests.factories import make_user

SHANGHAI = ZoneInfo("Asia/Shanghai")
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def today():
    return timezone.localdate()


def meeting_data(**overrides):
    data = {
        "held_on": today().isoformat(),
        "departments": [Role.SALES, Role.WAREHOUSE],
        "period_start": "2026-02-01",
        "period_end": "2026-02-28",
        "findings": "Confirmation takes too long on Mondays.",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def make_meeting(users, **kwargs):
    values = {
        "held_on": today(),
        "departments": [Role.SALES],
        "period_start": date(2026, 2, 1),
        "period_end": date(2026, 2, 28),
        "findings": "Slow confirmations.",
        "recorded_by": users[Role.MANAGER],
    }
    values.update(kwargs)
    return ReviewMeeting.objects.create(**values)


def make_action(meeting, owner, **kwargs):
    values = {"title": "Call back within 2 h", "owner": owner, "due_on": today() + timedelta(7)}
    values.update(kwargs)
    return ActionItem.objects.create(meeting=meeting, **values)


# --- recording a meeting -------------------------------------------------------------


@pytest.mark.django_db
def test_a_manager_records_a_meeting(client, users):
    client.force_login(users[Role.MANAGER])
    response = client.post(reverse("new_review_meeting"), meeting_data(), **EN)
    meeting = ReviewMeeting.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/review/meetings/{meeting.pk}/"
    assert meeting.departments == ["Sales", "Warehouse"]
    assert meeting.period_start == date(2026, 2, 1)
    assert meeting.period_end == date(2026, 2, 28)
    assert meeting.findings == "Confirmation takes too long on Mondays."
    assert meeting.recorded_by == users[Role.MANAGER]
    page = client.get(response["Location"], **EN).text
    assert "Confirmation takes too long on Mondays." in page
    assert 'href="/review/?start=2026-02-01&amp;end=2026-02-28"' in page
    assert "Sales, Warehouse" in page


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("moment", "start", "end"),
    [
        (datetime(2026, 3, 15, 10, 0, tzinfo=SHANGHAI), "2026-02-01", "2026-02-28"),
        # 00:30 on 1 March in Shanghai is still 28 February in UTC: the business's day.
        (datetime(2024, 3, 1, 0, 30, tzinfo=SHANGHAI), "2024-02-01", "2024-02-29"),
        (datetime(2026, 1, 10, 23, 30, tzinfo=SHANGHAI), "2025-12-01", "2025-12-31"),
    ],
)
def test_the_form_proposes_the_last_full_calendar_month(client, users, moment, start, end):
    client.force_login(users[Role.MANAGER])
    with time_machine.travel(moment, tick=False):
        html = client.get(reverse("new_review_meeting"), **EN).text
    assert f'name="period_start" value="{start}"' in html
    assert f'name="period_end" value="{end}"' in html


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"departments": None}, "Choose at least one department that was present."),
        ({"departments": ["Sales", "Janitors"]}, "Select a valid choice."),
        ({"period_start": "2026-03-01", "period_end": "2026-02-28"}, "must end on or after"),
        ({"period_start": "2025-01-01", "period_end": "2026-01-02"}, "at most 366 days"),
        ({"period_start": "1999-12-31"}, "Enter a date from 2000-01-01 on."),
        ({"period_end": "2026-02-30"}, "Enter a valid date."),
        ({"held_on": "2999-01-01"}, "This date is in the future."),
        ({"held_on": ""}, "This field is required."),
        ({"findings": "   "}, "This field is required."),
        ({"findings": "x" * 5001}, "at most 5000 characters"),
    ],
)
def test_a_bad_meeting_is_refused_and_nothing_is_written(client, users, overrides, message):
    client.force_login(users[Role.MANAGER])
    response = client.post(reverse("new_review_meeting"), meeting_data(**overrides), **EN)
    assert response.status_code == 400
    assert message in response.text
    assert "Nothing was saved." in response.text
    assert ReviewMeeting.objects.count() == 0


@pytest.mark.django_db
def test_a_full_leap_year_is_one_pack(client, users):
    client.force_login(users[Role.MANAGER])
    data = meeting_data(period_start="2024-01-01", period_end="2024-12-31")
    assert client.post(reverse("new_review_meeting"), data, **EN).status_code == 302
    assert ReviewMeeting.objects.get().period_end == date(2024, 12, 31)


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.SALES, Role.FINANCE])
def test_only_a_manager_records_a_meeting(client, users, role):
    client.force_login(users[role])
    url = reverse("new_review_meeting")
    get = client.get(url, **EN)
    post = client.post(url, meeting_data(), **EN)
    assert get.status_code == 403
    assert post.status_code == 403
    assert "Only a manager records review meetings." in post.text
    assert ReviewMeeting.objects.count() == 0
    # They may read the meetings all the same.
    assert client.get(reverse("review_meetings"), **EN).status_code == 200


@pytest.mark.django_db
def test_someone_without_a_role_reads_no_meeting(client, users):
    meeting = make_meeting(users)
    client.force_login(make_user(None, username="visitor"))
    assert client.get(reverse("review_meetings")).status_code == 403
    assert client.get(reverse("review_meeting", args=[meeting.pk])).status_code == 403


# --- action items --------------------------------------------------------------------


def action_data(owner_user, **overrides):
    data = {
        "title": "Call every new order back within 2 hours",
        "step": "confirmation",
        "owner": owner_user.pk,
        "due_on": (today() + timedelta(days=14)).isoformat(),
    }
    data.update(overrides)
    return data


@pytest.mark.django_db
def test_a_manager_adds_an_action_item(client, users):
    meeting = make_meeting(users)
    client.force_login(users[Role.MANAGER])
    url = reverse("review_meeting", args=[meeting.pk])
    response = client.post(url, action_data(users[Role.SALES]), **EN)
    assert response.status_code == 302
    item = ActionItem.objects.get()
    assert item.meeting == meeting
    assert item.owner == users[Role.SALES]
    assert item.step == "confirmation"
    assert item.due_on == today() + timedelta(days=14)
    assert item.status == ActionStatus.OPEN
    assert item.done_at is None
    assert "Call every new order back within 2 hours" in client.get(url, **EN).text


@pytest.mark.django_db
def test_an_action_due_today_is_accepted(client, users):
    meeting = make_meeting(users)
    client.force_login(users[Role.MANAGER])
    data = action_data(users[Role.SALES], due_on=today().isoformat(), step="")
    response = client.post(reverse("review_meeting", args=[meeting.pk]), data, **EN)
    assert response.status_code == 302
    assert ActionItem.objects.get().step == ""


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("title", "", "This field is required."),
        ("title", "x" * 201, "at most 200 characters"),
        ("step", "teleport", "Select a valid choice."),
        ("due_on", "yesterday", "The due date cannot be in the past."),
        ("due_on", "2026-02-30", "Enter a valid date."),
        ("due_on", "far", "Choose a due date within the coming year"),
        ("owner", "norole", "Select a valid choice."),
        ("owner", "inactive", "Select a valid choice."),
        ("owner", "999999", "Select a valid choice."),
    ],
)
def test_a_bad_action_item_is_refused_and_nothing_is_written(client, users, field, value, message):
    meeting = make_meeting(users)
    if value == "yesterday":
        value = (today() - timedelta(days=1)).isoformat()
    elif value == "far":
        value = (today() + timedelta(days=400)).isoformat()
    elif value == "norole":
        value = make_user(None, username="outsider").pk
    elif value == "inactive":
        value = make_user(Role.SALES, username="gone", is_active=False).pk
    client.force_login(users[Role.MANAGER])
    data = action_data(users[Role.SALES], **{field: value})
    response = client.post(reverse("review_meeting", args=[meeting.pk]), data, **EN)
    assert response.status_code == 400
    assert message in response.text
    assert ActionItem.objects.count() == 0


@pytest.mark.django_db
def test_sales_cannot_add_an_action_item(client, users):
    meeting = make_meeting(users)
    client.force_login(users[Role.SALES])
    url = reverse("review_meeting", args=[meeting.pk])
    response = client.post(url, action_data(users[Role.SALES]), **EN)
    assert response.status_code == 403
    assert "Only a manager adds action items." in response.text
    assert ActionItem.objects.count() == 0
    assert 'id="add-action"' not in client.get(url, **EN).text


# --- updating an action item ---------------------------------------------------------


def post_update(client, item, decision, note="", seen=None):
    item.refresh_from_db()
    return client.post(
        reverse("update_action", args=[item.pk]),
        {"decision": decision, "note": note, "seen": seen or action_version(item)},
        **EN,
    )


@pytest.mark.django_db
def test_the_owner_completes_their_own_item(client, users):
    item = make_action(make_meeting(users), users[Role.SALES])
    client.force_login(users[Role.SALES])
    response = post_update(client, item, "done", note="Script updated.")
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.status == ActionStatus.DONE
    assert item.note == "Script updated."
    assert item.done_at is not None
    assert abs(item.done_at - timezone.now()) < timedelta(minutes=1)


@pytest.mark.django_db
def test_another_non_manager_cannot_update_the_item(client, users):
    item = make_action(make_meeting(users), users[Role.SALES])
    client.force_login(users[Role.WAREHOUSE])
    response = post_update(client, item, "done")
    assert response.status_code == 403
    assert "Only the action&#x27;s owner or a manager may change it." in response.text
    item.refresh_from_db()
    assert item.status == ActionStatus.OPEN
    assert item.done_at is None


@pytest.mark.django_db
def test_a_manager_drops_an_item_with_a_note_and_reopens_it(client, users):
    item = make_action(make_meeting(users), users[Role.SALES])
    client.force_login(users[Role.MANAGER])
    assert post_update(client, item, "dropped", note="Not needed any more.").status_code == 302
    item.refresh_from_db()
    assert (item.status, item.note) == (ActionStatus.DROPPED, "Not needed any more.")
    assert item.done_at is not None
    assert post_update(client, item, "reopen").status_code == 302
    item.refresh_from_db()
    assert (item.status, item.done_at) == (ActionStatus.OPEN, None)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("decision", "note", "message"),
    [
        ("dropped", "", "Say why the action is dropped."),
        ("explode", "", "Select a valid choice."),
        ("done", "x" * 2001, "at most 2000 characters"),
    ],
)
def test_a_bad_update_is_refused(client, users, decision, note, message):
    item = make_action(make_meeting(users), users[Role.SALES])
    client.force_login(users[Role.SALES])
    response = post_update(client, item, decision, note=note)
    assert response.status_code == 400
    assert message in response.text
    item.refresh_from_db()
    assert (item.status, item.done_at, item.note) == (ActionStatus.OPEN, None, "")


@pytest.mark.django_db
def test_a_stale_update_is_refused_with_409(client, users):
    item = make_action(make_meeting(users), users[Role.SALES])
    seen_by_owner = action_version(item)
    # Meanwhile the manager drops it.
    manager = client.__class__()
    manager.force_login(users[Role.MANAGER])
    assert post_update(manager, item, "dropped", note="Merged with #2.").status_code == 302
    client.force_login(users[Role.SALES])
    response = post_update(client, item, "done", note="Did it.", seen=seen_by_owner)
    assert response.status_code == 409
    assert "changed this action item since you opened the page" in response.text
    item.refresh_from_db()
    assert (item.status, item.note) == (ActionStatus.DROPPED, "Merged with #2.")


@pytest.mark.django_db
def test_update_answers_only_post(client, users):
    item = make_action(make_meeting(users), users[Role.SALES])
    client.force_login(users[Role.SALES])
    assert client.get(reverse("update_action", args=[item.pk])).status_code == 405


# --- the meetings list ---------------------------------------------------------------


@pytest.mark.django_db
def test_the_list_counts_open_and_late_items_newest_meeting_first(client, users):
    older = make_meeting(users, held_on=today() - timedelta(days=40))
    newer = make_meeting(users, held_on=today() - timedelta(days=2))
    make_action(older, users[Role.SALES], due_on=today() - timedelta(days=1), title="Late one")
    make_action(older, users[Role.SALES], due_on=today() + timedelta(days=1), title="On time")
    make_action(
        older, users[Role.SALES], status="done", done_at=timezone.now(), title="Finished item"
    )
    client.force_login(users[Role.LOGISTICS])
    html = client.get(reverse("review_meetings"), **EN).text
    assert html.index(f'data-meeting="{newer.pk}"') < html.index(f'data-meeting="{older.pk}"')
    row = html[html.index(f'data-meeting="{older.pk}"') :].split("</tr>")[0]
    assert 'data-open="2"' in row
    assert 'data-late="1"' in row
    open_section = html[html.index('id="open-actions"') : html.index('id="meetings"')]
    assert "Late one" in open_section
    assert "On time" in open_section
    assert "Finished item" not in open_section


# --- the owner's dashboard -----------------------------------------------------------


@pytest.mark.django_db
def test_an_open_item_is_on_its_owners_dashboard_until_done(client, users):
    meeting = make_meeting(users)
    item = make_action(meeting, users[Role.SALES], title="Shorten the confirmation script")
    make_action(meeting, users[Role.WAREHOUSE], title="Label bins by zone")
    client.force_login(users[Role.SALES])
    html = client.get(reverse("sales_dashboard"), **EN).text
    assert "Your action items from review meetings" in html
    assert "Shorten the confirmation script" in html
    assert f'href="/review/meetings/{meeting.pk}/#action-{item.pk}"' in html
    assert "Label bins by zone" not in html
    post_update(client, item, "done")
    html = client.get(reverse("sales_dashboard"), **EN).text
    assert "Shorten the confirmation script" not in html
    assert "Your action items from review meetings" not in html


@pytest.mark.django_db
def test_a_late_item_is_marked_on_the_dashboard(client, users):
    meeting = make_meeting(users)
    make_action(meeting, users[Role.WAREHOUSE], due_on=today() - timedelta(days=3))
    client.force_login(users[Role.WAREHOUSE])
    html = client.get(reverse("warehouse:dashboard"), **EN).text
    section = html[html.index('id="my-review-actions"') :].split("</section>")[0]
    assert f"Late · {(today() - timedelta(days=3)).isoformat()}" in section


@pytest.mark.django_db
def test_the_dashboard_runs_as_many_queries_with_0_1_or_many_items(client, users):
    meeting = make_meeting(users)
    client.force_login(users[Role.SALES])
    url = reverse("sales_dashboard")
    client.get(url)  # warm up (session, content types)
    counts = []
    for n in (0, 1, 6):
        ActionItem.objects.all().delete()
        for i in range(n):
            make_action(meeting, users[Role.SALES], title=f"Item {i}")
        with CaptureQueriesContext(connection) as queries:
            html = client.get(url, **EN).text
        assert html.count('data-action="') == n
        counts.append(len(queries))
    assert counts[0] == counts[1] == counts[2]


@pytest.mark.django_db
def test_the_meeting_pages_run_as_many_queries_with_few_or_many_rows(client, users):
    client.force_login(users[Role.MANAGER])
    first = make_meeting(users)
    owners = [users[Role.SALES], users[Role.WAREHOUSE], users[Role.FINANCE]]

    def count(url):
        client.get(url)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    meeting_url = reverse("review_meeting", args=[first.pk])
    list_url = reverse("review_meetings")
    few = (count(list_url), count(meeting_url))
    for i in range(8):
        other = make_meeting(users, held_on=today() - timedelta(days=i + 1))
        make_action(other, owners[i % 3], title=f"Other {i}")
        make_action(first, owners[i % 3], title=f"First {i}", due_on=today() - timedelta(1))
    many = (count(list_url), count(meeting_url))
    assert few == many
