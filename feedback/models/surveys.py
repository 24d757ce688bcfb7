"""Step 8: the satisfaction survey, its versioned question sets, the answers, the
addresses that asked for no surveys, and the follow-ups a low score opens."""

from datetime import timedelta

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from orders.models import Order, StepCode
from orders.roles import Role

SCORE_MAX = 5
RECOMMEND_MAX = 10


class SurveySettings(models.Model):
    """When surveys go out and what counts as a low score: one row, edited in the admin
    (``SurveySettings.load()`` creates it with the defaults)."""

    send_after = models.DurationField(
        _("send after receipt"),
        default=timedelta(days=3),
        validators=[MinValueValidator(timedelta(minutes=1)), MaxValueValidator(timedelta(days=90))],
        help_text=_("How long after the customer received the order the survey is sent."),
    )
    remind_after = models.DurationField(
        _("remind after"),
        null=True,
        blank=True,
        default=timedelta(days=4),
        validators=[MinValueValidator(timedelta(hours=1)), MaxValueValidator(timedelta(days=60))],
        help_text=_("One reminder this long after the survey, if it is unanswered. Empty: none."),
    )
    valid_for = models.DurationField(
        _("link valid for"),
        default=timedelta(days=21),
        validators=[MinValueValidator(timedelta(days=1)), MaxValueValidator(timedelta(days=365))],
    )
    send_within = models.DurationField(
        _("no survey for receipts older than"),
        default=timedelta(days=14),
        validators=[MinValueValidator(timedelta(days=1)), MaxValueValidator(timedelta(days=365))],
        help_text=_(
            "Counted after the sending time: orders received longer ago (e.g. before "
            "surveys were switched on, or while the sweep was stopped) get none."
        ),
    )
    low_score = models.PositiveSmallIntegerField(
        _("low score"),
        default=2,
        validators=[MinValueValidator(1), MaxValueValidator(SCORE_MAX - 1)],
        help_text=_(
            "An overall score or a step's score at or below this opens a follow-up for the "
            "step's owner; so does a 'no'."
        ),
    )
    low_recommend = models.PositiveSmallIntegerField(
        _("low likelihood to recommend"),
        default=4,
        validators=[MaxValueValidator(RECOMMEND_MAX - 1)],
        help_text=_("A likelihood to recommend (0–10) at or below this opens a follow-up too."),
    )
    follow_up_within = models.DurationField(
        _("follow-up due within"),
        default=timedelta(days=2),
        validators=[MinValueValidator(timedelta(minutes=1)), MaxValueValidator(timedelta(days=60))],
        help_text=_("A follow-up not resolved in this time is escalated to the managers."),
    )

    class Meta:
        verbose_name = _("survey settings")
        verbose_name_plural = _("survey settings")
        constraints = [models.CheckConstraint(condition=Q(pk=1), name="one_survey_settings_row")]

    def __str__(self):
        return str(_("Survey settings"))

    @classmethod
    def load(cls) -> "SurveySettings":
        settings_row, _created = cls.objects.get_or_create(pk=1)
        return settings_row


class QuestionSet(models.Model):
    """A version of the survey's questions. A set that has been sent is never changed
    (its answers keep their meaning): the admin copies it to a new version, edits that
    and makes it the active one. New surveys use the active set."""

    version = models.PositiveIntegerField(_("version"), unique=True)
    active = models.BooleanField(_("active"), default=False)
    intro = models.TextField(_("introduction"), blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("survey question set")
        verbose_name_plural = _("survey question sets")
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["active"], condition=Q(active=True), name="one_active_question_set"
            )
        ]

    def __str__(self):
        return _("Question set %(version)s") % {"version": self.version}

    @property
    def in_use(self) -> bool:
        return self.surveys.exists()


class QuestionKind(models.TextChoices):
    SCALE = "scale", _("A score from 1 to 5")
    YES_NO = "yes_no", _("Yes or no")


class AskWhen(models.TextChoices):
    ALWAYS = "always", _("Always")
    PROBLEM = "problem", _("Only when the customer reported a problem")


class SurveyQuestion(models.Model):
    """One question, about one process step; its text in the three languages."""

    question_set = models.ForeignKey(
        QuestionSet,
        on_delete=models.CASCADE,
        related_name="questions",
        verbose_name=_("question set"),
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    code = models.SlugField(_("code"), max_length=30)
    step = models.CharField(_("process step"), max_length=20, choices=StepCode.choices)
    kind = models.CharField(_("answer"), max_length=10, choices=QuestionKind.choices)
    ask_when = models.CharField(
        _("asked"), max_length=10, choices=AskWhen.choices, default=AskWhen.ALWAYS
    )
    text = models.CharField(_("question"), max_length=200)

    class Meta:
        verbose_name = _("survey question")
        verbose_name_plural = _("survey questions")
        ordering = ["question_set", "position", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["question_set", "code"], name="one_question_code_per_set"
            )
        ]

    def __str__(self):
        return self.text

    def is_low(self, value: int, low_score: int) -> bool:
        """A negative answer: 'no', or a score at or below the low score."""
        if self.kind == QuestionKind.YES_NO:
            return value == 0
        return value <= low_score


class Survey(models.Model):
    """The one survey of an order: created by the sweep (the one-to-one key is what
    makes a second one impossible), with the email that carries its signed link, and
    answered once."""

    order = models.OneToOneField(
        Order, on_delete=models.PROTECT, related_name="survey", verbose_name=_("order")
    )
    question_set = models.ForeignKey(
        QuestionSet,
        on_delete=models.PROTECT,
        related_name="surveys",
        verbose_name=_("question set"),
    )
    sent_at = models.DateTimeField(_("sent"), default=timezone.now)
    expires_at = models.DateTimeField(_("link expires"))
    reminded_at = models.DateTimeField(_("reminded"), null=True, blank=True)
    # Whether the order had a problem case when the survey went out: it decides
    # whether the problem question is asked.
    had_problem = models.BooleanField(_("had a problem"), default=False)
    # The carrier of the order's first shipment, from its timeline, for the analysis.
    carrier = models.CharField(_("carrier"), max_length=100, blank=True)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    score = models.PositiveSmallIntegerField(
        _("overall score"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(SCORE_MAX)],
    )
    recommend = models.PositiveSmallIntegerField(
        _("likelihood to recommend"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(RECOMMEND_MAX)],
    )
    comment = models.TextField(_("comment"), blank=True)

    class Meta:
        verbose_name = _("survey")
        verbose_name_plural = _("surveys")
        ordering = ["-sent_at"]
        indexes = [
            models.Index(fields=["sent_at"], name="survey_sent"),
            models.Index(fields=["answered_at"], name="survey_answered"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(score__isnull=True) | Q(score__gte=1, score__lte=SCORE_MAX),
                name="survey_score_range",
            ),
            models.CheckConstraint(
                condition=Q(recommend__isnull=True) | Q(recommend__lte=RECOMMEND_MAX),
                name="survey_recommend_range",
            ),
            models.CheckConstraint(
                condition=Q(answered_at__isnull=True) | Q(score__isnull=False),
                name="answered_survey_has_score",
            ),
        ]

    def __str__(self):
        return f"{self.order.number} · {_('survey')}"

    @property
    def answered(self) -> bool:
        return self.answered_at is not None

    def expired(self, now=None) -> bool:
        return (now or timezone.now()) >= self.expires_at


class SurveyAnswer(models.Model):
    """The answer to one question: a score of 1 to 5, or 1 for yes and 0 for no."""

    survey = models.ForeignKey(
        Survey, on_delete=models.CASCADE, related_name="answers", verbose_name=_("survey")
    )
    question = models.ForeignKey(
        SurveyQuestion, on_delete=models.PROTECT, related_name="answers", verbose_name=_("question")
    )
    value = models.PositiveSmallIntegerField(_("answer"), validators=[MaxValueValidator(SCORE_MAX)])

    class Meta:
        verbose_name = _("survey answer")
        verbose_name_plural = _("survey answers")
        constraints = [
            models.UniqueConstraint(fields=["survey", "question"], name="one_answer_per_question"),
            models.CheckConstraint(condition=Q(value__lte=SCORE_MAX), name="answer_value_range"),
        ]

    def __str__(self):
        return f"{self.question} · {self.value}"


class SurveyOptOut(models.Model):
    """An email address that asked for no surveys (from the survey's link, or entered
    by staff when a customer asks): no order sent to it gets one."""

    email = models.EmailField(_("email"))
    created_at = models.DateTimeField(_("since"), default=timezone.now)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )

    class Meta:
        verbose_name = _("no surveys for")
        verbose_name_plural = _("no surveys for")
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(Upper("email"), name="one_survey_opt_out_per_email")]

    def __str__(self):
        return self.email


class SurveyFollowUp(models.Model):
    """A low score or a negative answer, for the owner of the step it concerns (the
    process definition says who), with the customer's comment; resolved with a note
    that goes on the order's timeline, escalated to the managers when late."""

    survey = models.ForeignKey(
        Survey, on_delete=models.PROTECT, related_name="follow_ups", verbose_name=_("survey")
    )
    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, related_name="survey_follow_ups", verbose_name=_("order")
    )
    step = models.CharField(_("process step"), max_length=20, choices=StepCode.choices)
    role = models.CharField(_("responsible role"), max_length=20, choices=Role.choices)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="survey_follow_ups",
        verbose_name=_("assigned to"),
    )
    # What was answered low: [{"kind": "score" | "recommend" | "question", "value": n,
    # "text": {language: the question}}] (see ``shown_concerns``).
    concerns = models.JSONField(_("low answers"), default=list, blank=True)
    created_at = models.DateTimeField(_("opened"), default=timezone.now)
    due_at = models.DateTimeField(_("due"))
    escalated_at = models.DateTimeField(_("escalated"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("resolved by"),
    )
    resolution = models.TextField(_("what was done"), blank=True)

    class Meta:
        verbose_name = _("survey follow-up")
        verbose_name_plural = _("survey follow-ups")
        ordering = ["due_at"]
        indexes = [
            models.Index(
                fields=["role", "due_at"],
                condition=Q(resolved_at__isnull=True),
                name="survey_follow_up_open",
            )
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["survey", "step"], name="one_survey_follow_up_per_step"
            ),
            models.CheckConstraint(
                condition=Q(resolved_at__isnull=True) | ~Q(resolution=""),
                name="resolved_follow_up_has_note",
            ),
        ]

    def __str__(self):
        return f"{self.order.number} · {self.get_step_display()}"

    def is_late(self, now=None) -> bool:
        return self.resolved_at is None and (now or timezone.now()) >= self.due_at

    @property
    def shown_concerns(self) -> list[tuple[str, str]]:
        """(what, answer) for each low answer, in the reader's language."""
        language = get_language() or settings.LANGUAGE_CODE
        shown = []
        for concern in self.concerns:
            kind, value = concern.get("kind"), concern.get("value")
            if kind == "score":
                shown.append((str(_("Overall score")), f"{value} / {SCORE_MAX}"))
            elif kind == "recommend":
                shown.append((str(_("Likelihood to recommend")), f"{value} / {RECOMMEND_MAX}"))
            else:
                texts = concern.get("text") or {}
                label = texts.get(language) or texts.get("en") or next(iter(texts.values()), "")
                if concern.get("answer") == QuestionKind.YES_NO:
                    answer = str(_("Yes") if value else _("No"))
                else:
                    answer = f"{value} / {SCORE_MAX}"
                shown.append((label, answer))
        return shown
