"""Carriers push tracking events to /logistics/webhook/<carrier>/.

The request is signed: ``X-O2D-Timestamp`` (Unix seconds) and ``X-O2D-Signature``
(``sha256=`` + hex HMAC-SHA256 of ``"<timestamp>." + body`` with the carrier's webhook
secret). A bad signature is refused, a timestamp more than WEBHOOK_TOLERANCE old (or
ahead) is refused, and an event the carrier sent before (same event id) is ignored.

A body is taken whole or not at all: any event that is malformed (not JSON, too deep,
a string with NUL or a lone surrogate, a date that does not exist) or whose time is
out of range (orders.validators.check_tracking_time) refuses the request with a 400
and a JSON ``{"error": ...}`` in English, and nothing is recorded.
"""

import hashlib
import hmac
import json
import re
import time
from datetime import datetime

from django.core.exceptions import ValidationError
from django.utils import timezone, translation
from django.utils.dateparse import parse_datetime

from orders.validators import check_tracking_time

WEBHOOK_TOLERANCE = 300  # seconds
MAX_EVENTS = 500
# Unix seconds have 10 digits until the year 2286; more is not a timestamp.
TIMESTAMP = re.compile(r"[0-9]{1,12}")
# The longest text kept from each field (None: used whole, never stored).
TEXT_FIELDS = {"id": 100, "tracking_number": 40, "type": None, "time": None}
OPTIONAL_TEXT_FIELDS = {"location": 120, "description": 300}


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    message = f"{timestamp}.".encode() + body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signed_headers(secret: str, body: bytes, now=None) -> dict:
    """The headers a carrier (or the simulator) sends with ``body``."""
    timestamp = int(now if now is not None else time.time())
    return {
        "X-O2D-Timestamp": str(timestamp),
        "X-O2D-Signature": sign(secret, timestamp, body),
    }


class WebhookRefused(Exception):
    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status
        self.reason = reason


def _utf8(value: str) -> bytes:
    # Header values arrive decoded as Latin-1; anything else cannot match a signature.
    return value.encode("utf-8", "replace")


def verify(secret: str, headers, body: bytes, now=None) -> None:
    """Raise WebhookRefused unless the request is signed by ``secret`` and fresh."""
    timestamp = headers.get("X-O2D-Timestamp", "")
    signature = headers.get("X-O2D-Signature", "")
    if not timestamp or not signature:
        raise WebhookRefused(401, "missing signature")
    if not hmac.compare_digest(_utf8(sign(secret, timestamp, body)), _utf8(signature)):
        raise WebhookRefused(401, "bad signature")
    if not TIMESTAMP.fullmatch(timestamp):
        raise WebhookRefused(400, "bad timestamp: expected Unix seconds")
    now = now if now is not None else time.time()
    if abs(now - int(timestamp)) > WEBHOOK_TOLERANCE:
        raise WebhookRefused(400, "stale timestamp")


def _text(item: dict, field: str, limit: int | None, *, required: bool) -> str:
    value = item.get(field)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value):
        raise WebhookRefused(
            400,
            "each event needs id, tracking_number, type and time"
            if required
            else f"{field} must be a string",
        )
    if "\x00" in value:
        raise WebhookRefused(400, f"{field} contains a NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise WebhookRefused(400, f"{field} is not valid Unicode (lone surrogate)") from None
    return value[:limit]


def _event_time(event_id: str, text: str) -> datetime:
    try:
        happened_at = parse_datetime(text)
    except ValueError:  # well-formed but not a date: 2026-02-30, hour 25, offset +25:00
        happened_at = None
    if happened_at is None:
        raise WebhookRefused(400, f"event {event_id}: bad time {text[:40]!r}")
    try:
        if timezone.is_naive(happened_at):
            happened_at = timezone.make_aware(happened_at, timezone.get_current_timezone())
        check_tracking_time(happened_at)
    except (ValidationError, OverflowError, ValueError) as error:
        raise WebhookRefused(400, f"event {event_id}: {_reason(error)}") from None
    return happened_at


def _reason(error) -> str:
    if not isinstance(error, ValidationError):
        return "time out of range"
    with translation.override("en"):  # the carrier's system reads it, like the other errors
        return " ".join(error.messages)


def parse_events(body: bytes) -> list[dict]:
    """The events in a webhook body, checked for shape and for a time no tracking event
    can have; raises WebhookRefused(400)."""
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise WebhookRefused(400, "body is not JSON") from None
    except RecursionError:
        raise WebhookRefused(400, "body is nested too deeply") from None
    events = payload.get("events") if isinstance(payload, dict) else None
    if not isinstance(events, list) or not 1 <= len(events) <= MAX_EVENTS:
        raise WebhookRefused(400, f"expected 1 to {MAX_EVENTS} events")
    parsed = []
    for item in events:
        if not isinstance(item, dict):
            raise WebhookRefused(400, "each event must be an object")
        fields = {
            name: _text(item, name, limit, required=True) for name, limit in TEXT_FIELDS.items()
        }
        fields.update(
            (name, _text(item, name, limit, required=False))
            for name, limit in OPTIONAL_TEXT_FIELDS.items()
        )
        parsed.append(
            {
                "id": fields["id"],
                "tracking_number": fields["tracking_number"],
                "type": fields["type"],
                "happened_at": _event_time(fields["id"], fields["time"]),
                "location": fields["location"],
                "description": fields["description"],
            }
        )
    return parsed


def check_against_shipments(events: list[dict], shipments: dict) -> None:
    """Refuse (400) the body when an event is dated before its shipment's hand-over."""
    for event in events:
        shipment = shipments.get(event["tracking_number"])
        if shipment is None:
            continue
        try:
            check_tracking_time(event["happened_at"], shipped_at=shipment.shipped_at)
        except ValidationError as error:
            raise WebhookRefused(400, f"event {event['id']}: {_reason(error)}") from None


def event_payload(event_id, tracking_number, type_, when: datetime, location="", description=""):
    """One event as a carrier sends it (used by the simulator and the tests)."""
    return {
        "id": event_id,
        "tracking_number": tracking_number,
        "type": type_,
        "time": when.isoformat(),
        "location": location,
        "description": description,
    }
