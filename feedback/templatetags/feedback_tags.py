from django import template

register = template.Library()


@register.inclusion_tag("feedback/_public_receipt.html", takes_context=True)
def receipt_panel(context, order):
    """The customer's receipt panel on the public status page (filled in by feedback)."""
    return {"order": order, "request": context.get("request")}


@register.inclusion_tag("feedback/_staff_receipt.html", takes_context=True)
def receipt_staff_panel(context, order):
    """Receipt and problem cases on the staff order page (filled in by feedback)."""
    return {"order": order, "request": context.get("request"), "perms": context.get("perms")}
