"""How finance's timeline events read (registered in FinanceConfig.ready). Every money
change is an internal event: the amount, what it was for and the balance after it."""

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .models import GOODS_CHARGE_REASONS, ChargeKind, EntryKind


def _what(event) -> str:
    what = event.data.get("what", "")
    if what in ChargeKind.values:
        return str(ChargeKind(what).label)
    if what in EntryKind.values:
        return str(EntryKind(what).label)
    return what


def _money(text):
    def wording(event):
        said = text % {
            "what": _what(event),
            "amount": event.data.get("amount", ""),
            "currency": event.data.get("currency", ""),
            "balance": event.data.get("balance", ""),
        }
        reason = GOODS_CHARGE_REASONS.get(event.data.get("reason", ""))
        return (
            gettext("%(event)s (%(reason)s)") % {"event": said, "reason": reason}
            if reason
            else said
        )

    return wording


def _override(event):
    return gettext("Checklist item overridden by a manager: %(item)s") % {
        "item": event.data.get("item", "")
    }


def _escalated(event):
    if event.data.get("with") == "sales":
        return gettext("Closing request late with Sales: escalated to the managers")
    return gettext("Closing request late with Finance: escalated to the managers")


EVENTS = {
    "ledger_charge": _money(_("Charged (%(what)s): %(amount)s %(currency)s; balance %(balance)s")),
    "ledger_payment": _money(_("Payment received: %(amount)s %(currency)s; balance %(balance)s")),
    "ledger_refund": _money(_("Refund paid: %(amount)s %(currency)s; balance %(balance)s")),
    "ledger_reversal": _money(
        _("Entry reversed (%(what)s): %(amount)s %(currency)s; balance %(balance)s")
    ),
    "invoice_recorded": _("Invoice %(number)s recorded: %(amount)s %(currency)s"),
    "invoice_voided": _("Invoice %(number)s voided"),
    "closing_opened": _("Closing request opened for Sales"),
    "closing_document": _("Document added to the closing request"),
    "closing_submitted": _("Closing request submitted to Finance"),
    "closing_acknowledged": _("Finance took the closing request"),
    "closing_sent_back": _("Closing request sent back to Sales"),
    "closing_override": _override,
    "closing_escalated": _escalated,
    "freight_by_hand": _(
        "Shipped with %(carrier)s %(tracking)s: the order is not in yuan, so Finance charges "
        "its freight by hand"
    ),
    "freight_replacement": _(
        "Freight for %(carrier)s %(tracking)s is ours: the order replaces exchanged goods"
    ),
    "freight_included": _(
        "Freight for %(carrier)s %(tracking)s is included in the prices: nothing charged"
    ),
    "freight_free": _(
        "Freight for %(carrier)s %(tracking)s is free: the goods reach %(free_from)s CNY"
    ),
}
