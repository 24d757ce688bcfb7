from django import template

from .. import panels as registry

register = template.Library()


@register.simple_tag(takes_context=True)
def panels(context, slot, order):
    """``{% panels "slot" order %}``: what the department apps show in ``slot``
    (see orders.panels); ``{% panels "slot" order as name %}`` keeps it to test."""
    return registry.render(slot, context.get("request"), order)
