"""The order timeline's rows (written through orders.timeline)."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .order import Order, Status


class EventKind(models.TextChoices):
    TRANSITION = "transition", _("Status change")
    COMMENT = "comment", _("Comment")
    SYSTEM = "system", _("System")


class ImmutableEventError(Exception):
    """Timeline events are written once and never changed or deleted."""


class OrderEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise ImmutableEventError

    def delete(self):
        raise ImmutableEventError


class OrderEvent(models.Model):
    """One immutable line of an order's timeline: a status change, a comment or a system note."""

    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, related_name="events", verbose_name=_("order")
    )
    created_at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("who"),
    )
    kind = models.CharField(_("kind"), max_length=12, choices=EventKind.choices)
    from_status = models.CharField(_("from"), max_length=20, blank=True, choices=Status.choices)
    to_status = models.CharField(_("to"), max_length=20, blank=True, choices=Status.choices)
    note = models.TextField(_("note"), blank=True)
    # System events carry a code and data and are worded when shown, in the
    # reader's language (see ``message``).
    code = models.CharField(_("code"), max_length=40, blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)
    # Customer-facing events appear on the public status page (without actor or note).
    public = models.BooleanField(_("shown to the customer"), default=False)

    objects = OrderEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("timeline event")
        verbose_name_plural = _("timeline events")
        ordering = ["created_at", "pk"]

    def __str__(self):
        return f"{self.order.number} · {self.get_kind_display()} · {self.created_at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ImmutableEventError
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableEventError

    @property
    def changes(self) -> list[dict]:
        """A "changed" event's changes, each labelled in the reader's language."""
        shown = []
        for change in self.data.get("changes", []):
            if change["field"] == "line":
                label = change.get("label", "")
            else:
                label = Order._meta.get_field(change["field"]).verbose_name
            shown.append({**change, "label": label})
        return shown

    @property
    def message(self) -> str:
        """What happened, in the current language (without the free-text note)."""
        from ..timeline import describe

        return describe(self)
