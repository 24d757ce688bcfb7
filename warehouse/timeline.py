"""How the warehouse's timeline events read (registered in WarehouseConfig.ready)."""

from django.utils.translation import gettext_lazy as _

EVENTS = {
    "reserved": _("Stock reserved"),
    "shortage": _("Short of stock"),
    "acknowledged": _("The warehouse took over the order"),
    "discrepancy": _("Picking problem recorded"),
    "packed": _("Packed"),
    "review_passed": _("Review passed: ready for logistics"),
    "review_failed": _("Review failed: back to picking"),
}
