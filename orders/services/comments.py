"""Staff comments on the timeline."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import timeline
from ..models import (
    Order,
    OrderEvent,
)
from .errors import OrderActionError, TransitionForbidden

COMMENT_MAX_LENGTH = 4000


def add_comment(order_id, *, by, text: str) -> OrderEvent:
    """Add a staff comment to the order's timeline (seen by every department, never
    by the customer). Raises OrderActionError for an empty or over-long comment."""
    text = (text or "").strip()
    if not text:
        raise OrderActionError(_("A comment cannot be empty."))
    if len(text) > COMMENT_MAX_LENGTH:
        raise OrderActionError(
            _("A comment can have at most %(max)d characters.") % {"max": COMMENT_MAX_LENGTH}
        )
    if not by.has_perm("orders.comment_order"):
        raise TransitionForbidden(_("Your role may not comment on orders."))
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_id)
        return timeline.record(
            order,
            timeline.COMMENT,
            actor=by,
            note=text,
            public=False,
            created_at=timezone.now(),
        )
