"""How feedback's timeline events read (registered in FeedbackConfig.ready)."""

from django.utils.translation import gettext_lazy as _

EVENTS = {
    "receipt_confirmed": _("The customer confirmed receipt"),
    "receipt_confirmed_by_phone": _("Receipt confirmed by phone"),
    "receipt_auto_confirmed": _(
        "Receipt confirmed automatically after %(days)s days without an answer"
    ),
    "receipt_auto_confirmed_one_day": _(
        "Receipt confirmed automatically after 1 day without an answer"
    ),
    "receipt_reminder": _("Reminder to confirm receipt emailed"),
    "problem_reported_missing": _("Problem reported: something is missing"),
    "problem_reported_damaged": _("Problem reported: something arrived damaged"),
    "problem_reported_wrong_item": _("Problem reported: wrong item received"),
    "problem_resolved": _("Problem report resolved"),
}
