"""The documented process steps, their targets and per-channel overrides."""

from datetime import timedelta

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from ..roles import Role
from .customers import Channel
from .order import Status


class StepCode(models.TextChoices):
    PLACEMENT = "placement", _("Customer places order")
    CONFIRMATION = "confirmation", _("Order confirmation")
    PROCESSING = "processing", _("Order processing")
    SHIPPING = "shipping", _("Review and shipping")
    TRACKING = "tracking", _("Delivery tracking")
    RECEIPT = "receipt", _("Customer confirms receipt")
    CLOSING = "closing", _("Order closing")
    FEEDBACK = "feedback", _("Feedback")


# Which process step's clock runs while an order waits in each state. This is
# structure, not configuration: it follows the state machine above.
STEP_FOR_STATUS = {
    Status.PLACED: StepCode.CONFIRMATION,
    Status.CONFIRMED: StepCode.PROCESSING,
    Status.BACKORDERED: StepCode.PROCESSING,
    Status.PICKED: StepCode.SHIPPING,
    Status.SHIPPED: StepCode.TRACKING,
    Status.DELIVERED: StepCode.CLOSING,
}


MIN_TARGET = timedelta(minutes=1)
MAX_TARGET = timedelta(days=365)


class ProcessStep(models.Model):
    """One documented step of the process: owner, how it is done, its target time, notes.

    Seeded from PROCESS.md by a data migration and edited in the admin; name, how and
    notes are kept in every interface language (django-modeltranslation).
    """

    position = models.PositiveSmallIntegerField(_("step"), unique=True)
    code = models.CharField(_("code"), max_length=20, unique=True, choices=StepCode.choices)
    name = models.CharField(_("name"), max_length=100)
    role = models.CharField(_("responsible role"), max_length=20, choices=Role.choices)
    how = models.TextField(_("how it is done"), blank=True)
    target = models.DurationField(
        _("target time"),
        null=True,
        blank=True,
        validators=[MinValueValidator(MIN_TARGET), MaxValueValidator(MAX_TARGET)],
        help_text=_(
            "How long the step may take, e.g. 24:00:00 for 24 hours (1 minute to 365 days). "
            "Empty: no clock."
        ),
    )
    warning_percent = models.PositiveSmallIntegerField(
        _("due soon at (percent of target)"),
        default=75,
        validators=[MinValueValidator(1), MaxValueValidator(99)],
    )
    notes = models.TextField(_("notes"), blank=True)
    follow_up_within = models.DurationField(
        _("follow-up due within"),
        null=True,
        blank=True,
        validators=[MinValueValidator(MIN_TARGET), MaxValueValidator(MAX_TARGET)],
        help_text=_(
            "When the step is late, the responsible person gets a follow-up task due within "
            "this time; an overdue follow-up is escalated to the managers. Empty: no follow-up."
        ),
    )
    give_up_after = models.DurationField(
        _("final limit"),
        null=True,
        blank=True,
        validators=[MinValueValidator(MIN_TARGET), MaxValueValidator(MAX_TARGET)],
        help_text=_(
            "Counted from the start of the step: after it, the order is listed as having no "
            "answer and may be cancelled with a reason."
        ),
    )

    class Meta:
        verbose_name = _("process step")
        verbose_name_plural = _("process steps")
        ordering = ["position"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(warning_percent__gte=1, warning_percent__lte=99),
                name="processstep_warning_percent_range",
            ),
            models.CheckConstraint(
                condition=models.Q(target__isnull=True)
                | models.Q(target__gte=MIN_TARGET, target__lte=MAX_TARGET),
                name="processstep_target_range",
            ),
        ]

    def __str__(self):
        return f"{self.position}. {self.name}"

    @property
    def statuses(self) -> list[str]:
        return [status for status, code in STEP_FOR_STATUS.items() if code == self.code]

    def target_for(self, channel: str):
        """The target time for an order of ``channel`` (an admin override, if any)."""
        for override in self.channel_targets.all():
            if override.channel == channel:
                return override.target
        return self.target


class StepChannelTarget(models.Model):
    """A step's target time for one order channel (e.g. phone orders confirm faster)."""

    step = models.ForeignKey(
        ProcessStep,
        on_delete=models.CASCADE,
        related_name="channel_targets",
        verbose_name=_("process step"),
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    target = models.DurationField(
        _("target time"), validators=[MinValueValidator(MIN_TARGET), MaxValueValidator(MAX_TARGET)]
    )

    class Meta:
        verbose_name = _("target time for a channel")
        verbose_name_plural = _("target times for a channel")
        constraints = [
            models.UniqueConstraint(fields=["step", "channel"], name="one_target_per_channel"),
            models.CheckConstraint(
                condition=models.Q(target__gte=MIN_TARGET, target__lte=MAX_TARGET),
                name="channel_target_range",
            ),
        ]

    def __str__(self):
        return f"{self.step} · {self.get_channel_display()}"


class ReturnStepCode(models.TextChoices):
    """The steps of a return (step 6's returns and exchanges), each with its clock."""

    DECIDING = "deciding", _("Sales decides the return request")
    SENDING = "sending", _("The customer sends the goods back")
    INSPECTION = "inspection", _("The warehouse inspects the goods received")
    REFUND = "refund", _("Finance pays the refund")


class ReturnStep(models.Model):
    """A return's step in the process definition: who owns it and its target time,
    counted from the step's start (the request; the approval; the parcel's receipt;
    the inspection). Seeded by a data migration and edited in the admin."""

    code = models.CharField(_("code"), max_length=20, unique=True, choices=ReturnStepCode.choices)
    role = models.CharField(_("responsible role"), max_length=20, choices=Role.choices)
    target = models.DurationField(
        _("target time"),
        null=True,
        blank=True,
        validators=[MinValueValidator(MIN_TARGET), MaxValueValidator(MAX_TARGET)],
        help_text=_("How long the step may take (1 minute to 365 days). Empty: no clock."),
    )
    reminder_after = models.DurationField(
        _("remind the customer after"),
        null=True,
        blank=True,
        validators=[MinValueValidator(MIN_TARGET), MaxValueValidator(MAX_TARGET)],
        help_text=_(
            "Only for sending the goods back: the customer is reminded once by email when "
            "the parcel has not been sent after this time. Empty: no reminder."
        ),
    )

    class Meta:
        verbose_name = _("return step")
        verbose_name_plural = _("return steps")
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(target__isnull=True)
                | models.Q(target__gte=MIN_TARGET, target__lte=MAX_TARGET),
                name="returnstep_target_range",
            ),
        ]

    def __str__(self):
        return self.get_code_display()
