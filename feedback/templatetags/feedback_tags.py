from django import template

register = template.Library()


@register.inclusion_tag("feedback/_public_receipt.html", takes_context=True)
def receipt_panel(context, order):
    """The customer's receipt panel on the public status page (filled in by feedback)."""
    return {"order": order, "request": context.get("request")}
