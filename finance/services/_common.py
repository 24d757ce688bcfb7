"""What every finance action shares: the limits on amounts and texts, who may do what,
and the order's lock."""

from decimal import Decimal

from django.db.models import DecimalField
from django.utils.translation import gettext as _

from orders.models import Order
from orders.roles import Role, has_role
from orders.services import (
    OrderActionError,
    TransitionForbidden,
)

MONEY_FIELD = DecimalField(max_digits=14, decimal_places=2)
MAX_AMOUNT = Decimal("999999999999.99")
REASON_MAX = 300
NOTE_MAX = 2000


# ---------------------------------------------------------------------------
# Who may do what


def _require_finance(by):
    if by is not None and not has_role(by, Role.FINANCE):
        raise TransitionForbidden(_("Only Finance may do this."))


def _require_sales(by):
    if by is None or not has_role(by, Role.SALES):
        raise TransitionForbidden(_("Only Sales may submit a closing request."))


def _require_manager(by):
    if by is None or not has_role(by, Role.MANAGER):
        raise TransitionForbidden(_("Only a manager may override a checklist item."))


def _reason(text, *, required=True, limit=REASON_MAX) -> str:
    text = (text or "").strip()
    if required and not text:
        raise OrderActionError(_("Please give a reason."))
    if len(text) > limit:
        raise OrderActionError(_("A reason can have at most %(max)d characters.") % {"max": limit})
    return text


def _amount(value, *, allow_negative=False) -> Decimal:
    if not isinstance(value, Decimal) or not value.is_finite():
        raise OrderActionError(_("Enter an amount."))
    if value != value.quantize(Decimal("0.01")):
        raise OrderActionError(_("Amounts are exact to the fen: at most two decimal places."))
    if value == 0 or abs(value) > MAX_AMOUNT or (value < 0 and not allow_negative):
        raise OrderActionError(_("Enter an amount greater than zero."))
    return value


def _lock(order_id) -> Order:
    return Order.objects.select_for_update().get(pk=order_id)
