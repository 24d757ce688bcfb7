"""Carriers push tracking events to /logistics/webhook/<carrier>/.

The request is signed: ``X-O2D-Timestamp`` (Unix seconds) and ``X-O2D-Signature``
(``sha256=`` + hex HMAC-SHA256 of ``"<timestamp>." + body`` with the carrier's webhook
secret). A bad signature is refused, a timestamp more than WEBHOOK_TOLERANCE old (or
ahead) is refused, and an event the carrier sent before (same event id) is ignored.
"""

import hashlib
import hmac
import json
import time
from datetime import datetime

from django.utils import timezone
from django.utils.dateparse import parse_datetime

WEBHOOK_TOLERANCE = 300  # seconds
MAX_EVENTS = 500


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


def verify(secret: str, headers, body: bytes, now=None) -> None:
    """Raise WebhookRefused unless the request is signed by ``secret`` and fresh."""
    timestamp = headers.get("X-O2D-Timestamp", "")
    signature = headers.get("X-O2D-Signature", "")
    if not timestamp.isdigit() or not signature:
        raise WebhookRefused(401, "missing signature")
    if not hmac.compare_digest(sign(secret, timestamp, body), signature):
        raise WebhookRefused(401, "bad signature")
    now = now if now is not None else time.time()
    if abs(now - int(timestamp)) > WEBHOOK_TOLERANCE:
        raise WebhookRefused(400, "stale timestamp")


def parse_events(body: bytes) -> list[dict]:
    """The events in a webhook body, checked for shape; raises WebhookRefused(400)."""
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise WebhookRefused(400, "body is not JSON") from None
    events = payload.get("events") if isinstance(payload, dict) else None
    if not isinstance(events, list) or not 1 <= len(events) <= MAX_EVENTS:
        raise WebhookRefused(400, f"expected 1 to {MAX_EVENTS} events")
    parsed = []
    for item in events:
        if not isinstance(item, dict):
            raise WebhookRefused(400, "each event must be an object")
        fields = {k: item.get(k) for k in ("id", "tracking_number", "type", "time")}
        if not all(isinstance(v, str) and v for v in fields.values()):
            raise WebhookRefused(400, "each event needs id, tracking_number, type and time")
        happened_at = parse_datetime(fields["time"])
        if happened_at is None:
            raise WebhookRefused(400, f"bad time: {fields['time'][:40]}")
        if timezone.is_naive(happened_at):
            happened_at = timezone.make_aware(happened_at, timezone.get_current_timezone())
        parsed.append(
            {
                "id": fields["id"][:100],
                "tracking_number": fields["tracking_number"][:40],
                "type": fields["type"],
                "happened_at": happened_at,
                "location": str(item.get("location") or "")[:120],
                "description": str(item.get("description") or "")[:300],
            }
        )
    return parsed


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
