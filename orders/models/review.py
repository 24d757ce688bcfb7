"""The process review: how each step of each order ran (from the timeline), the
changes made to the process definition, the review meetings and their action items,
and the packs produced for the last week and month."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..roles import Role
from .customers import Channel
from .order import Order, Status
from .process import ProcessStep, StepCode


class StepRun(models.Model):
    """One process step of one order, from the state it entered to the state it left
    (two transitions of its timeline), written in the transaction of the second. The
    target is the one in force when the step ended (what the dashboards showed), so a
    target changed later does not rewrite history. The review pack aggregates these
    rows in the database."""

    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, related_name="step_runs", verbose_name=_("order")
    )
    step = models.CharField(_("step"), max_length=20, choices=StepCode.choices)
    status = models.CharField(_("state"), max_length=20, choices=Status.choices)
    to_status = models.CharField(_("next state"), max_length=20, choices=Status.choices)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    role = models.CharField(_("responsible role"), max_length=20, choices=Role.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("ended by"),
    )
    started_at = models.DateTimeField(_("started"))
    ended_at = models.DateTimeField(_("ended"))
    seconds = models.PositiveBigIntegerField(_("duration (seconds)"))
    target_seconds = models.PositiveBigIntegerField(_("target (seconds)"), null=True, blank=True)
    breached = models.BooleanField(_("over target"), default=False)

    class Meta:
        verbose_name = _("step run")
        verbose_name_plural = _("step runs")
        ordering = ["ended_at", "pk"]
        indexes = [models.Index(fields=["ended_at", "step"], name="step_run_ended")]
        constraints = [
            models.UniqueConstraint(fields=["order", "started_at"], name="one_run_per_step_start"),
            models.CheckConstraint(
                condition=Q(ended_at__gte=models.F("started_at")), name="step_run_forward"
            ),
        ]

    def __str__(self):
        return f"{self.order.number} · {self.get_step_display()}"


class ProcessChange(models.Model):
    """One change of one field of a process step (target time, owner, method, notes...),
    with who made it and when: the process definition's history."""

    step = models.ForeignKey(
        ProcessStep, on_delete=models.PROTECT, related_name="changes", verbose_name=_("step")
    )
    field = models.CharField(_("field"), max_length=40)
    old = models.TextField(_("before"), blank=True)
    new = models.TextField(_("after"), blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("changed by"),
    )
    at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("process change")
        verbose_name_plural = _("process changes")
        ordering = ["-at", "-pk"]

    def __str__(self):
        return f"{self.step} · {self.field}"

    @property
    def label(self) -> str:
        """The changed field's name in the reader's language."""
        try:
            return str(ProcessStep._meta.get_field(self.field).verbose_name)
        except Exception:  # a field that no longer exists keeps its stored name
            return self.field


class ReviewMeeting(models.Model):
    """A process review meeting: who was there, the pack (period) it used, what it found."""

    held_on = models.DateField(_("held on"))
    departments = models.JSONField(_("departments present"), default=list)
    period_start = models.DateField(_("pack from"))
    period_end = models.DateField(_("pack to"))
    findings = models.TextField(_("findings"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    created_at = models.DateTimeField(_("recorded"), default=timezone.now)

    class Meta:
        verbose_name = _("review meeting")
        verbose_name_plural = _("review meetings")
        ordering = ["-held_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(period_end__gte=models.F("period_start")),
                name="review_meeting_period_forward",
            )
        ]

    def __str__(self):
        return _("Review meeting of %(date)s") % {"date": self.held_on}

    @property
    def department_labels(self) -> list[str]:
        return [str(Role(code).label) for code in self.departments if code in Role.values]


class ActionStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")
    DROPPED = "dropped", _("Dropped")


class ActionItem(models.Model):
    """Something a review meeting decided: an owner, a due date, open until done."""

    meeting = models.ForeignKey(
        ReviewMeeting,
        on_delete=models.PROTECT,
        related_name="actions",
        verbose_name=_("meeting"),
    )
    title = models.CharField(_("action"), max_length=200)
    step = models.CharField(_("step"), max_length=20, choices=StepCode.choices, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="review_actions",
        verbose_name=_("owner"),
    )
    due_on = models.DateField(_("due"))
    status = models.CharField(
        _("status"), max_length=10, choices=ActionStatus.choices, default=ActionStatus.OPEN
    )
    note = models.TextField(_("note"), blank=True)
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("action item")
        verbose_name_plural = _("action items")
        ordering = ["due_on", "pk"]
        indexes = [
            models.Index(
                fields=["owner", "due_on"],
                condition=Q(status="open"),
                name="action_item_open",
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="open", done_at__isnull=True)
                | (~Q(status="open") & Q(done_at__isnull=False)),
                name="action_item_done_at_matches_status",
            )
        ]

    def __str__(self):
        return self.title

    def is_late(self, today=None) -> bool:
        return self.status == ActionStatus.OPEN and (today or timezone.localdate()) > self.due_on


class PackPeriod(models.TextChoices):
    WEEK = "week", _("Last week")
    MONTH = "month", _("Last month")


class ReviewPackRun(models.Model):
    """A pack produced by itself for a finished week or month and emailed to the
    managers: one row per period (the unique key makes it once, even when two beat
    ticks or two workers overlap)."""

    period = models.CharField(_("period"), max_length=10, choices=PackPeriod.choices)
    start = models.DateField(_("from"))
    end = models.DateField(_("to"))
    created_at = models.DateTimeField(_("produced"), default=timezone.now)
    emailed_at = models.DateTimeField(_("emailed"), null=True, blank=True)
    recipients = models.JSONField(_("sent to"), default=list, blank=True)

    class Meta:
        verbose_name = _("review pack")
        verbose_name_plural = _("review packs")
        ordering = ["-start", "period"]
        constraints = [
            models.UniqueConstraint(fields=["period", "start"], name="one_pack_per_period")
        ]

    def __str__(self):
        return f"{self.get_period_display()} · {self.start} – {self.end}"
