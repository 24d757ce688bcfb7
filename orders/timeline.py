"""The order timeline: the one way to write an event, and how each event code reads.

Every app writes its events through ``record`` (as pretix's ``order.log_action``) and
registers the wording of its own codes with ``register``, from its AppConfig.ready()
(as pretix's ``logentry_display``). ``orders`` knows only its own codes.

A wording is a lazily translated string, filled with the event's data when it holds
"%(name)s", or a callable that takes the event and returns the text.
"""

from collections.abc import Callable, Mapping

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .models import Channel, EventKind, Order, OrderEvent, ProcessStep, Status, change_what

Wording = str | Callable[[OrderEvent], str]

_WORDINGS: dict[str, Wording] = {}

# Passing one of these as the code writes that kind of event instead of a system event.
TRANSITION = EventKind.TRANSITION
COMMENT = EventKind.COMMENT


def register(code: str, wording: Wording) -> None:
    """How events with ``code`` read. A code is registered once, by the app that writes it."""
    if code in _WORDINGS and _WORDINGS[code] is not wording:
        raise ValueError(f"timeline code {code!r} is already registered")
    _WORDINGS[code] = wording


def register_all(wordings: Mapping[str, Wording]) -> None:
    for code, wording in wordings.items():
        register(code, wording)


def _event(order, code, *, actor, data, public, note, from_status, to_status, created_at):
    kind = EventKind(code) if code in (TRANSITION, COMMENT) else EventKind.SYSTEM
    fields = {
        "actor": actor,
        "kind": kind,
        "code": "" if kind != EventKind.SYSTEM else code,
        "data": data if data is not None else {},
        "public": public,
        "note": note or "",
        "from_status": from_status or "",
        "to_status": to_status or "",
    }
    if created_at is not None:
        fields["created_at"] = created_at
    if isinstance(order, Order):
        fields["order"] = order
    else:
        fields["order_id"] = order
    return OrderEvent(**fields)


def record(
    order,
    code: str,
    *,
    actor=None,
    data=None,
    public=False,
    note="",
    from_status="",
    to_status="",
    created_at=None,
) -> OrderEvent:
    """Write one immutable timeline event for ``order`` (an Order or its id).

    ``code`` is a system event code registered with ``register``, or TRANSITION or
    COMMENT for a status change or a comment. Runs inside the caller's transaction;
    locks nothing; raises nothing of its own (the database refuses a later change).
    """
    event = _event(
        order,
        code,
        actor=actor,
        data=data,
        public=public,
        note=note,
        from_status=from_status,
        to_status=to_status,
        created_at=created_at,
    )
    event.save(force_insert=True)
    return event


def describe(event: OrderEvent) -> str:
    """What happened, in the current language (without the free-text note)."""
    if event.kind == EventKind.COMMENT:
        return gettext("Comment")
    if event.kind == EventKind.TRANSITION:
        if event.to_status == Status.PLACED:
            channel = event.data.get("channel")
            if channel in Channel.values:
                return gettext("Order placed (%(channel)s)") % {"channel": Channel(channel).label}
            return gettext("Order placed")
        return Status(event.to_status).label
    wording = _WORDINGS.get(event.code)
    if wording is None:
        # Never the free-text note: it may be internal.
        return EventKind(event.kind).label
    if callable(wording):
        return wording(event)
    text = str(wording)
    if "%(" not in text:
        return text
    try:
        return text % event.data
    except (KeyError, TypeError, ValueError):
        return text


# ---------------------------------------------------------------------------
# The wording of the events orders itself writes


def _step_overdue(event):
    step = ProcessStep.objects.filter(code=event.data.get("step")).first()
    return gettext("Step late: %(step)s passed its target time.") % {
        "step": step.name if step else event.data.get("step", "")
    }


def _customer_linked(event):
    return gettext(
        "Filed under the existing customer %(name)s (no. %(customer)s) after checking"
    ) % {"name": event.data.get("name", ""), "customer": event.data.get("customer", "")}


def _changed(event):
    if event.data.get("request"):
        return gettext("Delivery details changed at the customer's request")
    return gettext("Order changed before confirmation")


def _change_requested(event):
    return gettext("Delivery change requested: %(what)s") % {
        "what": change_what(event.data.get("what", []))
    }


def _change_approved(event):
    return gettext("Delivery change approved: %(what)s") % {
        "what": change_what(event.data.get("what", []))
    }


def _change_refused(event):
    return gettext("Delivery change refused: %(reason)s") % {"reason": event.data.get("reason", "")}


def _promise_changed(event):
    return gettext("New delivery date: %(date)s") % {"date": event.data.get("date", "")}


register_all(
    {
        "step_overdue": _step_overdue,
        "verified": _("Contact and address checked"),
        "customer_linked": _customer_linked,
        "customer_kept_separate": _(
            "Checked: not the same person as the possible matches, kept separate"
        ),
        "callback_requested": _("The customer asked to be called back"),
        "changed": _changed,
        "change_requested": _change_requested,
        "change_approved": _change_approved,
        "change_refused": _change_refused,
        "sales_alerted": _("Sales told of the shortage"),
        "partial_agreed": _("You agreed to receive the available goods first"),
        "promise_changed": _promise_changed,
        "follow_up_created": _("Follow-up task created"),
        "follow_up_escalated": _("Follow-up overdue: escalated to the managers"),
        "replacement_for": _("Replacement for order %(original)s (return %(rma)s): nothing to pay"),
        "replacement_placed": _("Replacement order %(replacement)s placed for return %(rma)s"),
    }
)
