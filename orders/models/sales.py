"""Sales' own rows: follow-ups, delivery promises, order documents, delivery change requests."""

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .customers import DeliveryWindow, format_address
from .order import Order, Status
from .process import StepCode


class FollowUpReason(models.TextChoices):
    LATE = "late", _("Step late")
    SHORTAGE = "shortage", _("Short of stock: agree a new date")


class FollowUp(models.Model):
    """A task for a person: the order's step is late and someone must chase it.

    Created by the deadline sweep exactly once per step of an order (the unique
    constraint on the step's start is the database's guarantee), closed when the step
    is done, escalated to the managers when it is itself overdue.
    """

    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, related_name="follow_ups", verbose_name=_("order")
    )
    step = models.CharField(_("step"), max_length=20, choices=StepCode.choices)
    step_started_at = models.DateTimeField()
    reason = models.CharField(
        _("reason"), max_length=10, choices=FollowUpReason.choices, default=FollowUpReason.LATE
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="follow_ups",
        verbose_name=_("assigned to"),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    due_at = models.DateTimeField(_("due"))  # open ones: the follow_up_open index
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("escalated"), null=True, blank=True)

    class Meta:
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        ordering = ["due_at"]
        # Open follow-ups, most urgent first (dashboards and the escalation sweep).
        indexes = [
            models.Index(
                fields=["due_at"], condition=models.Q(done_at__isnull=True), name="follow_up_open"
            )
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "step", "step_started_at"], name="one_follow_up_per_step"
            )
        ]

    def __str__(self):
        return f"{self.order.number} · {self.get_step_display()}"


class VerificationMethod(models.TextChoices):
    PHONE = "phone", _("Phone call")
    EMAIL = "email", _("Email")
    LINK = "link", _("Customer's confirmation link")
    REPLACEMENT = "replacement", _("An exchange the customer asked for")


class DeliveryPromise(models.Model):
    """Every delivery date promised to the customer, in order; the last one holds."""

    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, related_name="promises", verbose_name=_("order")
    )
    date = models.DateField(_("promised delivery date"))
    method = models.CharField(_("agreed by"), max_length=12, choices=VerificationMethod.choices)
    agreed = models.TextField(_("what was agreed"), blank=True)
    note = models.TextField(_("note"), blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("who"),
    )
    created_at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        verbose_name = _("delivery promise")
        verbose_name_plural = _("delivery promises")
        ordering = ["created_at", "pk"]

    def __str__(self):
        return f"{self.order.number} · {self.date}"


def evidence_path(instance, filename):
    # Never the uploader's file name in the path: it is stored by order and a random name.
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"evidence/{instance.order.number}/{secrets.token_hex(8)}.{suffix}"


# Migrations name this function by its public path: keep it "orders.models".
evidence_path.__module__ = "orders.models"


class OrderDocument(models.Model):
    """Evidence kept with an order, e.g. the customer's original email for an email order."""

    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, related_name="documents", verbose_name=_("order")
    )
    title = models.CharField(_("title"), max_length=200)
    text = models.TextField(_("pasted text"), blank=True)
    file = models.FileField(_("file"), upload_to=evidence_path, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        verbose_name=_("who"),
    )
    created_at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        verbose_name = _("order document")
        verbose_name_plural = _("order documents")
        ordering = ["created_at", "pk"]

    def __str__(self):
        return f"{self.order.number} · {self.title}"


# ---------------------------------------------------------------------------
# The customer's delivery change requests (from the public status page)

# Until packing starts, the customer may ask to change how the order is delivered.
CUSTOMER_CHANGEABLE_STATUSES = (Status.PLACED, Status.CONFIRMED, Status.BACKORDERED)


class ChangeRequestStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for a decision")
    APPROVED = "approved", _("Approved")
    REFUSED = "refused", _("Refused")


# What a request asks for, in the reader's language (timeline and emails).
CHANGE_WHAT = {
    "window": _("delivery window"),
    "instructions": _("delivery instructions"),
    "address": _("delivery address"),
}


def change_what(what) -> str:
    return ", ".join(str(CHANGE_WHAT[w]) for w in what if w in CHANGE_WHAT)


class DeliveryChangeRequest(models.Model):
    """A customer's request, sent from the status page, to change how their order is
    delivered: another time window, added instructions, or another address. Nothing
    changes on the order until Sales approves it (services.approve_delivery_change);
    a refusal carries a reason written for the customer. Requests are never deleted.
    """

    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, related_name="change_requests", verbose_name=_("order")
    )
    created_at = models.DateTimeField(_("asked"), default=timezone.now)
    # Empty: keep the order's window.
    requested_window = models.CharField(
        _("new delivery window"), max_length=10, choices=DeliveryWindow.choices, blank=True
    )
    # Added to the order's special instructions.
    instructions = models.TextField(_("instructions to add"), blank=True)
    # A new address: street empty means the address stays as it is.
    recipient = models.CharField(_("recipient"), max_length=120, blank=True)
    phone = models.CharField(_("recipient phone"), max_length=32, blank=True)
    province = models.CharField(_("province"), max_length=60, blank=True)
    city = models.CharField(_("city"), max_length=60, blank=True)
    district = models.CharField(_("district"), max_length=60, blank=True)
    street = models.CharField(_("street address"), max_length=200, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=12, blank=True)
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=ChangeRequestStatus.choices,
        default=ChangeRequestStatus.PENDING,
        db_index=True,
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    reason = models.TextField(_("reason given to the customer"), blank=True)

    class Meta:
        verbose_name = _("delivery change request")
        verbose_name_plural = _("delivery change requests")
        ordering = ["-created_at", "-pk"]
        # Sales' queue of requests waiting for an answer.
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=models.Q(status="pending"),
                name="change_request_pending",
            )
        ]
        constraints = [
            # One open request per order: the customer waits for the answer first.
            models.UniqueConstraint(
                fields=["order"],
                condition=models.Q(status="pending"),
                name="one_pending_change_request_per_order",
            ),
            models.CheckConstraint(
                condition=~models.Q(requested_window="", instructions="", street=""),
                name="change_request_asks_for_something",
            ),
            models.CheckConstraint(
                condition=models.Q(status="pending", decided_at__isnull=True)
                | (~models.Q(status="pending") & models.Q(decided_at__isnull=False)),
                name="change_request_decided_when_not_pending",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="refused", reason=""),
                name="refused_change_request_has_reason",
            ),
            models.CheckConstraint(
                condition=models.Q(street="") | (~models.Q(province="") & ~models.Q(city="")),
                name="change_request_address_complete",
            ),
        ]

    def __str__(self):
        return f"{self.order.number} · {self.get_status_display()}"

    @property
    def changes_address(self) -> bool:
        return bool(self.street)

    @property
    def what(self) -> list[str]:
        """What is asked for: "window", "instructions", "address"."""
        asked = []
        if self.requested_window:
            asked.append("window")
        if self.instructions:
            asked.append("instructions")
        if self.changes_address:
            asked.append("address")
        return asked

    @property
    def what_display(self) -> str:
        return change_what(self.what)

    @property
    def new_address(self) -> str:
        return format_address(self.province, self.city, self.district, self.street)
