"""The survey analysis page (feedback:survey_analysis): figures counted by hand on a
small fixture, weeks in local time, questions, breakdowns, comments, roles, bad input
and a query count that does not grow with the surveys."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from feedback.models import QuestionSet, Survey, SurveyAnswer, SurveySettings
from orders import services
from orders.roles import Role
from tests.factories import ProductFactory, place

SH = ZoneInfo("Asia/Shanghai")
URL = reverse("feedback:survey_analysis")
# A Wednesday; the fixture's period is the two ISO weeks before it:
# 2026-W10 (2 to 8 March) and 2026-W11 (9 to 15 March).
NOW = datetime(2026, 3, 18, 12, 0, tzinfo=SH)
PERIOD = {"date_from": "2026-03-02", "date_to": "2026-03-15"}


def at(day, hour=10, minute=0):
    """A local (Asia/Shanghai) time in March 2026 (or another month: (month, day))."""
    month, day = day if isinstance(day, tuple) else (3, day)
    return datetime(2026, month, day, hour, minute, tzinfo=SH)


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def questions(db):
    """The questions of the active set seeded by feedback 0013, by code."""
    active = QuestionSet.objects.get(active=True)
    return {q.code: q for q in active.questions.all()}


def make_survey(order, *, sent, answered=None, score=None, recommend=None, comment="", **kw):
    return Survey.objects.create(
        order=order,
        question_set=QuestionSet.objects.get(active=True),
        sent_at=sent,
        expires_at=sent + timedelta(days=21),
        answered_at=answered,
        score=score,
        recommend=recommend,
        comment=comment,
        **kw,
    )


def answer(survey, questions, **values):
    for code, value in values.items():
        SurveyAnswer.objects.create(survey=survey, question=questions[code], value=value)


def order_with(*products, channel="phone", salesperson=None):
    return place(
        lines=[services.LineRequest(product, 1) for product in products],
        channel=channel,
        salesperson=salesperson,
    )


@pytest.fixture
def fixture(users, questions):
    """Nine surveys around the period 2 to 15 March 2026 (see the module's figures)."""
    a, b, c = (ProductFactory(name=name) for name in ("Alpha", "Bravo", "Charlie"))
    sales = users[Role.SALES]
    s = {}
    s[1] = make_survey(
        order_with(a, b, salesperson=sales),
        sent=at(3),
        answered=at(4),
        score=5,
        recommend=10,
        comment="Great packaging",
        carrier="SF Express",
    )
    s[2] = make_survey(
        order_with(a, salesperson=sales),
        sent=at(3),
        answered=at(5),
        score=4,
        recommend=9,
        carrier="SF Express",
    )
    s[3] = make_survey(
        order_with(b, channel="email"),
        sent=at(4),
        answered=at(6),
        score=3,
        recommend=7,
        comment="slow DELIVERY",
        carrier="ZTO",
    )
    s[4] = make_survey(
        order_with(a, c),
        sent=at(10),
        answered=at(11),
        score=2,
        recommend=3,
        comment="Delivery was late",
        carrier="ZTO",
    )
    s[5] = make_survey(order_with(a), sent=at(10))  # not answered
    s[6] = make_survey(order_with(b), sent=at(11))  # not answered
    # Sent before the period, answered in it.
    s[7] = make_survey(order_with(c), sent=at((2, 20)), answered=at(3), score=1)
    # Sent in the period, answered after it (Monday 16 March, 02:00 local).
    s[8] = make_survey(
        order_with(a),
        sent=at(14),
        answered=at(16, 2),
        score=1,
        recommend=0,
        comment="Delivery after the period",
    )
    # Outside the period altogether.
    s[9] = make_survey(
        order_with(b), sent=at((2, 1)), answered=at((2, 3)), score=1, recommend=0, comment="Old"
    )
    answer(s[1], questions, confirmed_as_agreed=1, packaging=5, arrived_on_time=1)
    answer(s[2], questions, confirmed_as_agreed=1, packaging=2, arrived_on_time=0)
    answer(s[3], questions, confirmed_as_agreed=0, packaging=3, arrived_on_time=1)
    answer(
        s[4], questions, confirmed_as_agreed=1, packaging=1, arrived_on_time=0, problem_handled=2
    )
    answer(s[7], questions, packaging=4)
    answer(s[8], questions, confirmed_as_agreed=0, packaging=1, arrived_on_time=0)
    answer(s[9], questions, confirmed_as_agreed=0, packaging=1)
    return s


def get(client, user, **params):
    client.force_login(user)
    return client.get(URL, params, HTTP_ACCEPT_LANGUAGE="en")


def report_of(client, users, **params):
    response = get(client, users[Role.SALES], **{**PERIOD, **params})
    assert response.status_code == 200
    return response, response.context["report"]


# ---------------------------------------------------------------------------
# Figures


def test_overall_figures(client, users, fixture):
    response, report = report_of(client, users)
    # Sent in the period: 1, 2, 3, 4, 5, 6, 8; of them answered: 1, 2, 3, 4, 8.
    assert report.sent == 7
    assert (report.responses.part, report.responses.whole) == (5, 7)
    assert report.responses.value == 71.4
    # Answered in the period: 1, 2, 3, 4, 7 with scores 5, 4, 3, 2, 1.
    figures = report.figures
    assert figures.answered == 5
    assert (figures.csat.part, figures.csat.whole, figures.csat.value) == (2, 5, 40.0)
    assert figures.average_score == 3.0
    # Recommend 10, 9, 7, 3 (7 has none): 2 promoters, 1 detractor of 4.
    assert (figures.promoters, figures.detractors, figures.recommended) == (2, 1, 4)
    assert figures.nps == 25.0
    html = response.content.decode()
    assert 'id="overall-csat">40.0%<' in html
    assert 'id="overall-response-rate">71.4%<' in html
    assert 'id="overall-nps">+25.0<' in html
    assert "2 of 5" in html and "5 of 7 sent answered" in html
    assert "Period: 2026-03-02 to 2026-03-15 (14 days, local dates)." in html


def test_weeks(client, users, fixture):
    _response, report = report_of(client, users)
    assert [week.label for week in report.weeks] == ["2026-W10", "2026-W11"]
    w10, w11 = report.weeks
    # W10: sent 1, 2, 3 (all answered); answered 1, 2, 3, 7 (scores 5, 4, 3, 1).
    assert (w10.sent, w10.responses.part, w10.responses.value) == (3, 3, 100.0)
    assert (w10.figures.answered, w10.figures.csat.part, w10.figures.csat.value) == (4, 2, 50.0)
    assert w10.figures.nps == 66.7  # 10, 9, 7: 2 promoters of 3
    # W11: sent 4, 5, 6, 8 (4 and 8 answered); answered 4 (score 2, recommend 3).
    assert (w11.sent, w11.responses.part, w11.responses.value) == (4, 2, 50.0)
    assert (w11.figures.answered, w11.figures.csat.value, w11.figures.nps) == (1, 0.0, -100.0)


def test_week_boundary_in_local_time(client, users):
    """Sunday 23:30 and Monday 00:30 in Shanghai are both Sunday in UTC: the first is
    in its week, the second in the next."""
    make_survey(order_with(ProductFactory()), sent=at(9), answered=at(15, 23, 30), score=5)
    make_survey(order_with(ProductFactory()), sent=at(9), answered=at(16, 0, 30), score=1)
    _response, report = report_of(client, users, date_from="2026-03-09", date_to="2026-03-18")
    weeks = {week.label: week for week in report.weeks}
    assert list(weeks) == ["2026-W11", "2026-W12"]
    assert weeks["2026-W11"].figures.answered == 1
    assert weeks["2026-W11"].figures.csat.value == 100.0
    assert weeks["2026-W12"].figures.answered == 1
    assert weeks["2026-W12"].figures.csat.value == 0.0
    assert weeks["2026-W11"].sent == 2 and weeks["2026-W12"].sent == 0
    # The period ends with its last local day: Monday 00:30 is outside a period to Sunday.
    _response, report = report_of(client, users, date_from="2026-03-09", date_to="2026-03-15")
    assert report.figures.answered == 1


def test_questions(client, users, fixture, questions):
    _response, report = report_of(client, users)
    rows = {row.question.code: row for row in report.questions}
    assert list(rows) == [
        "confirmed_as_agreed",
        "packaging",
        "arrived_on_time",
        "problem_handled",
    ]
    confirmed = rows["confirmed_as_agreed"]  # 1, 1, 0, 1
    assert (confirmed.answers, confirmed.yes.part, confirmed.yes.value) == (4, 3, 75.0)
    assert (confirmed.low.part, confirmed.low.value) == (1, 25.0)
    packaging = rows["packaging"]  # 5, 2, 3, 1, 4; low score 2
    assert (packaging.answers, packaging.average) == (5, 3.0)
    assert (packaging.low.part, packaging.low.value) == (2, 40.0)
    on_time = rows["arrived_on_time"]  # 1, 0, 1, 0
    assert (on_time.answers, on_time.yes.value, on_time.low.value) == (4, 50.0, 50.0)
    handled = rows["problem_handled"]  # 2
    assert (handled.answers, handled.average, handled.low.value) == (1, 2.0, 100.0)


def test_low_score_follows_the_settings(client, users, fixture):
    settings_row = SurveySettings.load()
    settings_row.low_score = 3
    settings_row.save()
    _response, report = report_of(client, users)
    packaging = next(row for row in report.questions if row.question.code == "packaging")
    assert (packaging.low.part, packaging.low.value) == (3, 60.0)  # 2, 3 and 1


def test_question_text_in_the_readers_language(client, users, fixture):
    client.force_login(users[Role.SALES])
    response = client.get(URL, PERIOD, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "包装如何？" in response.content.decode()
    response = client.get(URL, PERIOD, HTTP_ACCEPT_LANGUAGE="en")
    assert "How was the packaging?" in response.content.decode()


def rows_of(breakdown):
    return {
        row.label: (
            row.figures.answered,
            row.figures.average_score,
            row.figures.csat.value,
            row.figures.nps,
        )
        for row in breakdown.rows
    }


def test_by_product_counts_each_product_of_an_order(client, users, fixture):
    _response, report = report_of(client, users)
    assert rows_of(report.by_product) == {
        "Alpha": (3, 3.67, 66.7, 33.3),  # surveys 1, 2, 4
        "Bravo": (2, 4.0, 50.0, 50.0),  # surveys 1, 3
        "Charlie": (2, 1.5, 0.0, -100.0),  # surveys 4, 7 (7 has no recommendation)
    }


def test_a_product_on_two_lines_counts_once(client, users):
    product = ProductFactory(name="Twice")
    order = place(lines=[services.LineRequest(product, 1), services.LineRequest(product, 2)])
    assert order.lines.count() == 2
    make_survey(order, sent=at(3), answered=at(4), score=4, recommend=10)
    _response, report = report_of(client, users)
    assert rows_of(report.by_product) == {"Twice": (1, 4.0, 100.0, 100.0)}


def test_by_carrier_channel_and_salesperson(client, users, fixture):
    _response, report = report_of(client, users)
    assert rows_of(report.by_carrier) == {
        "SF Express": (2, 4.5, 100.0, 100.0),
        "ZTO": (2, 2.5, 0.0, -50.0),
        "Carrier not known": (1, 1.0, 0.0, None),
    }
    assert rows_of(report.by_channel) == {
        "Phone": (4, 3.0, 50.0, 33.3),  # 1, 2, 4, 7: recommend 10, 9, 3
        "Email": (1, 3.0, 0.0, 0.0),  # 3: recommend 7
    }
    sales = users[Role.SALES]
    assert rows_of(report.by_salesperson) == {
        sales.get_full_name() or sales.username: (2, 4.5, 100.0, 100.0),
        "No salesperson": (3, 2.0, 0.0, -50.0),
    }


def test_channel_filter(client, users, fixture):
    _response, report = report_of(client, users, channel="email")
    assert report.sent == 1 and report.figures.answered == 1
    assert report.figures.csat.value == 0.0
    assert [row.label for row in report.by_product.rows] == ["Bravo"]


# ---------------------------------------------------------------------------
# Comments


def test_comments_newest_first_and_searched(client, users, fixture):
    response, report = report_of(client, users)
    assert [s.comment for s in report.comments] == [
        "Delivery was late",
        "slow DELIVERY",
        "Great packaging",
    ]
    html = response.content.decode()
    order = fixture[4].order
    assert f'<a href="/orders/{order.number}/">{order.number}</a>' in html
    _response, report = report_of(client, users, q="  delivery ")
    assert [s.comment for s in report.comments] == ["Delivery was late", "slow DELIVERY"]
    _response, report = report_of(client, users, q="nothing like this")
    assert list(report.comments) == []


def test_comments_paginated(client, users):
    product = ProductFactory()
    for n in range(25):
        make_survey(
            order_with(product),
            sent=at(3),
            answered=at(4) + timedelta(minutes=n),
            score=4,
            comment=f"comment {n:02d}",
        )
    _response, report = report_of(client, users)
    assert report.comments.paginator.count == 25
    assert len(report.comments) == 20
    assert report.comments[0].comment == "comment 24"
    _response, report = report_of(client, users, page=2)
    assert [s.comment for s in report.comments] == [f"comment {n:02d}" for n in range(4, -1, -1)]
    for bad, first in (("999", "comment 04"), ("abc", "comment 24"), ("-1", "comment 04")):
        _response, report = report_of(client, users, page=bad)
        assert report.comments[0].comment == first


# ---------------------------------------------------------------------------
# Empty, default period, roles, bad input


def test_empty_period(client, users):
    response, report = report_of(client, users)
    html = response.content.decode()
    assert report.sent == 0 and report.figures.answered == 0
    assert "No surveys were sent or answered in this period." in html
    assert "No answers in this period." in html
    assert "<img" not in html
    assert 'id="survey-weeks"' not in html
    assert 'id="overall-csat">—<' in html


def test_charts_drawn_with_data(client, users, fixture):
    response, _report = report_of(client, users)
    html = response.content.decode()
    assert html.count('<figure class="chart"><img src="data:image/svg+xml;base64,') == 2


def test_default_period_is_twelve_weeks(client, users):
    response = get(client, users[Role.SALES])
    assert response.status_code == 200
    html = response.content.decode()
    # Wednesday 18 March: from Monday 29 December (eleven weeks before 16 March).
    assert 'value="2025-12-29"' in html and 'value="2026-03-18"' in html
    assert len(response.context["report"].weeks) == 12


def test_roles(client, users):
    assert get(client, users[Role.WAREHOUSE]).status_code == 403
    assert get(client, users[Role.SALES]).status_code == 200
    assert get(client, users[Role.MANAGER]).status_code == 200
    client.logout()
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"date_from": "2026-13-01"}, "Enter a valid date."),
        ({"date_to": "yesterday"}, "Enter a valid date."),
        (
            {"date_from": "2026-03-10", "date_to": "2026-03-01"},
            "The start date must not be after the end date.",
        ),
        (
            {"date_from": "2025-01-01", "date_to": "2026-01-02"},
            "Choose a period of at most 366 days.",
        ),
        ({"channel": "fax"}, "Select a valid choice."),
        ({"date_from": "1999-12-31"}, "Enter a date between 2000-01-01 and"),
        ({"q": "a\x00b"}, "Null characters are not allowed."),
    ],
)
def test_bad_input_is_400(client, users, params, message):
    response = get(client, users[Role.SALES], **params)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert response.context["report"] is None


def test_a_year_with_a_leap_day_is_allowed(client, users):
    response = get(client, users[Role.SALES], date_from="2024-01-01", date_to="2024-12-31")
    assert response.status_code == 200


# ---------------------------------------------------------------------------
# Queries


def make_answered(n, questions):
    products = [ProductFactory() for _ in range(3)]
    for i in range(n):
        survey = make_survey(
            order_with(*products[: 1 + i % 3], channel=("phone", "email")[i % 2]),
            sent=at(3 + i % 10),
            answered=at(4 + i % 10) if i % 4 else None,
            score=1 + i % 5 if i % 4 else None,
            recommend=i % 11 if i % 4 else None,
            comment=f"comment {i}" if i % 4 else "",
            carrier=f"Carrier {i % 3}",
        )
        if i % 4:
            answer(survey, questions, confirmed_as_agreed=i % 2, packaging=1 + i % 5)


def count_queries(client, user):
    client.force_login(user)
    client.get(URL, PERIOD)  # the session and the settings row
    with CaptureQueriesContext(connection) as queries:
        response = client.get(URL, PERIOD, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    return len(queries)


def test_queries_do_not_grow_with_surveys(client, users, questions):
    make_answered(5, questions)
    few = count_queries(client, users[Role.MANAGER])
    make_answered(45, questions)
    many = count_queries(client, users[Role.MANAGER])
    assert few == many
    assert many <= 15
