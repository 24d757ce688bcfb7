"""How logistics' timeline events read (registered in LogisticsConfig.ready)."""

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

# What the carrier's tracking events say, in the reader's language.
TRACKING_WORDS = {
    "in_transit": _("In transit"),
    "out_for_delivery": _("Out for delivery"),
    "delivered": _("Parcel delivered"),
    "delayed": _("Delayed"),
    "failed_attempt": _("Delivery attempt failed"),
    "lost": _("Lost"),
    "damaged": _("Damaged"),
    "address_problem": _("Address problem"),
    "returned": _("Returned to sender"),
}


def tracking_message(data) -> str:
    word = str(TRACKING_WORDS.get(data.get("type"), data.get("type", "")))
    return f"{word} · {data['location']}" if data.get("location") else word


def _shipment(event):
    return gettext("Handed to %(carrier)s, tracking number %(tracking)s") % {
        "carrier": event.data.get("carrier", ""),
        "tracking": event.data.get("tracking", ""),
    }


def _tracking(event):
    return tracking_message(event.data)


def _exception_opened(event):
    return gettext("Delivery problem: %(problem)s") % {"problem": tracking_message(event.data)}


EVENTS = {
    "shipment": _shipment,
    "tracking": _tracking,
    "exception_opened": _exception_opened,
    "exception_resolved": _("Delivery problem solved"),
}
