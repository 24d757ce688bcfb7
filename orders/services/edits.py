"""Changes to an order before confirmation."""

from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _

from .. import timeline
from ..models import (
    Order,
    OrderLine,
    Status,
)
from ..signals import order_total_changed
from .errors import OrderActionError, TransitionForbidden, TransitionNotAllowed
from .placement import LineRequest

CHANGEABLE_FIELDS = [
    "delivery_recipient",
    "delivery_phone",
    "delivery_country",
    "delivery_province",
    "delivery_city",
    "delivery_district",
    "delivery_street",
    "delivery_postal_code",
    "requested_date",
    "requested_window",
    "special_instructions",
]


def _shown(value) -> str:
    return "" if value is None else str(value)


def _apply_fields(order: Order, fields: dict) -> list[dict]:
    """Set ``fields`` on ``order`` (not saved) and return what changed, old -> new, as
    the "changed" timeline event records it."""
    changes = []
    for name, new in fields.items():
        old = getattr(order, name)
        if _shown(old) != _shown(new):
            label = str(Order._meta.get_field(name).verbose_name)
            changes.append({"field": name, "label": label, "old": _shown(old), "new": _shown(new)})
            setattr(order, name, new)
    return changes


def change_order(order_id, *, by, lines: list[LineRequest], fields: dict) -> Order:
    """Sales changes an order before it is confirmed: lines, quantities, delivery address,
    requested date or window, instructions. Each change is written to the timeline as
    old -> new. Locks the order; refuses after confirmation and for other roles."""
    if by is not None and not by.has_perm("orders.confirm_order"):
        raise TransitionForbidden(_("Your role may not change orders."))
    if not lines:
        raise OrderActionError(_("An order needs at least one line."))
    for line in lines:
        if not 1 <= line.quantity <= 100_000:
            raise OrderActionError(_("Quantities must be between 1 and 100,000."))
    unknown = set(fields) - set(CHANGEABLE_FIELDS)
    if unknown:
        raise OrderActionError(_("These details cannot be changed here."))
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_id)
        if order.status != Status.PLACED:
            raise TransitionNotAllowed(
                _("Order %(number)s is %(status)s: it can only be changed before confirmation.")
                % {"number": order.number, "status": order.get_status_display()}
            )
        changes = _apply_fields(order, fields)

        current = {line.product_id: line for line in order.lines.select_related("product")}
        wanted = {}
        for line in lines:
            wanted[line.product.pk] = wanted.get(line.product.pk, 0) + line.quantity
        for product_id, line in current.items():
            if product_id not in wanted:
                changes.append(
                    {"field": "line", "label": line.sku, "old": str(line.quantity), "new": "0"}
                )
        products = {line.product.pk: line.product for line in lines}
        for product_id, quantity in wanted.items():
            existing = current.get(product_id)
            if existing is None:
                product = products[product_id]
                if not product.active:
                    raise OrderActionError(
                        _("Product %(sku)s is no longer sold.") % {"sku": product.sku}
                    )
                if product.currency != order.currency:
                    raise OrderActionError(
                        _("All goods of one order must be priced in the same currency.")
                    )
                changes.append(
                    {"field": "line", "label": product.sku, "old": "0", "new": str(quantity)}
                )
            elif existing.quantity != quantity:
                changes.append(
                    {
                        "field": "line",
                        "label": existing.sku,
                        "old": str(existing.quantity),
                        "new": str(quantity),
                    }
                )
        if not changes:
            return order

        # Lines keep the price they were sold at; new lines take today's price.
        OrderLine.objects.filter(order=order).exclude(product_id__in=wanted).delete()
        for product_id, quantity in wanted.items():
            existing = current.get(product_id)
            if existing is None:
                product = products[product_id]
                OrderLine.objects.create(
                    order=order,
                    product=product,
                    sku=product.sku,
                    name=product.name,
                    quantity=quantity,
                    unit_price=product.unit_price,
                )
            elif existing.quantity != quantity:
                OrderLine.objects.filter(pk=existing.pk).update(quantity=quantity)
        old_total = order.total
        order.total = sum(
            (line.unit_price * line.quantity for line in order.lines.all()), Decimal("0")
        )
        order.save(update_fields=[*fields, "total"])
        timeline.record(order, "changed", actor=by, data={"changes": changes})
        if order.total != old_total:
            order_total_changed.send(sender=Order, order=order, old_total=old_total, by=by)
    return order
