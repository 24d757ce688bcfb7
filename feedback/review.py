"""Feedback's part of the process review pack (``orders.review``): the customers'
scores per process step (survey answers by their question's step), the problem cases
by kind and the returns by reason. Aggregated in the database: a constant number of
queries whatever the period holds."""

from django.db.models import Avg, Count, Q
from django.utils.translation import gettext as _

from orders import review
from orders.models import ProcessStep

from .models import (
    ProblemCase,
    ProblemKind,
    QuestionKind,
    ReturnReason,
    ReturnRequest,
    SurveyAnswer,
    SurveySettings,
)


def sections(start_dt, end_dt) -> list[review.Section]:
    return [_rework(start_dt, end_dt), _scores(start_dt, end_dt)]


def _rework(start_dt, end_dt):
    cases = {
        row["kind"]: row
        for row in ProblemCase.objects.filter(opened_at__gte=start_dt, opened_at__lt=end_dt)
        .values("kind")
        .annotate(n=Count("pk"), orders=Count("order", distinct=True))
        .order_by("kind")
    }
    rows = []
    for kind in ProblemKind:
        row = cases.get(kind.value, {})
        rows.append(
            [
                _("Problem cases: %(kind)s") % {"kind": kind.label},
                row.get("n", 0),
                row.get("orders", 0),
            ]
        )
    returns = list(
        ReturnRequest.objects.filter(requested_at__gte=start_dt, requested_at__lt=end_dt)
        .values("reason")
        .annotate(n=Count("pk"), orders=Count("order", distinct=True))
        .order_by("reason")
    )
    names = {reason.pk: reason.name for reason in ReturnReason.objects.all()}
    for row in sorted(returns, key=lambda r: -r["n"]):
        rows.append(
            [
                _("Returns: %(reason)s") % {"reason": names.get(row["reason"], "—")},
                row["n"],
                row["orders"],
            ]
        )
    if not returns:
        rows.append([_("Returns"), 0, 0])
    return review.Section(
        title=_("Rework"), columns=review.rework_columns(), rows=rows, key=review.REWORK
    )


def _scores(start_dt, end_dt):
    low = (
        SurveySettings.objects.values_list("low_score", flat=True).first()
        or SurveySettings._meta.get_field("low_score").default
    )
    answers = (
        SurveyAnswer.objects.filter(
            survey__answered_at__gte=start_dt, survey__answered_at__lt=end_dt
        )
        .values("question__step", "question__kind")
        .annotate(
            n=Count("pk"),
            average=Avg("value"),
            yes=Count("pk", filter=Q(value=1)),
            low=Count(
                "pk",
                filter=Q(question__kind=QuestionKind.YES_NO, value=0)
                | Q(question__kind=QuestionKind.SCALE, value__lte=low),
            ),
        )
        .order_by("question__step", "question__kind")
    )
    steps = {step.code: (step.position, step.name) for step in ProcessStep.objects.all()}
    rows = []
    for row in sorted(answers, key=lambda r: (steps.get(r["question__step"], (99, ""))[0],)):
        scale = row["question__kind"] == QuestionKind.SCALE
        rows.append(
            [
                steps.get(row["question__step"], (0, row["question__step"]))[1],
                QuestionKind(row["question__kind"]).label,
                row["n"],
                review.Number(row["average"]) if scale else "—",
                "—" if scale else review.Share(row["yes"], row["n"]),
                review.Share(row["low"], row["n"]),
            ]
        )
    return review.Section(
        title=_("Customer scores per step"),
        columns=[
            _("Step"),
            _("Question"),
            _("Answers"),
            _("Average (1–5)"),
            _("Share yes"),
            _("Share low"),
        ],
        rows=rows,
        key="scores",
        note=_("Low: a score of %(low)d or less, or a 'no'.") % {"low": low},
    )


# Feedback's figures in every pack (imported from FeedbackConfig.ready()).
review.register(sections, position=50)
