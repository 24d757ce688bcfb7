"""Step 8 and the process review in a real Chromium, in English and in Simplified
Chinese.

1. The customer answers the satisfaction survey on a phone (touch for most choices, the
   keyboard for one of them and to send): the page speaks the order's language, not the
   browser's; the thank-you page follows and the link shows it again (answered once).
   The low answers open follow-ups; Logistics finds its two on its dashboard, resolves
   one from the order page, and the timeline shows the note.
2. A Manager reads the review pack of a period with step runs of known lengths (the
   per-step table, the charts as data: images, the PDF), records a review meeting and
   gives Sales an action item; Sales finds it on its dashboard and marks it done.

axe-core runs on the survey page and on the pack when it is installed (see
tests/browser/test_finance_a11y.py, whose helpers are used); serious and critical
violations fail.

Only ids, values and data in the order's language (the question set's own texts) are
matched in Chinese, so the same steps run in both languages."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from feedback import surveys
from feedback.models import Survey, SurveyFollowUp, SurveyQuestion
from feedback.services import confirm_receipt
from orders import services
from orders.models import ActionItem, ActionStatus, ReviewMeeting, Status, StepRun
from orders.roles import Role
from tests.browser.helpers import PHONE, assert_fits_phone, assert_no_sideways_scroll, screenshot
from tests.browser.test_finance_a11y import AXE, axe_violations, describe, split
from tests.factories import CustomerFactory, deliver, place, promise_date, ship, through_warehouse

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LANGUAGES = ["en", "zh-hans"]
# The browser asks for the other language: the survey must speak the order's.
OTHER = {"en": "zh-hans", "zh-hans": "en"}
# The seeded question set v1 (feedback/migrations/0013), in the order's language.
PACKAGING = {"en": "How was the packaging?", "zh-hans": "包装如何？"}
ON_TIME = {
    "en": "Did it arrive on the promised day and in the promised window?",
    "zh-hans": "货物是否在承诺的日期和时段送达？",
}
COMMENT = "The parcel came two days late and the box was crushed."
RESOLUTION = "Called the customer, apologised; the carrier was told about the late parcel."


def _no_axe_violations(page: Page, where: str):
    """axe-core's serious and critical violations on the page fail the test (the
    moderate and minor ones are printed); nothing is checked without axe-core."""
    if AXE is None:
        print(f"axe-core not installed: {where} not checked")
        return
    failing, _known, noted = split(axe_violations(page, AXE.read_text(encoding="utf-8")))
    if noted:
        print(f"axe, moderate and minor, {where}:\n{describe(noted)}")
    assert not failing, f"axe, {where}:\n{describe(failing)}"


def _focused(page: Page) -> str:
    """The focused element as 'name=value' (or its id)."""
    return page.evaluate(
        "(() => { const e = document.activeElement;"
        " return e.name && e.type === 'radio' ? `${e.name}=${e.value}` : e.id; })()"
    )


# ---------------------------------------------------------------------------
# 1. The survey


def _surveyed_order(language, sales, manager):
    """A delivered order of a customer who speaks ``language``, received 3 days and an
    hour ago, and its survey, sent by the sweep."""
    customer = CustomerFactory(language=language)
    order = place(customer=customer, by=manager, salesperson=sales)
    services.perform_action(order.pk, "confirm", by=manager, promised_date=promise_date())
    through_warehouse(order, by=manager)
    ship(order, by=manager)
    deliver(order)
    order.refresh_from_db()
    assert order.status == Status.DELIVERED
    received = timezone.now() - timedelta(days=3, hours=1)
    confirm_receipt(order.pk, how="customer", now=received)
    assert surveys.send_surveys() == 1
    return order, Survey.objects.get(order=order)


def _answer_on_the_phone(phone: Page, url, language, questions, shot):
    """Score 2 by touch; the recommendation 3 from the keyboard (Tab into the group,
    Space, arrows); packaging 1 and 'No' by touch; the comment typed; sent with Tab
    and Enter."""
    packaging, on_time = questions["packaging"], questions["arrived_on_time"]
    response = phone.goto(url)
    assert response.status == 200
    expect(phone.locator("html")).to_have_attribute("lang", language)
    form = phone.locator("#survey-form")
    expect(form.locator(f"#id_q{packaging.pk}_group legend")).to_contain_text(PACKAGING[language])
    expect(form.locator(f"#id_q{on_time.pk}_group legend")).to_contain_text(ON_TIME[language])
    # Asked only after a reported problem: not asked here.
    expect(form.locator(f"#id_q{questions['problem_handled'].pk}_group")).to_have_count(0)

    form.locator("label.choice:has(input[name='score'][value='2'])").tap()
    score_2 = form.locator("input[name='score'][value='2']")
    expect(score_2).to_be_checked()
    score_2.focus()
    phone.keyboard.press("Tab")
    assert _focused(phone) == "recommend=0"
    phone.keyboard.press("Space")
    for _ in range(3):
        phone.keyboard.press("ArrowRight")
    expect(form.locator("input[name='recommend'][value='3']")).to_be_checked()
    assert _focused(phone) == "recommend=3"

    form.locator(f"label.choice:has(input[name='q{packaging.pk}'][value='1'])").tap()
    form.locator(f"label.choice:has(input[name='q{on_time.pk}'][value='0'])").tap()
    expect(form.locator(f"input[name='q{packaging.pk}'][value='1']")).to_be_checked()
    expect(form.locator(f"input[name='q{on_time.pk}'][value='0']")).to_be_checked()
    form.locator("textarea[name='comment']").tap()
    phone.keyboard.type(COMMENT)
    assert_fits_phone(phone)
    screenshot(phone, f"{shot}-01-survey-phone")
    phone.keyboard.press("Tab")
    assert _focused(phone) == "send-survey"
    phone.keyboard.press("Enter")
    expect(phone.locator("#survey-thanks")).to_be_visible()
    expect(phone.locator("#survey-form")).to_have_count(0)
    expect(phone.locator("html")).to_have_attribute("lang", language)


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_survey_answered_on_a_phone_and_followed_up_by_logistics(
    open_page, live_server, staff, language
):
    base = live_server.url
    order, survey = _surveyed_order(language, staff["Sales"], staff["Manager"])
    url = base + reverse("feedback:survey", args=[surveys.survey_token(survey)])
    questions = {q.code: q for q in SurveyQuestion.objects.filter(question_set=survey.question_set)}
    shot = f"survey-{language}"

    # The customer's phone asks for the other language; the page speaks the order's.
    phone = open_page(language=OTHER[language], viewport=PHONE, phone=True)
    phone.goto(url)
    expect(phone.locator("#survey-form")).to_be_visible()
    _no_axe_violations(phone, f"survey page ({language})")
    _answer_on_the_phone(phone, url, language, questions, shot)
    assert_fits_phone(phone)
    screenshot(phone, f"{shot}-02-thanks-phone")

    survey.refresh_from_db()
    assert (survey.score, survey.recommend, survey.comment) == (2, 3, COMMENT)
    answers = {a.question.code: a.value for a in survey.answers.select_related("question")}
    assert answers == {"packaging": 1, "arrived_on_time": 0}

    # Answered once: the link shows the thanks again, and no form.
    response = phone.goto(url)
    assert response.status == 200
    expect(phone.locator("#survey-thanks")).to_be_visible()
    expect(phone.locator("#survey-form")).to_have_count(0)

    # Score 2 and recommendation 3: Sales (feedback); packaging 1: shipping; "No" on
    # time: tracking. Logistics owns shipping and tracking.
    opened = {f.step: f for f in SurveyFollowUp.objects.filter(order=order)}
    assert {step: f.role for step, f in opened.items()} == {
        "feedback": Role.SALES,
        "shipping": Role.LOGISTICS,
        "tracking": Role.LOGISTICS,
    }
    late_delivery = opened["tracking"]

    logistics = open_page(staff["Logistics"], language=language)
    logistics.goto(f"{base}/logistics/")
    panel = logistics.locator("#survey-follow-ups")
    expect(panel.locator("li[data-follow-up]")).to_have_count(2)
    expect(panel.locator(f"li[data-follow-up='{opened['feedback'].pk}']")).to_have_count(0)
    item = panel.locator(f"li[data-follow-up='{late_delivery.pk}']")
    expect(item).to_contain_text(order.number)
    expect(item).to_contain_text(ON_TIME[language])
    expect(panel.locator(f"li[data-follow-up='{opened['shipping'].pk}']")).to_contain_text("1 / 5")
    assert_no_sideways_scroll(logistics)
    screenshot(logistics, f"{shot}-03-logistics-dashboard")

    item.locator("a").click()
    expect(logistics).to_have_url(f"{base}{order.get_absolute_url()}#survey-panel")
    expect(logistics.locator("#survey-answers")).to_contain_text("2")
    expect(logistics.locator("#survey-comment")).to_contain_text(COMMENT)
    form = logistics.locator(f"#resolve-survey-follow-up-{late_delivery.pk}")
    form.locator("textarea[name='resolution']").fill(RESOLUTION)
    form.locator("button[type='submit']").click()
    expect(logistics.locator(f"#resolve-survey-follow-up-{late_delivery.pk}")).to_have_count(0)
    expect(logistics.locator(f"#survey-follow-up-{late_delivery.pk}")).to_contain_text(RESOLUTION)
    resolved = logistics.locator("#timeline li.ev-survey_follow_up_resolved")
    expect(resolved).to_have_count(1)
    expect(resolved.locator(".note")).to_have_text(RESOLUTION)
    expect(resolved.locator(".when")).to_contain_text(staff["Logistics"].get_full_name())
    screenshot(logistics, f"{shot}-04-order-resolved")
    late_delivery.refresh_from_db()
    assert late_delivery.resolved_by == staff["Logistics"]
    assert late_delivery.resolution == RESOLUTION

    # The dashboard keeps the packaging one only.
    logistics.goto(f"{base}/logistics/")
    expect(panel.locator("li[data-follow-up]")).to_have_count(1)
    expect(panel.locator(f"li[data-follow-up='{opened['shipping'].pk}']")).to_have_count(1)


# ---------------------------------------------------------------------------
# 2. The review pack and a review meeting

H = 3600


def _orders_with_timed_steps(manager):
    """Two orders whose steps took known times, two days ago (the clock stands still
    in between): A waits 30 h for its confirmation (target 24 h: over); B is confirmed
    after 2 h, picked 5 h later, shipped 1 h later and delivered 12 h later."""
    start = timezone.now() - timedelta(days=2)
    with time_machine.travel(start, tick=False) as clock:
        a, b = place(by=manager), place(by=manager)
        clock.shift(timedelta(hours=2))
        services.perform_action(b.pk, "confirm", by=manager, promised_date=promise_date())
        clock.shift(timedelta(hours=5))
        through_warehouse(b, by=manager)
        clock.shift(timedelta(hours=1))
        ship(b, by=manager)
        clock.shift(timedelta(hours=12))
        deliver(b)
        clock.shift(timedelta(hours=10))
        services.perform_action(a.pk, "confirm", by=manager, promised_date=promise_date())
    runs = {(run.order_id, run.step): run.seconds for run in StepRun.objects.all()}
    assert runs == {
        (a.pk, "confirmation"): 30 * H,
        (b.pk, "confirmation"): 2 * H,
        (b.pk, "processing"): 5 * H,
        (b.pk, "shipping"): 1 * H,
        (b.pk, "tracking"): 12 * H,
    }
    return a, b


# Steps table, by the steps' positions (1 placement ... 8 feedback): runs, orders,
# median, 90th percentile (percentile_cont), over target, share over target.
EXPECTED_STEPS = {
    2: ("2", "2", "16 h", "27 h 12 min", "1", "50.0%"),  # 2 h and 30 h
    3: ("1", "1", "5 h", "5 h", "0", "0.0%"),
    4: ("1", "1", "1 h", "1 h", "0", "0.0%"),
    5: ("1", "1", "12 h", "12 h", "0", "0.0%"),
    6: ("0", "0", "—", "—", "0", "—"),
}


def _check_steps_table(page: Page, language):
    rows = page.locator("#section-steps tbody tr")
    expect(rows).to_have_count(8)
    for position, (runs, orders, median, p90, over, share) in EXPECTED_STEPS.items():
        cells = rows.nth(position - 1).locator("td")
        expect(cells.nth(1)).to_have_text(runs)
        expect(cells.nth(2)).to_have_text(orders)
        expect(cells.nth(7)).to_have_text(over)
        expect(cells.nth(8)).to_have_text(share)
        if language == "en":  # durations are words ("16 h"); translated in Chinese
            expect(cells.nth(3)).to_have_text(median)
            expect(cells.nth(4)).to_have_text(p90)


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_review_pack_a_meeting_and_an_action_item_done_by_sales(
    open_page, live_server, staff, language
):
    base = live_server.url
    manager, sales = staff["Manager"], staff["Sales"]
    _orders_with_timed_steps(manager)
    today = timezone.localdate()
    start, end = today - timedelta(days=7), today
    shot = f"review-{language}"

    # The pack: the table per step, the charts, the PDF.
    boss = open_page(manager, language=language)
    query = f"start={start.isoformat()}&end={end.isoformat()}"
    response = boss.goto(f"{base}{reverse('review_pack')}?{query}")
    assert response.status == 200
    expect(boss.locator("html")).to_have_attribute("lang", language)
    _check_steps_table(boss, language)
    charts = boss.locator("section[aria-labelledby='charts-title'] figure.chart img")
    expect(charts).to_have_count(2)
    for src in charts.evaluate_all("images => images.map(i => i.getAttribute('src'))"):
        assert src.startswith("data:image/svg+xml"), src[:60]
    for image in charts.all():
        assert image.get_attribute("alt")
        assert image.evaluate("i => i.complete && i.naturalWidth > 0")
    assert_no_sideways_scroll(boss)
    screenshot(boss, f"{shot}-01-pack")
    _no_axe_violations(boss, f"review pack ({language})")

    pdf_link = boss.locator(".head-actions a[href*='pack.pdf']")
    expect(pdf_link).to_have_count(1)
    pdf = boss.request.get(base + pdf_link.get_attribute("href"))
    assert pdf.status == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.body()[:5] == b"%PDF-"

    # A review meeting: two departments, the pack's period, the findings.
    boss.goto(f"{base}{reverse('review_meetings')}")
    boss.locator(f".head-actions a[href='{reverse('new_review_meeting')}']").click()
    expect(boss).to_have_url(f"{base}{reverse('new_review_meeting')}")
    form = boss.locator("#content form.card")
    form.locator("#id_held_on").fill(today.isoformat())
    form.locator("input[name='departments'][value='Sales']").check()
    form.locator("input[name='departments'][value='Logistics']").check()
    form.locator("#id_period_start").fill(start.isoformat())
    form.locator("#id_period_end").fill(end.isoformat())
    findings = "Confirmation waited 30 h for order A: over its 24 h target."
    form.locator("#id_findings").fill(findings)
    form.locator("button[type='submit']").click()
    expect(boss.locator("#actions")).to_be_visible()
    meeting = ReviewMeeting.objects.get()
    expect(boss).to_have_url(f"{base}{reverse('review_meeting', args=[meeting.pk])}")
    assert sorted(meeting.departments) == ["Logistics", "Sales"]
    assert (meeting.held_on, meeting.period_start, meeting.period_end) == (today, start, end)
    assert meeting.findings == findings
    assert meeting.recorded_by == manager
    expect(boss.locator("#pack-link")).to_have_attribute(
        "href", f"{reverse('review_pack')}?{query}"
    )

    # An action item for Sales, due next week.
    due = today + timedelta(days=7)
    title = "Call back every phone order within 4 h"
    add = boss.locator("#add-action form")
    add.locator("#id_title").fill(title)
    add.locator("#id_step").select_option("confirmation")
    add.locator("#id_owner").select_option(str(sales.pk))
    add.locator("#id_due_on").fill(due.isoformat())
    add.locator("button[type='submit']").click()
    item = ActionItem.objects.get(meeting=meeting)
    row = boss.locator(f"#action-{item.pk}")
    expect(row).to_have_attribute("data-status", "open")
    expect(row).to_contain_text(title)
    expect(row).to_contain_text(sales.get_full_name())
    expect(row).to_contain_text(due.isoformat())
    assert (item.owner, item.due_on, item.step) == (sales, due, "confirmation")
    assert_no_sideways_scroll(boss)
    screenshot(boss, f"{shot}-02-meeting")

    # Sales sees it on its dashboard and marks it done.
    seller = open_page(sales, language=language)
    seller.goto(f"{base}{reverse('sales_dashboard')}")
    mine = seller.locator("#my-review-actions")
    expect(mine.locator("li[data-action]")).to_have_count(1)
    entry = mine.locator(f"li[data-action='{item.pk}']")
    expect(entry).to_contain_text(title)
    expect(entry).to_contain_text(due.isoformat())
    expect(entry).to_contain_text(today.isoformat())  # the meeting's day
    assert_no_sideways_scroll(seller)
    screenshot(seller, f"{shot}-03-sales-dashboard")
    entry.locator("a").click()
    expect(seller).to_have_url(
        f"{base}{reverse('review_meeting', args=[meeting.pk])}#action-{item.pk}"
    )
    # Sales may update its own item, but adds none.
    expect(seller.locator("#add-action")).to_have_count(0)
    seller.locator(f"#action-{item.pk} button[name='decision'][value='done']").click()
    expect(seller.locator(f"#action-{item.pk}")).to_have_attribute("data-status", "done")
    item.refresh_from_db()
    assert item.status == ActionStatus.DONE
    assert item.done_at is not None
    seller.goto(f"{base}{reverse('sales_dashboard')}")
    expect(seller.locator("#my-review-actions")).to_have_count(0)
