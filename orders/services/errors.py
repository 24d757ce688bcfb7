"""How a service refuses an action."""

from django.utils.translation import gettext as _


class OrderActionError(Exception):
    """A business action was refused; ``message`` is translated and safe to show."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


class TransitionNotAllowed(OrderActionError):
    pass


class TransitionForbidden(OrderActionError):
    pass


def not_possible_now(order) -> "TransitionNotAllowed":
    """The refusal for an action the order's current state does not allow."""
    return TransitionNotAllowed(
        _("Order %(number)s is %(status)s: this action is not possible now.")
        % {"number": order.number, "status": order.get_status_display()}
    )


class OrderChanged(OrderActionError):
    """Someone else changed the order between the page being shown and the click."""
