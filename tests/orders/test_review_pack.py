"""The process review pack: its figures against hand-computed values on orders with
known timelines (driven through the real services with the clock moved), the page's
access and input checks, the CSV, the PDF (Chinese text, charts) and the packs that
are emailed once by themselves."""

import csv
import io
import re
import subprocess
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from orders import services
from orders.models import ActionItem, ProcessStep, ReviewMeeting, ReviewPackRun, StepRun
from orders.review import db as review_db
from orders.review.delivery import CLAIM_LEASE, claim, send_due_packs
from orders.review.pack import build_pack
from orders.roles import Role
from orders.services.review import record_process_changes, snapshot
from tests.factories import make_user, place, ship, through_warehouse

SHANGHAI = ZoneInfo("Asia/Shanghai")
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
START, END = date(2026, 3, 2), date(2026, 3, 8)  # Monday to Sunday


def at(day, hour, minute=0):
    return datetime(2026, 3, day, hour, minute, tzinfo=SHANGHAI)


def confirm(order, by):
    promised = (datetime.now(SHANGHAI) + timedelta(days=3)).date()
    services.perform_action(order.pk, "confirm", by=by, note="ok", promised_date=promised)


def drive(placed_at, confirmed_at, by, channel="phone"):
    with time_machine.travel(placed_at, tick=False):
        order = place(channel=channel, by=by)
    with time_machine.travel(confirmed_at, tick=False):
        confirm(order, by)
    return order


@pytest.fixture
def timelines(users):
    """Seven orders with known timelines around the week of 2 March 2026 (local)."""
    sales, warehouse = users[Role.SALES], users[Role.WAREHOUSE]
    other = make_user(Role.SALES, username="sales-two", first_name="Li", last_name="Na")
    orders = {}
    # Before the period, and ending before it: not counted.
    orders["G"] = drive(at(1, 10), at(1, 12), sales)
    # Placed the evening before the period, confirmed after midnight: counted (1 h).
    orders["E"] = drive(at(1, 23, 30), at(2, 0, 30), sales)
    orders["A"] = drive(at(2, 10), at(2, 14), sales)  # 4 h
    orders["B"] = drive(at(2, 20), at(4, 2), other)  # 30 h, across two midnights: late
    orders["C"] = drive(at(3, 23), at(4, 1), sales, channel="email")  # 2 h across midnight
    # The manager cuts the confirmation target to 2 hours on Thursday morning.
    with time_machine.travel(at(5, 9), tick=False):
        step = ProcessStep.objects.get(code="confirmation")
        before = snapshot(step, ["target"])
        step.target = timedelta(hours=2)
        step.save()
        record_process_changes(step, before, snapshot(step, ["target"]), users[Role.MANAGER])
    orders["D"] = drive(at(5, 10), at(5, 13), other)  # 3 h: late against the new 2 h
    # Confirmed after the period's end (Monday 00:30): not counted.
    orders["F"] = drive(at(8, 23), at(9, 0, 30), sales)
    # The warehouse: A acknowledged and picked the next morning, B two days late.
    with time_machine.travel(at(3, 9), tick=False):
        through_warehouse(orders["A"], by=warehouse)
    with time_machine.travel(at(3, 15), tick=False):
        ship(orders["A"], by=users[Role.LOGISTICS])
    with time_machine.travel(at(6, 10), tick=False):
        through_warehouse(orders["B"], by=warehouse)
    return orders


def english_pack():
    with translation.override("en"):
        return build_pack(START, END)


def section(pack, key):
    return next(s for s in pack.sections if s.key == key)


def row_for(sec, first):
    return next(row for row in sec.rows if str(row[0]) == first)


@pytest.mark.django_db
def test_step_figures_equal_hand_computed_values(timelines):
    pack = english_pack()
    confirmation = next(s for s in pack.steps if s.code == "confirmation")
    # E 1 h, C 2 h, D 3 h, A 4 h, B 30 h.
    assert confirmation.runs == 5
    assert confirmation.orders == 5
    assert confirmation.median == 10800
    # percentile_cont(0.9): position 3.6 between 14400 and 108000.
    assert confirmation.p90 == pytest.approx(14400 + 0.6 * (108000 - 14400))
    assert confirmation.breaches == 2  # B (30 h > 24 h) and D (3 h > the new 2 h)
    assert confirmation.share.value == 40.0
    assert confirmation.target == 7200
    assert sorted(confirmation.targets, key=lambda t: -t[0]) == [(86400, 4), (7200, 1)]
    assert confirmation.target_changed
    processing = next(s for s in pack.steps if s.code == "processing")
    # A 19 h (14:00 to 09:00 next day), B 56 h (Wed 02:00 to Fri 10:00).
    assert processing.runs == 2
    assert processing.median == (68400 + 201600) / 2
    assert processing.breaches == 1
    shipping = next(s for s in pack.steps if s.code == "shipping")
    assert (shipping.runs, shipping.median, shipping.breaches) == (1, 21600, 0)
    # What the steps table shows.
    steps = section(pack, "steps")
    names = {s.code: s.name_en for s in ProcessStep.objects.all()}
    row = row_for(steps, names["confirmation"])
    assert row[2:4] == [5, 5] and row[8] == 2 and str(row[9]) == "40.0%"


@pytest.mark.django_db
def test_breakdowns_and_worst_runs(timelines):
    pack = english_pack()
    names = {s.code: s.name_en for s in ProcessStep.objects.all()}
    owners = section(pack, "by_owner")
    li_na = [r for r in owners.rows if r[2] == "Li Na"]
    assert [(r[0], r[3], r[4]) for r in li_na] == [(names["confirmation"], 2, 2)]
    channels = section(pack, "by_channel")
    confirmation = [r for r in channels.rows if r[0] == names["confirmation"]]
    assert [(r[1], r[2], r[3]) for r in confirmation] == [("Email", 1, 0), ("Phone", 4, 2)]
    worst = section(pack, "worst")
    b, d = timelines["B"].number, timelines["D"].number
    assert [(str(r[0]), r[1], r[4].seconds) for r in worst.rows] == [
        (b, names["processing"], 201600 - 86400),
        (b, names["confirmation"], 108000 - 86400),
        (d, names["confirmation"], 10800 - 7200),
    ]
    assert worst.rows[0][0].url == reverse("order_detail", args=[b])
    carriers = section(pack, "by_carrier")
    assert [(r[1], r[2], r[3]) for r in carriers.rows] == [("Test Express", 1, 0)]


@pytest.mark.django_db
def test_handoffs_rework_and_changes(timelines):
    pack = english_pack()
    handoffs = section(pack, "handoffs")
    warehouse = next(r for r in handoffs.rows if str(r[0]).startswith("Sales → Warehouse"))
    # A acknowledged 19 h after its confirmation, B 56 h.
    assert warehouse[1] == 2
    assert warehouse[2].seconds == pytest.approx((68400 + 201600) / 2)
    assert warehouse[3].seconds == pytest.approx(68400 + 0.9 * (201600 - 68400))
    assert warehouse[4].seconds == pytest.approx(201600)
    shipped = next(r for r in handoffs.rows if str(r[0]).startswith("Warehouse → Logistics"))
    assert (shipped[1], shipped[2].seconds) == (1, pytest.approx(21600))
    rework = section(pack, "rework")
    assert row_for(rework, "Reviews failed")[1] == 0
    changes = section(pack, "changes")
    assert len(changes.rows) == 1
    assert changes.rows[0][2:4] == ["24 h", "2 h"]


@pytest.mark.django_db
def test_percentile_matches_python_interpolation(users):
    """The SQLite aggregate interpolates as percentile_cont does."""
    assert review_db.interpolate([3600, 7200, 10800, 14400, 108000], 0.9) == pytest.approx(70560)
    assert review_db.interpolate([5], 0.5) == 5
    assert review_db.interpolate([], 0.5) is None


def test_percentile_on_sqlite():
    """The same aggregate on SQLite, through the function registered per connection."""
    import sqlite3

    raw = sqlite3.connect(":memory:")
    raw.create_aggregate(review_db.SQLITE_PERCENTILE, 2, review_db._SqlitePercentile)
    raw.execute("create table t (v integer)")
    raw.executemany("insert into t values (?)", [(v,) for v in (1, 2, 3, 4, 10)])
    (value,) = raw.execute(f"select {review_db.SQLITE_PERCENTILE}(v, 0.9) from t").fetchone()
    assert value == pytest.approx(4 + 0.6 * 6)


# --- the page ----------------------------------------------------------------------


@pytest.mark.django_db
def test_page_shows_the_pack_to_staff(client, timelines, users):
    client.force_login(users[Role.WAREHOUSE])
    url = reverse("review_pack") + f"?start={START}&end={END}"
    response = client.get(url, **EN)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Process review pack" in html
    assert timelines["B"].number in html
    assert html.count('<figure class="chart">') >= 3
    assert 'style="' not in html and "<script>" not in html


@pytest.mark.django_db
def test_page_refuses_non_staff_and_sends_anonymous_to_login(client, users):
    url = reverse("review_pack")
    response = client.get(url)
    assert response.status_code == 302 and "login" in response["Location"]
    client.force_login(make_user(None, username="nobody"))
    for name in ("review_pack", "review_pack_pdf", "review_pack_csv"):
        assert client.get(reverse(name)).status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("start=2026-03-08&end=2026-03-01", "The end comes before the start."),
        ("start=2025-01-01&end=2026-01-02", "Choose at most 366 days at a time."),
        ("start=yesterday&end=2026-03-01", "Enter a valid date."),
        ("start=2026-03-01", "Enter the date."),
    ],
)
def test_bad_periods_are_refused(client, users, query, message):
    client.force_login(users[Role.SALES])
    for name in ("review_pack", "review_pack_pdf", "review_pack_csv"):
        response = client.get(reverse(name) + "?" + query, **EN)
        assert response.status_code == 400
        assert message in response.content.decode()


@pytest.mark.django_db
def test_a_full_year_is_accepted(client, users):
    client.force_login(users[Role.SALES])
    response = client.get(reverse("review_pack") + "?start=2025-01-01&end=2026-01-01", **EN)
    assert response.status_code == 200


@pytest.mark.django_db
def test_default_period_is_the_last_full_month(client, users):
    client.force_login(users[Role.SALES])
    with time_machine.travel(datetime(2026, 3, 1, 0, 30, tzinfo=SHANGHAI), tick=False):
        response = client.get(reverse("review_pack"), **EN)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'value="2026-02-01"' in html and 'value="2026-02-28"' in html
    # The quick links: Monday 16 to Sunday 22 February, and February.
    assert "start=2026-02-16&amp;end=2026-02-22" in html


@pytest.mark.django_db
def test_page_queries_do_not_grow_with_rows(client, users):
    client.force_login(users[Role.MANAGER])
    url = reverse("review_pack") + f"?start={START}&end={END}"
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    for day in range(2, 6):
        drive(at(day, 9), at(day, 11), users[Role.SALES])
        drive(at(day, 9), at(day, 21), users[Role.SALES], channel="online")
    with CaptureQueriesContext(connection) as many:
        assert client.get(url).status_code == 200
    assert StepRun.objects.count() >= 8
    assert len(many) == len(few)


# --- CSV and PDF -------------------------------------------------------------------


@pytest.mark.django_db
def test_csv_has_one_row_per_figure(client, timelines, users):
    ProcessStep.objects.filter(code="tracking").update(name_en="=HYPERLINK(1)")
    client.force_login(users[Role.FINANCE])
    response = client.get(reverse("review_pack_csv") + f"?start={START}&end={END}", **EN)
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["section", "item", "metric", "value", "unit", "shown"]
    names = {s.code: s.name_en for s in ProcessStep.objects.all()}
    figures = {(r[0], r[1], r[2]): r[3:] for r in rows[1:]}
    assert figures[("Steps", names["confirmation"], "Median")] == ["10800", "s", "3 h"]
    assert figures[("Steps", names["confirmation"], "Over target")] == ["2", "", "2"]
    assert figures[("Steps", names["confirmation"], "Share over target")][:2] == ["40.0", "%"]
    # Typed text that a spreadsheet would run as a formula is quoted.
    assert ("Steps", "'=HYPERLINK(1)", "Runs") in figures


def pdf_text(document: bytes, tmp_path) -> str:
    path = tmp_path / "pack.pdf"
    path.write_bytes(document)
    return subprocess.run(
        ["pdftotext", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout


@pytest.mark.django_db
def test_pdf_renders_chinese_text_and_charts(client, timelines, users, tmp_path):
    client.force_login(users[Role.MANAGER])
    response = client.get(
        reverse("review_pack_pdf") + f"?start={START}&end={END}", HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content, tmp_path)
    names = {s.code: s.name_zh_hans for s in ProcessStep.objects.all()}
    assert names["confirmation"] in text  # 订单确认, drawn with a CJK font
    assert timelines["B"].number in text
    # The charts are drawn as vector images (XObject forms): one per chart at least.
    forms = len(re.findall(rb"/Subtype\s*/Form", _inflated(response.content)))
    assert forms >= 3


def _inflated(document: bytes) -> bytes:
    """The PDF with its compressed streams inflated (object streams included)."""
    import zlib

    parts = [document]
    for match in re.finditer(rb"stream\r?\n", document):
        chunk = document[match.end() :]
        try:
            parts.append(zlib.decompressobj().decompress(chunk))
        except zlib.error:
            continue
    return b"".join(parts)


# --- packs produced by themselves --------------------------------------------------


@pytest.fixture
def managers(users):
    users[Role.MANAGER].email = "boss@o2d.example"
    users[Role.MANAGER].save()
    make_user(Role.MANAGER, username="gone", email="gone@o2d.example", is_active=False)
    make_user(Role.MANAGER, username="no-mail", email="")
    return ["boss@o2d.example"]


MORNING = datetime(2026, 3, 3, 7, 30, tzinfo=SHANGHAI)  # Tuesday


@pytest.mark.django_db
def test_packs_are_emailed_once(managers, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with time_machine.travel(MORNING, tick=False):
        assert send_due_packs() == 2
        assert send_due_packs() == 0
    assert len(mail.outbox) == 2
    runs = {r.period: r for r in ReviewPackRun.objects.all()}
    assert (runs["week"].start, runs["week"].end) == (date(2026, 2, 23), date(2026, 3, 1))
    assert (runs["month"].start, runs["month"].end) == (date(2026, 2, 1), date(2026, 2, 28))
    assert all(r.recipients == managers and r.emailed_at for r in runs.values())
    for message in mail.outbox:
        assert message.to == managers
        assert "/review/?start=2026-02-" in message.body
        (_name, content, kind) = message.attachments[0]
        assert kind == "application/pdf" and content[:5] == b"%PDF-"
    # The next morning nothing new is due; the next Monday the new week is.
    with time_machine.travel(MORNING + timedelta(days=1), tick=False):
        assert send_due_packs() == 0
    with time_machine.travel(MORNING + timedelta(days=6), tick=False):
        assert send_due_packs() == 1
    assert len(mail.outbox) == 3


@pytest.mark.django_db
def test_a_pack_claimed_by_a_dead_worker_is_sent_after_the_lease(managers, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with time_machine.travel(MORNING, tick=False):
        week = ReviewPackRun.objects.create(
            period="week", start=date(2026, 2, 23), end=date(2026, 3, 1)
        )
        assert claim(week, MORNING)  # the worker dies here, before its send
        assert send_due_packs() == 1  # the month only: the week's claim is live
    assert [m.subject for m in mail.outbox] == [mail.outbox[0].subject]
    assert "2026-02" in mail.outbox[0].subject and "02-23" not in mail.outbox[0].subject
    later = MORNING + CLAIM_LEASE + timedelta(seconds=1)
    with time_machine.travel(later, tick=False):
        assert send_due_packs() == 1
        assert send_due_packs() == 0
    assert len(mail.outbox) == 2
    week.refresh_from_db()
    assert week.recipients == managers


@pytest.mark.django_db
def test_open_action_items_are_listed_with_late_ones_marked(users, timelines):
    meeting = ReviewMeeting.objects.create(
        held_on=date(2026, 3, 2),
        departments=[Role.SALES],
        period_start=date(2026, 2, 1),
        period_end=date(2026, 2, 28),
        findings="Confirmations are slow.",
        recorded_by=users[Role.MANAGER],
    )
    owner = users[Role.SALES]
    created = at(2, 12)
    ActionItem.objects.create(
        meeting=meeting,
        title="Call back within 2 h",
        owner=owner,
        due_on=date(2026, 3, 4),
        created_at=created,
    )
    ActionItem.objects.create(
        meeting=meeting,
        title="Later one",
        owner=owner,
        due_on=date(2099, 1, 1),
        created_at=created,
    )
    ActionItem.objects.create(
        meeting=meeting,
        title="After the period",
        owner=owner,
        due_on=date(2099, 1, 1),
        created_at=at(20, 12),
    )
    pack = english_pack()
    actions = section(pack, "actions")
    assert [(r[0], str(r[3])) for r in actions.rows] == [
        ("Call back within 2 h", "Late"),
        ("Later one", ""),
    ]


@pytest.mark.django_db
def test_department_sections_failed_reviews_and_customer_scores(timelines, users):
    from feedback.models import QuestionSet, Survey, SurveyAnswer
    from tests.factories import reviewer
    from warehouse import services as warehouse

    # C is picked and packed on Thursday, and its review fails.
    with time_machine.travel(at(5, 9), tick=False):
        through_warehouse(timelines["C"], by=users[Role.WAREHOUSE], review=False)
    with time_machine.travel(at(5, 10), tick=False):
        warehouse.review_order(timelines["C"].pk, by=reviewer(), passed=False, notes="wrong")
    # Two customers answer the survey in the period, one after it.
    questions = {q.code: q for q in QuestionSet.objects.get(active=True).questions.all()}
    answers = {
        "A": (at(6, 12), {"confirmed_as_agreed": 1, "packaging": 2}),
        "B": (at(7, 12), {"confirmed_as_agreed": 0, "packaging": 5}),
        "E": (at(9, 12), {"confirmed_as_agreed": 0, "packaging": 1}),
    }
    for key, (when, values) in answers.items():
        survey = Survey.objects.create(
            order=timelines[key],
            question_set=questions["packaging"].question_set,
            sent_at=at(2, 8),
            expires_at=at(28, 8),
            answered_at=when,
            score=3,
        )
        for code, value in values.items():
            SurveyAnswer.objects.create(survey=survey, question=questions[code], value=value)
    pack = english_pack()
    assert row_for(section(pack, "rework"), "Reviews failed")[1:] == [1, 1]
    scores = {r[0]: r for r in section(pack, "scores").rows}
    names = {s.code: s.name_en for s in ProcessStep.objects.all()}
    confirmation, shipping = scores[names["confirmation"]], scores[names["shipping"]]
    # Yes/no: one yes of two (50 %), one no (50 % low).
    assert (confirmation[2], str(confirmation[4]), str(confirmation[5])) == (2, "50.0%", "50.0%")
    # Scores 2 and 5: average 3.50; 2 is low (at or below the low score 2).
    assert (shipping[2], str(shipping[3]), str(shipping[5])) == (2, "3.50", "50.0%")
