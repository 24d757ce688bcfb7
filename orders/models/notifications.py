"""Customer emails (one Notification row per email)."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .order import Order


class NotificationKind(models.TextChoices):
    ORDER_RECEIVED = "order_received", _("Order received")
    ORDER_CONFIRMED = "order_confirmed", _("Order confirmed")
    CONFIRMATION_REMINDER = "confirmation_reminder", _("Confirmation reminder")
    ORDER_CANCELLED = "order_cancelled", _("Order cancelled")
    NEW_DELIVERY_DATE = "new_delivery_date", _("New delivery date")
    ORDER_SHIPPED = "order_shipped", _("Order shipped")
    DELIVERY_PROBLEM = "delivery_problem", _("Delivery problem")
    PROBLEM_RECEIVED = "problem_received", _("Problem report received")
    PROBLEM_RESOLVED = "problem_resolved", _("Problem report resolved")
    RECEIPT_REMINDER = "receipt_reminder", _("Please confirm receipt")
    DELIVERY_CHANGE_APPROVED = "delivery_change_approved", _("Delivery change approved")
    DELIVERY_CHANGE_REFUSED = "delivery_change_refused", _("Delivery change refused")
    ORDER_CLOSED = "order_closed", _("Order complete: thank you")
    RETURN_RECEIVED = "return_received", _("Return request received")
    RETURN_APPROVED = "return_approved", _("Return approved")
    RETURN_REFUSED = "return_refused", _("Return refused")
    RETURN_ARRIVED = "return_arrived", _("Returned goods arrived")
    RETURN_INSPECTED = "return_inspected", _("Returned goods inspected")
    RETURN_REFUNDED = "return_refunded", _("Return refunded")
    RETURN_SEND_REMINDER = "return_send_reminder", _("Reminder to send the returned goods")
    SURVEY = "survey", _("Satisfaction survey")
    SURVEY_REMINDER = "survey_reminder", _("Satisfaction survey reminder")
    # To staff, not to the customer:
    SHORTAGE_ALERT = "shortage_alert", _("Shortage alert to Sales")


class Notification(models.Model):
    """An email about an order (to the customer, or a staff alert), written in the same
    transaction as the change it reports, so it is never lost: a worker sends it after
    commit and retries, and the deadline sweep re-queues any that are still unsent."""

    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, related_name="notifications", verbose_name=_("order")
    )
    kind = models.CharField(_("kind"), max_length=30, choices=NotificationKind.choices)
    # Tells apart emails of one kind that may be sent more than once (e.g. the pk of
    # the delivery promise they announce); empty for once-only kinds.
    key = models.CharField(_("key"), max_length=60, blank=True, default="")
    to = models.EmailField(_("to"))
    # Empty: the language of the order's contact (as typed with the order).
    language = models.CharField(_("language"), max_length=10, blank=True, default="")
    # What the email needs beyond the order (e.g. the tracking link), from the app that sent it.
    data = models.JSONField(_("data"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    # A worker's claim on the next send: until then no one else starts one, so a send
    # in flight (or a retry waiting after an SMTP error) is never doubled; the claim of
    # a worker that died runs out and is taken over (orders.emails.deliver).
    claimed_until = models.DateTimeField(_("claimed until"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("email")
        verbose_name_plural = _("emails")
        ordering = ["-created_at"]
        # The sweep's "unsent" set: a few rows among millions of sent emails.
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=models.Q(sent_at__isnull=True),
                name="notification_unsent",
            )
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "kind", "key"], name="one_notification_per_kind_and_key"
            )
        ]

    def __str__(self):
        return f"{self.order.number} · {self.get_kind_display()}"
