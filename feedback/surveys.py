"""Step 8: the satisfaction survey, sent once per received order, answered once on a
signed page, and the follow-ups a low score opens for the owner of the step it
concerns (the process definition says who).

Once per order, whatever runs at the same time: the sweep locks the order row before
it looks for a survey, and the order's one-to-one survey is the database's guarantee.
The survey row, its timeline event and the email's Notification are written in one
transaction, so a worker that dies mid-sweep leaves either all of them or none; an
email recorded but not sent is re-queued by the deadline sweep (orders.tasks).
"""

import logging
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.db.models.functions import Upper
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from orders import timeline
from orders.models import NotificationKind, Order, ProcessStep, Status, StepCode
from orders.roles import Role, has_role
from orders.services import (
    OrderActionError,
    OrderChanged,
    TransitionForbidden,
    notify_customer,
)

from .models import (
    AskWhen,
    QuestionSet,
    Receipt,
    Survey,
    SurveyAnswer,
    SurveyFollowUp,
    SurveyOptOut,
    SurveyQuestion,
    SurveySettings,
)

logger = logging.getLogger(__name__)

SURVEY_SALT = "feedback.survey"
OPT_OUT_SALT = "feedback.survey.opt_out"
# Orders surveyed per sweep: a backlog is worked off over the next runs.
BATCH = 500


class SurveyLinkInvalid(OrderActionError):
    """A survey link that was not made here (tampered, truncated, another site's)."""


class SurveyExpired(OrderActionError):
    """A genuine survey link past its expiry."""


class SurveyAnswered(OrderChanged):
    """The survey was answered already: a second answer is refused (kindly)."""


# ---------------------------------------------------------------------------
# Links


def survey_token(survey: Survey) -> str:
    return signing.Signer(salt=SURVEY_SALT).sign(str(survey.pk))


def opt_out_token(survey: Survey) -> str:
    return signing.Signer(salt=OPT_OUT_SALT).sign(str(survey.pk))


def survey_url(survey: Survey) -> str:
    path = reverse("feedback:survey", args=[survey_token(survey)])
    return settings.SITE_URL.rstrip("/") + path


def opt_out_url(survey: Survey) -> str:
    path = reverse("feedback:survey_opt_out", args=[opt_out_token(survey)])
    return settings.SITE_URL.rstrip("/") + path


def _unsign(token: str, salt: str) -> int:
    try:
        return int(signing.Signer(salt=salt).unsign(token))
    except (signing.BadSignature, ValueError):
        raise SurveyLinkInvalid(_("This survey link is not valid.")) from None


def survey_for_token(token: str, *, salt: str = SURVEY_SALT) -> Survey:
    """The survey a link names; SurveyLinkInvalid for a link not made here. Expiry is
    the caller's question (an expired survey's page still says so kindly)."""
    pk = _unsign(token, salt)
    survey = Survey.objects.select_related("order", "question_set").filter(pk=pk).first()
    if survey is None:
        raise SurveyLinkInvalid(_("This survey link is not valid."))
    return survey


def asked_questions(survey: Survey) -> list[SurveyQuestion]:
    """The questions of the survey's set that this order's customer is asked: the
    problem question only when they reported a problem."""
    return [
        question
        for question in survey.question_set.questions.all()
        if question.ask_when == AskWhen.ALWAYS
        or (question.ask_when == AskWhen.PROBLEM and survey.had_problem)
    ]


# ---------------------------------------------------------------------------
# Sending


def _opted_out():
    return SurveyOptOut.objects.annotate(address=Upper("email")).filter(
        address=Upper(OuterRef("order__contact_email"))
    )


def due_receipts(now=None):
    """Receipts whose order should get its survey now: received at least ``send_after``
    ago (and not longer than ``send_within`` before that), not cancelled, with an
    email address that did not opt out, and no survey yet."""
    now = now or timezone.now()
    config = SurveySettings.load()
    latest = now - config.send_after
    return (
        Receipt.objects.filter(
            confirmed_at__lte=latest,
            confirmed_at__gt=latest - config.send_within,
            order__survey__isnull=True,
        )
        .exclude(order__status=Status.CANCELLED)
        .exclude(order__contact_email="")
        .exclude(Exists(_opted_out()))
    )


def _carrier(order) -> str:
    """The carrier of the order's first shipment, as its timeline recorded it."""
    event = order.events.filter(code="shipment").order_by("created_at", "pk").first()
    return (event.data.get("carrier", "") if event else "")[:100]


def send_surveys(now=None) -> int:
    """Record each due order's survey and its email (sent after commit). Safe to run
    on two workers at once and after a worker died mid-way. Returns how many."""
    now = now or timezone.now()
    question_set = QuestionSet.objects.filter(active=True).first()
    if question_set is None:
        logger.warning("no active survey question set: no surveys sent")
        return 0
    config = SurveySettings.load()
    sent = 0
    order_ids = list(
        due_receipts(now).order_by("confirmed_at").values_list("order_id", flat=True)[:BATCH]
    )
    for order_id in order_ids:
        with transaction.atomic():
            order = Order.objects.select_for_update().get(pk=order_id)
            if order.status == Status.CANCELLED or Survey.objects.filter(order=order).exists():
                continue
            if _opted_out_address(order.contact_email):
                continue
            survey = Survey.objects.create(
                order=order,
                question_set=question_set,
                sent_at=now,
                expires_at=now + config.valid_for,
                had_problem=order.problem_cases.exists(),
                carrier=_carrier(order),
            )
            timeline.record(order, "survey_sent", created_at=now)
            notify_customer(order, NotificationKind.SURVEY, data=_email_data(survey))
            sent += 1
    return sent


def _opted_out_address(email: str) -> bool:
    return bool(email) and SurveyOptOut.objects.filter(email__iexact=email).exists()


def _email_data(survey: Survey) -> dict:
    return {
        "survey_url": survey_url(survey),
        "opt_out_url": opt_out_url(survey),
        "expires": timezone.localdate(survey.expires_at).isoformat(),
    }


def remind_surveys(now=None) -> int:
    """One reminder per unanswered survey, ``remind_after`` after it was sent, while
    its link is valid; claimed with a conditional UPDATE, so never twice."""
    now = now or timezone.now()
    config = SurveySettings.load()
    if config.remind_after is None:
        return 0
    waiting = Survey.objects.filter(
        answered_at__isnull=True,
        reminded_at__isnull=True,
        sent_at__lte=now - config.remind_after,
        expires_at__gt=now,
    ).values_list("pk", flat=True)
    reminded = 0
    for pk in list(waiting[:BATCH]):
        with transaction.atomic():
            claimed = Survey.objects.filter(
                pk=pk, answered_at__isnull=True, reminded_at__isnull=True
            ).update(reminded_at=now)
            if not claimed:
                continue
            survey = Survey.objects.select_related("order").get(pk=pk)
            if _opted_out_address(survey.order.contact_email):
                continue
            timeline.record(survey.order, "survey_reminder", created_at=now)
            notify_customer(
                survey.order, NotificationKind.SURVEY_REMINDER, data=_email_data(survey)
            )
            reminded += 1
    return reminded


def opt_out(survey: Survey, now=None) -> bool:
    """The address the survey went to gets no more surveys (nor this one's reminder).
    True when it was newly recorded; asking twice changes nothing."""
    email = survey.order.contact_email
    if not email:
        return False
    with transaction.atomic():
        if _opted_out_address(email):
            return False
        SurveyOptOut.objects.create(email=email, created_at=now or timezone.now())
        timeline.record(survey.order, "survey_opt_out", created_at=now)
    return True


# ---------------------------------------------------------------------------
# Answering


@dataclass(frozen=True)
class Concern:
    """A low answer: the overall score, the recommendation, or a step's question
    (its text kept in every language, so each reader sees their own)."""

    step: str
    kind: str
    value: int
    texts: dict | None = None
    answer: str = ""

    def as_json(self) -> dict:
        return {
            "kind": self.kind,
            "value": self.value,
            "text": self.texts or {},
            "answer": self.answer,
        }


def _texts(question) -> dict:
    return {
        code: getattr(question, f"text_{code.replace('-', '_')}", "") or question.text
        for code, _name in settings.LANGUAGES
    }


def answer(token_survey: Survey, *, score, recommend, comment, answers, now=None) -> Survey:
    """Record the customer's answers once (``answers``: {question pk: value}) and open a
    follow-up for each step answered low. SurveyAnswered for a second answer,
    SurveyExpired past the link's expiry."""
    now = now or timezone.now()
    with transaction.atomic():
        survey = (
            Survey.objects.select_for_update()
            .select_related("order", "question_set")
            .get(pk=token_survey.pk)
        )
        if survey.answered:
            raise SurveyAnswered(_("You have already answered this survey. Thank you!"))
        if survey.expired(now):
            raise SurveyExpired(_("This survey has closed. Thank you all the same."))
        asked = {question.pk: question for question in asked_questions(survey)}
        unknown = set(answers) - set(asked)
        if unknown:
            raise OrderActionError(_("Please answer the questions shown on the page."))
        survey.score = score
        survey.recommend = recommend
        survey.comment = (comment or "").strip()
        survey.answered_at = now
        survey.save(update_fields=["score", "recommend", "comment", "answered_at"])
        SurveyAnswer.objects.bulk_create(
            SurveyAnswer(survey=survey, question=asked[pk], value=value)
            for pk, value in answers.items()
            if value is not None
        )
        timeline.record(
            survey.order,
            "survey_answered",
            data={"score": score, "recommend": recommend},
            created_at=now,
        )
        _open_follow_ups(survey, _concerns(survey, asked, answers), now)
    return survey


def _concerns(survey, asked, answers) -> list[Concern]:
    config = SurveySettings.load()
    concerns = []
    if survey.score <= config.low_score:
        concerns.append(Concern(StepCode.FEEDBACK, "score", survey.score))
    if survey.recommend is not None and survey.recommend <= config.low_recommend:
        concerns.append(Concern(StepCode.FEEDBACK, "recommend", survey.recommend))
    for pk, value in answers.items():
        question = asked[pk]
        if value is not None and question.is_low(value, config.low_score):
            concerns.append(
                Concern(question.step, "question", value, _texts(question), question.kind)
            )
    return concerns


def _open_follow_ups(survey, concerns, now):
    """One follow-up per step answered low, for the step's owner (the order's
    salesperson when Sales owns it), due after the settings' follow-up time."""
    if not concerns:
        return
    config = SurveySettings.load()
    owners = dict(ProcessStep.objects.values_list("code", "role"))
    by_step: dict[str, list[Concern]] = {}
    for concern in concerns:
        by_step.setdefault(concern.step, []).append(concern)
    for step, found in by_step.items():
        role = owners.get(step, Role.SALES)
        follow_up = SurveyFollowUp.objects.create(
            survey=survey,
            order=survey.order,
            step=step,
            role=role,
            assignee_id=survey.order.salesperson_id if role == Role.SALES else None,
            concerns=[concern.as_json() for concern in found],
            created_at=now,
            due_at=now + config.follow_up_within,
        )
        timeline.record(
            survey.order,
            "survey_follow_up_opened",
            data={"step": step, "role": role, "follow_up": follow_up.pk},
            created_at=now,
        )


def resolve_follow_up(pk: int, *, by, resolution: str, now=None) -> SurveyFollowUp:
    """The owner (or a manager) records what was done; it goes on the timeline."""
    now = now or timezone.now()
    resolution = (resolution or "").strip()
    if not resolution:
        raise OrderActionError(_("Please say what was done."))
    with transaction.atomic():
        follow_up = SurveyFollowUp.objects.select_for_update().get(pk=pk)
        if not has_role(by, follow_up.role):
            raise TransitionForbidden(
                _("This follow-up is for %(role)s.") % {"role": Role(follow_up.role).label}
            )
        if follow_up.resolved_at is not None:
            raise OrderChanged(_("This follow-up was resolved meanwhile."))
        follow_up.resolved_at = now
        follow_up.resolved_by = by
        follow_up.resolution = resolution
        follow_up.save(update_fields=["resolved_at", "resolved_by", "resolution"])
        timeline.record(
            follow_up.order_id,
            "survey_follow_up_resolved",
            actor=by,
            note=resolution,
            data={"step": follow_up.step, "follow_up": follow_up.pk},
            created_at=now,
        )
    return follow_up


def escalate_follow_ups(now=None) -> int:
    """Follow-ups past their due time go to the managers, once each (a conditional
    UPDATE claims each one), like the other follow-ups."""
    now = now or timezone.now()
    escalated = 0
    overdue = SurveyFollowUp.objects.filter(
        resolved_at__isnull=True, escalated_at__isnull=True, due_at__lte=now
    ).values_list("pk", "order_id", "step")
    for pk, order_id, step in list(overdue):
        with transaction.atomic():
            claimed = SurveyFollowUp.objects.filter(
                pk=pk, resolved_at__isnull=True, escalated_at__isnull=True
            ).update(escalated_at=now)
            if claimed:
                timeline.record(
                    order_id,
                    "survey_follow_up_escalated",
                    data={"step": step, "follow_up": pk},
                    created_at=now,
                )
                escalated += 1
    return escalated
