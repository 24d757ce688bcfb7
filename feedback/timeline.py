"""How feedback's timeline events read (registered in FeedbackConfig.ready)."""

from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from orders.models import StepCode
from orders.roles import Role

from .models import PARCEL_EVENT_TYPES, ReturnOutcome


def _return_requested(event):
    units = int(event.data.get("units", 0))
    return ngettext(
        "Return requested: %(count)d unit", "Return requested: %(count)d units", units
    ) % {"count": units}


def _outcome(event) -> str:
    outcome = event.data.get("outcome", "")
    return str(ReturnOutcome(outcome).label) if outcome in ReturnOutcome.values else outcome


def _return_approved(event):
    return gettext("Return %(rma)s approved: %(outcome)s") % {
        "rma": event.data.get("rma", ""),
        "outcome": _outcome(event),
    }


def _return_approved_in_part(event):
    return gettext("Return %(rma)s approved in part: %(outcome)s") % {
        "rma": event.data.get("rma", ""),
        "outcome": _outcome(event),
    }


def _return_received(event):
    units = int(event.data.get("units", 0))
    return ngettext(
        "Return %(rma)s received at the warehouse: %(count)d unit",
        "Return %(rma)s received at the warehouse: %(count)d units",
        units,
    ) % {"rma": event.data.get("rma", ""), "count": units}


def _return_parcel_event(event):

    kind = event.data.get("event", "")
    said = gettext("Return parcel %(rma)s: %(event)s") % {
        "rma": event.data.get("rma", ""),
        "event": PARCEL_EVENT_TYPES.get(kind, kind),
    }
    location = event.data.get("location")
    return f"{said} ({location})" if location else said


def _return_inspected(event):
    return gettext(
        "Return %(rma)s inspected: %(restocked)s back to stock, %(written_off)s written off, "
        "%(repair)s sent to repair"
    ) % {key: event.data.get(key, "") for key in ("rma", "restocked", "written_off", "repair")}


def _step_label(event) -> str:
    step = event.data.get("step", "")
    return str(StepCode(step).label) if step in StepCode.values else step


def _survey_answered(event):
    score = event.data.get("score")
    recommend = event.data.get("recommend")
    if recommend is None:
        return gettext("The customer answered the survey: %(score)s of 5") % {"score": score}
    return gettext(
        "The customer answered the survey: %(score)s of 5, %(recommend)s of 10 to recommend"
    ) % {"score": score, "recommend": recommend}


def _survey_follow_up_opened(event):
    return gettext("Low survey answer on %(step)s: a follow-up for %(role)s") % {
        "step": _step_label(event),
        "role": Role(event.data["role"]).label if event.data.get("role") in Role.values else "",
    }


def _survey_follow_up_resolved(event):
    return gettext("Survey follow-up on %(step)s resolved") % {"step": _step_label(event)}


def _survey_follow_up_escalated(event):
    return gettext("Survey follow-up on %(step)s is late: escalated to the managers") % {
        "step": _step_label(event)
    }


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
    "return_requested": _return_requested,
    "return_approved": _return_approved,
    "return_approved_in_part": _return_approved_in_part,
    "return_refused": _("Return request refused"),
    "return_sent": _("Return %(rma)s sent back: tracking number %(tracking)s"),
    "return_received": _return_received,
    "return_mismatch": _("Return %(rma)s: the parcel is not what was approved; Sales checks it"),
    "return_inspected": _return_inspected,
    "return_completed": _("Return %(rma)s completed"),
    "return_parcel_event": _return_parcel_event,
    "return_parcel_problem": _("Return %(rma)s: the carrier reports a problem with the parcel"),
    "return_send_reminder": _("Reminder to send the goods of return %(rma)s emailed"),
    "return_refunded": _("Return %(rma)s refunded: %(amount)s %(currency)s"),
    "survey_sent": _("Satisfaction survey emailed"),
    "survey_reminder": _("Satisfaction survey reminder emailed"),
    "survey_opt_out": _("The customer asked for no more surveys"),
    "survey_answered": _survey_answered,
    "survey_follow_up_opened": _survey_follow_up_opened,
    "survey_follow_up_resolved": _survey_follow_up_resolved,
    "survey_follow_up_escalated": _survey_follow_up_escalated,
}
