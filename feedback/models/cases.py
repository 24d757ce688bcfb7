"""Receipts, problem cases and the customers' photos."""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from orders.models import Order


class ReceiptMethod(models.TextChoices):
    CUSTOMER = "customer", _("By the customer, on the status page")
    PHONE = "phone", _("By phone, recorded by Sales")
    AUTOMATIC = "automatic", _("Automatically, without an answer")


class Receipt(models.Model):
    """The confirmation that the customer received the order: once per order (the
    one-to-one key is what makes a second confirmation impossible)."""

    order = models.OneToOneField(
        Order, on_delete=models.PROTECT, related_name="receipt", verbose_name=_("order")
    )
    confirmed_at = models.DateTimeField(_("confirmed at"), default=timezone.now)
    how = models.CharField(_("how"), max_length=10, choices=ReceiptMethod.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("receipt")
        verbose_name_plural = _("receipts")
        ordering = ["-confirmed_at"]

    def __str__(self):
        return f"{self.order.number} · {self.get_how_display()}"


class ProblemKind(models.TextChoices):
    MISSING = "missing", _("Something is missing")
    DAMAGED = "damaged", _("Something arrived damaged")
    WRONG_ITEM = "wrong_item", _("I received the wrong item")


class CaseStatus(models.TextChoices):
    OPEN = "open", _("Open")
    RESOLVED = "resolved", _("Resolved")


class ProblemCase(models.Model):
    """A problem the customer reported with a delivered order, for Sales to handle.

    An order has at most one open case at a time (a partial unique constraint); the
    form's token makes a resubmitted report find the case it already opened.
    """

    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, related_name="problem_cases", verbose_name=_("order")
    )
    kind = models.CharField(_("problem"), max_length=12, choices=ProblemKind.choices)
    details = models.TextField(_("details"))
    status = models.CharField(
        _("status"), max_length=10, choices=CaseStatus.choices, default=CaseStatus.OPEN
    )
    opened_at = models.DateTimeField(_("opened"), default=timezone.now, db_index=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="problem_cases",
        verbose_name=_("owner"),
    )
    due_at = models.DateTimeField(_("answer due"))
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("resolved by"),
    )
    resolution = models.TextField(_("resolution"), blank=True)
    submission_key = models.CharField(max_length=64, editable=False)

    class Meta:
        verbose_name = _("problem case")
        verbose_name_plural = _("problem cases")
        ordering = ["opened_at", "pk"]
        # Partial indexes for the small sets the pages and the hourly task read, so
        # they never scan every case (nearly all of them are resolved and old):
        indexes = [
            # Sales' open cases, oldest first.
            models.Index(
                fields=["opened_at", "id"],
                condition=Q(status="open"),
                name="problemcase_open",
            ),
            # Orders awaiting receipt: an order's last resolved case (its new
            # deadline) and "resolved within the limit", per order.
            models.Index(
                fields=["order", "resolved_at"],
                condition=Q(status="resolved"),
                name="problemcase_resolved_by_order",
            ),
            # The Sales page's "recently resolved".
            models.Index(
                fields=["-resolved_at", "-id"],
                condition=Q(status="resolved"),
                name="problemcase_recently_resolved",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["order"], condition=Q(status="open"), name="one_open_case_per_order"
            ),
            models.UniqueConstraint(
                fields=["order", "submission_key"], name="one_case_per_submission"
            ),
            models.CheckConstraint(
                condition=(Q(status="open") & Q(resolved_at__isnull=True))
                | (Q(status="resolved") & Q(resolved_at__isnull=False) & ~Q(resolution="")),
                name="resolved_case_has_time_and_resolution",
            ),
        ]

    def __str__(self):
        return f"{self.order.number} · {self.get_kind_display()}"

    @property
    def is_open(self) -> bool:
        return self.status == CaseStatus.OPEN


# The image formats a problem photo may have, as Pillow names them, and how each is served.
PHOTO_TYPES = {
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "WEBP": ("image/webp", "webp"),
}


def photo_path(instance, filename):
    # Never the uploader's file name: the order and a random name, with the suffix of
    # the format Pillow found in the content.
    suffix = dict(PHOTO_TYPES.values()).get(instance.content_type, "bin")
    return f"{instance.FOLDER}/{instance.order_number}/{secrets.token_hex(16)}.{suffix}"


class CustomerPhoto(models.Model):
    """A photo a customer sent (checked by feedback.photos); served only to staff."""

    FOLDER = "photos"

    image = models.FileField(_("photo"), upload_to=photo_path, max_length=200)
    content_type = models.CharField(max_length=20)
    size = models.PositiveIntegerField(_("size in bytes"))
    width = models.PositiveIntegerField(_("width"))
    height = models.PositiveIntegerField(_("height"))
    uploaded_at = models.DateTimeField(_("uploaded"), default=timezone.now)

    class Meta:
        abstract = True
        ordering = ["pk"]


class ProblemPhoto(CustomerPhoto):
    """A photo the customer sent with a problem report; served only to Sales."""

    FOLDER = "problem-photos"

    case = models.ForeignKey(
        ProblemCase, on_delete=models.PROTECT, related_name="photos", verbose_name=_("case")
    )

    class Meta(CustomerPhoto.Meta):
        verbose_name = _("problem photo")
        verbose_name_plural = _("problem photos")

    def __str__(self):
        return f"{self.case} · {self.pk}"

    @property
    def order_number(self) -> str:
        return self.case.order.number
