"""Step 8: the satisfaction survey. Sent once per received order a set time after
receipt (never to a cancelled order or an address that opted out), one reminder, a
signed expiring page answered once, and a follow-up for the owner of each step
answered low. The clock is moved, never slept; the moments are instants, so the tests
pass at any hour in Asia/Shanghai."""

import threading
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import signing
from django.db import connection
from django.urls import reverse
from django.utils import timezone, translation

from feedback import services, surveys, tasks
from feedback.models import (
    ProblemKind,
    QuestionSet,
    Survey,
    SurveyAnswer,
    SurveyFollowUp,
    SurveyOptOut,
    SurveySettings,
)
from orders import emails
from orders.models import Notification, NotificationKind, OrderEvent, ProcessStep, Status
from orders.roles import Role
from orders.services import cancel_order

pytestmark = pytest.mark.django_db

# Receipt at 22:30 in Shanghai tomorrow: the survey's 3 days cross midnight, and its
# link is still valid when a test posts without moving the clock.
T0 = (timezone.localtime(timezone.now(), ZoneInfo("Asia/Shanghai")) + timedelta(days=1)).replace(
    hour=22, minute=30, second=0, microsecond=0
)
SEND_AFTER = timedelta(days=3)
MINUTE = timedelta(minutes=1)


@pytest.fixture
def received(order_in, users):
    """A delivered order whose customer confirmed receipt at T0."""
    order = order_in(Status.DELIVERED, salesperson=users[Role.SALES])
    with time_machine.travel(T0, tick=False):
        services.confirm_receipt(order.pk, how="customer")
    order.refresh_from_db()
    return order


def sweep_at(moment) -> int:
    with time_machine.travel(moment, tick=False):
        return tasks.send_surveys.apply().get()


def sent_survey(order) -> Survey:
    sweep_at(T0 + SEND_AFTER)
    return Survey.objects.get(order=order)


def questions(survey) -> dict:
    return {q.code: q for q in survey.question_set.questions.all()}


def form_data(survey, score=5, recommend=9, comment="", **answers):
    data = {"score": str(score), "comment": comment}
    if recommend is not None:
        data["recommend"] = str(recommend)
    by_code = questions(survey)
    for code, value in answers.items():
        data[f"q{by_code[code].pk}"] = str(value)
    return data


@pytest.fixture
def english(client, settings):
    """The visitor chose English with the language switcher (else the page speaks the
    language the order was written in)."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def survey_path(survey):
    return reverse("feedback:survey", args=[surveys.survey_token(survey)])


# ---------------------------------------------------------------------------
# Sending


def test_the_survey_is_sent_once_the_set_time_after_receipt(received):
    assert sweep_at(T0 + SEND_AFTER - MINUTE) == 0
    assert not Survey.objects.exists()
    assert sweep_at(T0 + SEND_AFTER) == 1
    survey = Survey.objects.get(order=received)
    assert survey.sent_at == T0 + SEND_AFTER
    assert survey.expires_at == T0 + SEND_AFTER + SurveySettings.load().valid_for
    assert survey.question_set == QuestionSet.objects.get(active=True)
    notification = Notification.objects.get(order=received, kind=NotificationKind.SURVEY)
    assert notification.to == received.contact_email
    assert received.events.filter(code="survey_sent").count() == 1
    # However often the sweep runs afterwards, nothing more is sent.
    assert sweep_at(T0 + SEND_AFTER + timedelta(hours=1)) == 0
    assert Notification.objects.filter(order=received, kind=NotificationKind.SURVEY).count() == 1


def test_the_delay_is_the_admins(received):
    SurveySettings.objects.filter(pk=1).update(send_after=timedelta(days=5))
    assert sweep_at(T0 + SEND_AFTER) == 0
    assert sweep_at(T0 + timedelta(days=5)) == 1


def test_the_email_is_in_the_customers_language_with_a_working_link(received, client):
    received.contact_language = "zh-hant"
    received.save(update_fields=["contact_language"])
    sweep_at(T0 + SEND_AFTER)
    notification = Notification.objects.get(kind=NotificationKind.SURVEY)
    message = emails.render_notification(notification)
    assert received.number in message.subject
    assert "您的訂單" in message.body  # Traditional, as the customer wrote the order
    link = notification.data["survey_url"]
    assert link.startswith("http") and "/feedback/survey/" in link
    path = link[link.index("/feedback/") :]
    with time_machine.travel(T0 + SEND_AFTER + MINUTE, tick=False):
        page = client.get(path)
    assert page.status_code == 200
    assert 'lang="zh-hant"' in page.content.decode()


def test_no_survey_for_a_cancelled_order(order_in, users):
    order = order_in(Status.CONFIRMED, salesperson=users[Role.SALES])
    with time_machine.travel(T0, tick=False):
        # A receipt cannot exist for a cancelled order through the services; a
        # receipt recorded by hand before the cancellation must still not be surveyed.
        from feedback.models import Receipt

        Receipt.objects.create(order=order, confirmed_at=T0, how="phone")
        cancel_order(order.pk, by=users[Role.MANAGER], note="customer changed their mind")
    assert sweep_at(T0 + SEND_AFTER) == 0
    assert not Survey.objects.exists()


def test_no_survey_for_an_address_that_opted_out(received):
    SurveyOptOut.objects.create(email=received.contact_email.upper())
    assert sweep_at(T0 + SEND_AFTER) == 0
    assert not Notification.objects.filter(kind=NotificationKind.SURVEY).exists()


def test_no_survey_for_receipts_older_than_the_sending_window(received):
    late = T0 + SEND_AFTER + SurveySettings.load().send_within + MINUTE
    assert sweep_at(late) == 0


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_send_each_survey_once(order_in, users):
    orders = [order_in(Status.DELIVERED, salesperson=users[Role.SALES]) for _ in range(3)]
    with time_machine.travel(T0, tick=False):
        for order in orders:
            services.confirm_receipt(order.pk, how="customer")
    barrier = threading.Barrier(2)
    counts = []

    def sweep():
        try:
            barrier.wait()
            counts.append(surveys.send_surveys(now=T0 + SEND_AFTER))
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(counts) == 3
    assert Survey.objects.count() == 3
    assert Notification.objects.filter(kind=NotificationKind.SURVEY).count() == 3
    assert OrderEvent.objects.filter(code="survey_sent").count() == 3


def test_one_reminder_when_unanswered(received):
    survey = sent_survey(received)
    remind_after = SurveySettings.load().remind_after
    assert sweep_at(survey.sent_at + remind_after - MINUTE) == 0
    assert not Notification.objects.filter(kind=NotificationKind.SURVEY_REMINDER).exists()
    sweep_at(survey.sent_at + remind_after)
    reminder = Notification.objects.get(kind=NotificationKind.SURVEY_REMINDER)
    assert (
        reminder.data["survey_url"]
        == Notification.objects.get(kind=NotificationKind.SURVEY).data["survey_url"]
    )
    sweep_at(survey.sent_at + remind_after + timedelta(days=1))
    assert Notification.objects.filter(kind=NotificationKind.SURVEY_REMINDER).count() == 1


def test_no_reminder_after_an_answer(received, client):
    survey = sent_survey(received)
    with time_machine.travel(survey.sent_at + MINUTE, tick=False):
        assert client.post(survey_path(survey), form_data(survey)).status_code == 302
    sweep_at(survey.sent_at + SurveySettings.load().remind_after + MINUTE)
    assert not Notification.objects.filter(kind=NotificationKind.SURVEY_REMINDER).exists()


# ---------------------------------------------------------------------------
# The page


def test_a_tampered_link_is_refused(received, english, client):
    survey = sent_survey(received)
    token = surveys.survey_token(survey)
    other = signing.Signer(salt="another.salt").sign(str(survey.pk))
    for bad in (token[:-2] + "xx", other, f"{survey.pk}", "nonsense"):
        page = client.get(reverse("feedback:survey", args=[bad]), HTTP_ACCEPT_LANGUAGE="en")
        assert page.status_code == 404
        assert "This survey link is not valid." in page.content.decode()
    forged = signing.Signer(salt=surveys.SURVEY_SALT).sign(str(survey.pk + 1000))
    assert client.get(reverse("feedback:survey", args=[forged])).status_code == 404


def test_an_expired_link_is_refused_kindly(received, english, client):
    survey = sent_survey(received)
    with time_machine.travel(survey.expires_at, tick=False):
        page = client.post(survey_path(survey), form_data(survey), HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 410
    assert "This survey has closed" in page.content.decode()
    survey.refresh_from_db()
    assert survey.answered_at is None


def test_answering_records_everything_and_twice_is_refused_kindly(received, english, client):
    survey = sent_survey(received)
    answered_at = survey.sent_at + timedelta(hours=2)
    data = form_data(
        survey, score=4, recommend=8, comment="Fast, thanks", confirmed_as_agreed=1, packaging=4
    )
    with time_machine.travel(answered_at, tick=False):
        response = client.post(survey_path(survey), data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 302
    survey.refresh_from_db()
    assert (survey.score, survey.recommend, survey.comment) == (4, 8, "Fast, thanks")
    assert survey.answered_at == answered_at
    assert {(a.question.code, a.value) for a in survey.answers.all()} == {
        ("confirmed_as_agreed", 1),
        ("packaging", 4),
    }
    assert not SurveyFollowUp.objects.exists()
    again = client.post(survey_path(survey), form_data(survey, score=1), HTTP_ACCEPT_LANGUAGE="en")
    assert again.status_code == 409
    assert "Thank you for your answers" in again.content.decode()
    survey.refresh_from_db()
    assert survey.score == 4
    assert SurveyAnswer.objects.count() == 2
    assert received.events.filter(code="survey_answered").count() == 1


@pytest.mark.parametrize(
    "change",
    [
        {"score": ""},
        {"score": "0"},
        {"score": "6"},
        {"score": "five"},
        {"recommend": "11"},
        {"recommend": "-1"},
        {"comment": "x" * 2001},
        {"comment": "nul\x00byte"},
    ],
)
def test_bad_answers_are_a_400_with_nothing_written(received, english, client, change):
    survey = sent_survey(received)
    data = {**form_data(survey, packaging=9), **change}
    response = client.post(survey_path(survey), data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert "Please check the answers marked below." in response.content.decode()
    survey.refresh_from_db()
    assert survey.answered_at is None
    assert not SurveyAnswer.objects.exists()


def test_the_problem_question_is_asked_only_after_a_problem(order_in, users, english, client):
    plain = order_in(Status.DELIVERED, salesperson=users[Role.SALES])
    troubled = order_in(Status.DELIVERED, salesperson=users[Role.SALES])
    with time_machine.travel(T0, tick=False):
        services.confirm_receipt(plain.pk, how="customer")
        case, _created = services.report_problem(
            troubled.pk, kind=ProblemKind.DAMAGED, details="box crushed", photos=[], key="k" * 32
        )
        services.resolve_case(case.pk, by=users[Role.SALES], resolution="replacement sent")
        services.confirm_receipt(troubled.pk, how="customer")
    sweep_at(T0 + SEND_AFTER)
    for order, asked in ((plain, False), (troubled, True)):
        survey = Survey.objects.get(order=order)
        codes = {q.code for q in surveys.asked_questions(survey)}
        assert ("problem_handled" in codes) is asked
        page = client.get(survey_path(survey), HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert ("How well was the problem you reported handled?" in page) is asked
    # Answering a question that was not asked is refused.
    survey = Survey.objects.get(order=plain)
    problem = questions(survey)["problem_handled"]
    with pytest.raises(surveys.OrderActionError):
        surveys.answer(survey, score=5, recommend=None, comment="", answers={problem.pk: 5})


def test_opting_out_from_the_link(received, client):
    survey = sent_survey(received)
    path = reverse("feedback:survey_opt_out", args=[surveys.opt_out_token(survey)])
    assert client.get(path).status_code == 200
    assert client.post(path, HTTP_ACCEPT_LANGUAGE="en").status_code == 200
    assert client.post(path).status_code == 200  # twice: nothing more
    assert SurveyOptOut.objects.filter(email__iexact=received.contact_email).count() == 1
    # The survey's own link is not an opt-out link, and the reverse.
    bad = reverse("feedback:survey_opt_out", args=[surveys.survey_token(survey)])
    assert client.post(bad).status_code == 404
    # No reminder for an address that opted out.
    sweep_at(survey.sent_at + SurveySettings.load().remind_after + MINUTE)
    assert not Notification.objects.filter(kind=NotificationKind.SURVEY_REMINDER).exists()


# ---------------------------------------------------------------------------
# Low scores


def test_low_answers_open_a_follow_up_for_each_steps_owner(received, english, client, users):
    survey = sent_survey(received)
    answered_at = survey.sent_at + timedelta(hours=1)
    data = form_data(
        survey,
        score=2,
        recommend=3,
        comment="Box was crushed and it came a day late",
        confirmed_as_agreed=1,
        packaging=1,
        arrived_on_time=0,
    )
    with time_machine.travel(answered_at, tick=False):
        assert client.post(survey_path(survey), data).status_code == 302
    owners = dict(ProcessStep.objects.values_list("code", "role"))
    follow_ups = {f.step: f for f in SurveyFollowUp.objects.all()}
    # Overall and recommend -> the feedback step; packaging -> shipping; late -> tracking.
    assert set(follow_ups) == {"feedback", "shipping", "tracking"}
    for step, follow_up in follow_ups.items():
        assert follow_up.role == owners[step]
        assert follow_up.due_at == answered_at + SurveySettings.load().follow_up_within
    assert follow_ups["feedback"].assignee == users[Role.SALES]
    with translation.override("en"):
        assert follow_ups["shipping"].shown_concerns == [("How was the packaging?", "1 / 5")]
        assert follow_ups["tracking"].shown_concerns == [
            ("Did it arrive on the promised day and in the promised window?", "No")
        ]
        assert follow_ups["feedback"].shown_concerns == [
            ("Overall score", "2 / 5"),
            ("Likelihood to recommend", "3 / 10"),
        ]
    assert received.events.filter(code="survey_follow_up_opened").count() == 3


def test_a_follow_up_is_on_its_roles_dashboard_and_resolved_there(received, english, client, users):
    survey = sent_survey(received)
    with time_machine.travel(survey.sent_at + MINUTE, tick=False):
        client.post(survey_path(survey), form_data(survey, score=5, packaging=1))
    follow_up = SurveyFollowUp.objects.get()
    # The process definition gives "review and shipping" (packing) to Logistics.
    owner = ProcessStep.objects.get(code="shipping").role
    assert follow_up.role == owner == Role.LOGISTICS
    client.force_login(users[Role.LOGISTICS])
    dashboard = client.get(reverse("logistics:dashboard"), HTTP_ACCEPT_LANGUAGE="en")
    assert f'data-follow-up="{follow_up.pk}"' in dashboard.content.decode()
    client.force_login(users[Role.WAREHOUSE])
    other = client.get(reverse("warehouse:dashboard")).content.decode()
    assert f'data-follow-up="{follow_up.pk}"' not in other
    # Another team may not resolve it.
    path = reverse("feedback:resolve_survey_follow_up", args=[follow_up.pk])
    refused = client.post(path, {"resolution": "not mine"}, HTTP_ACCEPT_LANGUAGE="en")
    assert refused.status_code == 403
    client.force_login(users[Role.LOGISTICS])
    assert client.post(path, {"resolution": "  "}).status_code == 400
    done = client.post(path, {"resolution": "New padding for fragile goods"})
    assert done.status_code == 302
    follow_up.refresh_from_db()
    assert follow_up.resolved_by == users[Role.LOGISTICS]
    event = received.events.get(code="survey_follow_up_resolved")
    assert event.note == "New padding for fragile goods"
    again = client.post(path, {"resolution": "again"})
    assert again.status_code == 409
    dashboard = client.get(reverse("logistics:dashboard")).content.decode()
    assert f'data-follow-up="{follow_up.pk}"' not in dashboard


def test_a_late_follow_up_is_escalated_once(received, client, users):
    survey = sent_survey(received)
    answered_at = survey.sent_at + MINUTE
    with time_machine.travel(answered_at, tick=False):
        client.post(survey_path(survey), form_data(survey, score=1))
    follow_up = SurveyFollowUp.objects.get()
    assert surveys.escalate_follow_ups(now=follow_up.due_at - MINUTE) == 0
    assert surveys.escalate_follow_ups(now=follow_up.due_at) == 1
    assert surveys.escalate_follow_ups(now=follow_up.due_at + timedelta(days=1)) == 0
    assert received.events.filter(code="survey_follow_up_escalated").count() == 1
    client.force_login(users[Role.MANAGER])
    with time_machine.travel(follow_up.due_at + MINUTE, tick=False):
        page = client.get(reverse("manager_dashboard")).content.decode()
    assert f'data-follow-up="{follow_up.pk}"' in page


def test_the_staff_order_page_shows_the_answers(received, english, client, users):
    survey = sent_survey(received)
    with time_machine.travel(survey.sent_at + MINUTE, tick=False):
        client.post(survey_path(survey), form_data(survey, score=3, comment="OK <b>fine</b>"))
    client.force_login(users[Role.SALES])
    page = client.get(received.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'id="survey-panel"' in page
    assert "OK &lt;b&gt;fine&lt;/b&gt;" in page


# The survey's query budget: the survey with its order and question set, and the
# questions (the page has no session to read).
SURVEY_PAGE = 2


def test_the_survey_page_budget(received, client, django_assert_max_num_queries):
    survey = sent_survey(received)
    with django_assert_max_num_queries(SURVEY_PAGE):
        assert client.get(survey_path(survey)).status_code == 200
