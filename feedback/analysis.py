"""Step 8's analysis: what customers answered in the satisfaction surveys of a period,
for Sales and the managers (``feedback:survey_analysis``).

Every figure is counted by PostgreSQL (conditional aggregates, grouped by week, by
question, by product, carrier, channel and salesperson): the page runs the same dozen
queries for ten surveys or for half a million. A period is read through the indexes
``survey_sent`` (what was sent) and ``survey_answered`` (what was answered):

- *sent* and the *response rate* follow the surveys sent in the period (a survey sent
  on its last day may be answered later: it counts as answered);
- everything customers said (answers, CSAT, NPS, scores, comments) follows the surveys
  answered in the period.

Weeks are ISO weeks (Monday to Sunday) in the business's time zone.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db.models import Avg, Count, Q
from django.db.models.functions import TruncWeek
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from orders.charts import Chart, bar_chart, line_chart
from orders.models import Channel

from .models import QuestionKind, Survey, SurveyAnswer, SurveyQuestion, SurveySettings

# A score of 4 or 5 is a satisfied customer (CSAT); a recommendation of 9 or 10 a
# promoter, of 0 to 6 a detractor (NPS).
SATISFIED_SCORE = 4
PROMOTER_FROM = 9
DETRACTOR_UP_TO = 6
SCORES = range(1, 6)
# Comments per page; rows per breakdown (the groups with the most answers).
COMMENTS_PER_PAGE = 20
BREAKDOWN_ROWS = 25
# The default period: the current week and the eleven before it.
DEFAULT_WEEKS = 12


def business_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def default_period(today: date) -> tuple[date, date]:
    """The last twelve weeks up to ``today``: from the Monday eleven weeks before this
    week's Monday (so that every week of the chart but the current one is whole)."""
    monday = today - timedelta(days=today.weekday())
    return monday - timedelta(weeks=DEFAULT_WEEKS - 1), today


def percent(part: int, whole: int) -> float | None:
    """``part`` of ``whole`` in per cent, or None when there is nothing to divide by."""
    if not whole:
        return None
    return round(100 * part / whole, 1)


def percent_text(value: float | None) -> str:
    if value is None:
        return "—"
    return _("%(value)s%%") % {"value": number_format(value, 1)}


@dataclass(frozen=True)
class Share:
    """A percentage and the counts behind it (None when the count is zero)."""

    part: int
    whole: int

    @property
    def value(self) -> float | None:
        return percent(self.part, self.whole)

    @property
    def text(self) -> str:
        """ "45.5%" in the reader's language; "—" when there is nothing to count."""
        return percent_text(self.value)

    @property
    def counts(self) -> str:
        return _("%(part)s of %(whole)s") % {"part": self.part, "whole": self.whole}


@dataclass(frozen=True)
class Figures:
    """What a group of answered surveys said: counts by score, recommendations."""

    answered: int = 0
    by_score: tuple[int, ...] = (0, 0, 0, 0, 0)
    recommended: int = 0  # answered with a likelihood to recommend
    promoters: int = 0
    detractors: int = 0

    @classmethod
    def from_row(cls, row: dict) -> "Figures":
        return cls(
            answered=row["answered"] or 0,
            by_score=tuple(row[f"score_{n}"] or 0 for n in SCORES),
            recommended=row["recommended"] or 0,
            promoters=row["promoters"] or 0,
            detractors=row["detractors"] or 0,
        )

    @property
    def csat(self) -> Share:
        return Share(sum(self.by_score[SATISFIED_SCORE - 1 :]), self.answered)

    @property
    def nps(self) -> float | None:
        """Per cent promoters minus per cent detractors, among those who answered the
        recommendation question (-100 to 100)."""
        if not self.recommended:
            return None
        return round(100 * (self.promoters - self.detractors) / self.recommended, 1)

    @property
    def nps_text(self) -> str:
        if self.nps is None:
            return "—"
        return ("+" if self.nps > 0 else "") + number_format(self.nps, 1)

    @property
    def nps_counts(self) -> str:
        return _("%(promoters)s promoters, %(detractors)s detractors of %(n)s") % {
            "promoters": self.promoters,
            "detractors": self.detractors,
            "n": self.recommended,
        }

    @property
    def average_text(self) -> str:
        return "—" if self.average_score is None else number_format(self.average_score, 2)

    @property
    def average_score(self) -> float | None:
        if not self.answered:
            return None
        total = sum(score * n for score, n in zip(SCORES, self.by_score, strict=True))
        return round(total / self.answered, 2)


def _figures(path: str = "", *, distinct: bool = False, where: Q | None = None) -> dict:
    """The aggregates behind ``Figures`` over surveys reached through ``path`` (e.g.
    "survey__"), restricted to ``where``. ``distinct`` counts each survey once where a
    join repeats it (an order with the same product on two lines)."""
    pk = f"{path}pk"
    base = where or Q()

    def count(condition: Q | None = None):
        return Count(pk, distinct=distinct, filter=base & condition if condition else base or None)

    aggregates = {
        "answered": count(),
        "recommended": count(Q(**{f"{path}recommend__isnull": False})),
        "promoters": count(Q(**{f"{path}recommend__gte": PROMOTER_FROM})),
        "detractors": count(Q(**{f"{path}recommend__lte": DETRACTOR_UP_TO})),
    }
    for score in SCORES:
        aggregates[f"score_{score}"] = count(Q(**{f"{path}score": score}))
    return aggregates


@dataclass
class Period:
    date_from: date
    date_to: date

    @property
    def start(self) -> datetime:
        return datetime.combine(self.date_from, time.min, business_zone())

    @property
    def end(self) -> datetime:
        """The start of the day after the last (the period is [start, end))."""
        return datetime.combine(self.date_to + timedelta(days=1), time.min, business_zone())

    @property
    def days(self) -> int:
        return (self.date_to - self.date_from).days + 1

    def mondays(self) -> list[date]:
        monday = self.date_from - timedelta(days=self.date_from.weekday())
        weeks = []
        while monday <= self.date_to:
            weeks.append(monday)
            monday += timedelta(weeks=1)
        return weeks


@dataclass(frozen=True)
class Week:
    monday: date
    sent: int
    responses: Share  # answered of the surveys sent that week
    figures: Figures  # the surveys answered that week

    @property
    def label(self) -> str:
        year, week, _day = self.monday.isocalendar()
        return f"{year}-W{week:02d}"

    @property
    def sunday(self) -> date:
        return self.monday + timedelta(days=6)


@dataclass(frozen=True)
class QuestionRow:
    question: SurveyQuestion
    answers: int
    average: float | None  # the average score (a scale question)
    yes: Share  # how many said yes (a yes/no question)
    low: Share

    @property
    def average_text(self) -> str:
        return "—" if self.average is None else number_format(self.average, 2)

    @property
    def is_scale(self) -> bool:
        return self.question.kind == QuestionKind.SCALE

    @property
    def label(self) -> str:
        return f"{self.question.get_step_display()} · {self.question.code}"


@dataclass(frozen=True)
class GroupRow:
    label: str
    figures: Figures


@dataclass(frozen=True)
class Breakdown:
    rows: list[GroupRow]
    more: bool  # more groups than shown (the ones with the most answers are shown)


@dataclass
class Report:
    period: Period
    channel: str
    q: str
    sent: int
    responses: Share
    figures: Figures
    weeks: list[Week]
    questions: list[QuestionRow]
    low_score: int
    by_product: Breakdown
    by_carrier: Breakdown
    by_channel: Breakdown
    by_salesperson: Breakdown
    comments: Page
    charts: dict[str, Chart] = field(default_factory=dict)

    @property
    def channel_label(self) -> str:
        return str(Channel(self.channel).label) if self.channel else ""

    @property
    def has_answers(self) -> bool:
        return self.figures.answered > 0

    @property
    def has_surveys(self) -> bool:
        return self.sent > 0 or self.figures.answered > 0


def _surveys(period: Period, channel: str):
    """The surveys sent or answered in the period (two index ranges, OR-ed)."""
    surveys = Survey.objects.filter(
        Q(sent_at__gte=period.start, sent_at__lt=period.end)
        | Q(answered_at__gte=period.start, answered_at__lt=period.end)
    )
    if channel:
        surveys = surveys.filter(order__channel=channel)
    return surveys.order_by()


def _answered(period: Period, channel: str):
    surveys = Survey.objects.filter(answered_at__gte=period.start, answered_at__lt=period.end)
    if channel:
        surveys = surveys.filter(order__channel=channel)
    return surveys.order_by()


def _sent_in(period: Period) -> Q:
    return Q(sent_at__gte=period.start, sent_at__lt=period.end)


def _answered_in(period: Period) -> Q:
    return Q(answered_at__gte=period.start, answered_at__lt=period.end)


def _overall(period: Period, channel: str) -> tuple[int, Share, Figures]:
    sent_in = _sent_in(period)
    row = _surveys(period, channel).aggregate(
        sent=Count("pk", filter=sent_in),
        sent_answered=Count("pk", filter=sent_in & Q(answered_at__isnull=False)),
        **_figures(where=_answered_in(period)),
    )
    return row["sent"], Share(row["sent_answered"], row["sent"]), Figures.from_row(row)


def _local_monday(moment: datetime) -> date:
    return moment.astimezone(business_zone()).date()


def _weeks(period: Period, channel: str) -> list[Week]:
    zone = business_zone()
    sent_rows = (
        _surveys(period, channel)
        .filter(_sent_in(period))
        .annotate(week=TruncWeek("sent_at", tzinfo=zone))
        .values("week")
        .annotate(sent=Count("pk"), answered=Count("pk", filter=Q(answered_at__isnull=False)))
    )
    answered_rows = (
        _answered(period, channel)
        .annotate(week=TruncWeek("answered_at", tzinfo=zone))
        .values("week")
        .annotate(**_figures())
    )
    sent = {_local_monday(row["week"]): row for row in sent_rows}
    answered = {_local_monday(row["week"]): row for row in answered_rows}
    weeks = []
    for monday in period.mondays():
        sent_row = sent.get(monday, {"sent": 0, "answered": 0})
        answered_row = answered.get(monday)
        weeks.append(
            Week(
                monday=monday,
                sent=sent_row["sent"],
                responses=Share(sent_row["answered"], sent_row["sent"]),
                figures=Figures.from_row(answered_row) if answered_row else Figures(),
            )
        )
    return weeks


def _questions(period: Period, channel: str, low_score: int) -> list[QuestionRow]:
    answers = SurveyAnswer.objects.filter(
        survey__answered_at__gte=period.start, survey__answered_at__lt=period.end
    )
    if channel:
        answers = answers.filter(survey__order__channel=channel)
    low = Q(question__kind=QuestionKind.YES_NO, value=0) | Q(
        question__kind=QuestionKind.SCALE, value__lte=low_score
    )
    rows = list(
        answers.order_by()
        .values("question")
        .annotate(
            answers=Count("pk"),
            average=Avg("value"),
            yes=Count("pk", filter=Q(question__kind=QuestionKind.YES_NO, value=1)),
            low=Count("pk", filter=low),
        )
    )
    questions = SurveyQuestion.objects.select_related("question_set").in_bulk(
        [row["question"] for row in rows]
    )
    result = [
        QuestionRow(
            question=questions[row["question"]],
            answers=row["answers"],
            average=round(float(row["average"]), 2) if row["average"] is not None else None,
            yes=Share(row["yes"], row["answers"]),
            low=Share(row["low"], row["answers"]),
        )
        for row in rows
    ]
    result.sort(
        key=lambda r: (-r.question.question_set.version, r.question.position, r.question.pk)
    )
    return result


def _breakdown(rows, label) -> Breakdown:
    rows = list(rows[: BREAKDOWN_ROWS + 1])
    shown = [GroupRow(label=label(row), figures=Figures.from_row(row)) for row in rows]
    return Breakdown(rows=shown[:BREAKDOWN_ROWS], more=len(shown) > BREAKDOWN_ROWS)


def _grouped(surveys, *keys, distinct=False):
    return (
        surveys.values(*keys).annotate(**_figures(distinct=distinct)).order_by("-answered", *keys)
    )


def _person(row) -> str:
    if row["order__salesperson"] is None:
        return _("No salesperson")
    name = " ".join(
        part
        for part in (row["order__salesperson__first_name"], row["order__salesperson__last_name"])
        if part
    )
    return name or row["order__salesperson__username"]


def _comments(period: Period, channel: str, q: str, page_number) -> Page:
    comments = _answered(period, channel).exclude(comment="")
    if q:
        comments = comments.filter(comment__icontains=q)
    comments = comments.select_related("order").order_by("-answered_at", "-pk")
    return Paginator(comments, COMMENTS_PER_PAGE).get_page(page_number)


def survey_analysis(*, date_from: date, date_to: date, channel="", q="", page=None) -> Report:
    """Every figure of the analysis page for a period (local dates, both included),
    optionally one channel; the comments matching ``q``, one page of them."""
    period = Period(date_from, date_to)
    low_score = SurveySettings.load().low_score
    sent, responses, figures = _overall(period, channel)
    answered = _answered(period, channel)
    channels = dict(Channel.choices)
    return Report(
        period=period,
        channel=channel,
        q=q,
        sent=sent,
        responses=responses,
        figures=figures,
        weeks=_weeks(period, channel),
        questions=_questions(period, channel, low_score),
        low_score=low_score,
        by_product=_breakdown(
            _grouped(
                answered, "order__lines__product", "order__lines__product__name", distinct=True
            ),
            lambda row: row["order__lines__product__name"] or "—",
        ),
        by_carrier=_breakdown(
            _grouped(answered, "carrier"), lambda row: row["carrier"] or _("Carrier not known")
        ),
        by_channel=_breakdown(
            _grouped(answered, "order__channel"),
            lambda row: str(channels.get(row["order__channel"], row["order__channel"])),
        ),
        by_salesperson=_breakdown(
            _grouped(
                answered,
                "order__salesperson",
                "order__salesperson__first_name",
                "order__salesperson__last_name",
                "order__salesperson__username",
            ),
            _person,
        ),
        comments=_comments(period, channel, q, page),
    )


def charts(report: Report) -> dict[str, Chart]:
    """The weekly trend and the low answers per question, drawn in the reader's
    language; none when there is nothing to draw."""
    drawn = {}
    if report.has_surveys:
        weeks = report.weeks
        drawn["weekly"] = line_chart(
            "survey-weeks",
            _("CSAT, NPS and response rate by week"),
            [week.label for week in weeks],
            {
                _("CSAT (percent)"): [week.figures.csat.value for week in weeks],
                _("NPS"): [week.figures.nps for week in weeks],
                _("Response rate (percent)"): [week.responses.value for week in weeks],
            },
            y_label=_("Percent (NPS: −100 to 100)"),
            y_min=-100,
            y_max=100,
        )
    if report.questions:
        drawn["low"] = bar_chart(
            "survey-low-answers",
            _("Share of low answers by question"),
            [(row.label, row.low.value or 0) for row in report.questions],
            x_label=_("Percent of the question's answers"),
        )
    return drawn
