"""A carrier that really runs: it posts signed tracking events for a shipment to the
webhook, the way a carrier's system would, so the flow can be watched end to end.

    manage.py simulate_carrier TRACKING_NUMBER --url http://127.0.0.1:8000
    manage.py simulate_carrier --all-in-transit --scenario delayed --interval 2
"""

import json
import time
import urllib.error
import urllib.request
import uuid

from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse
from django.utils import timezone

from logistics.models import Shipment, ShipmentStatus
from logistics.webhooks import event_payload, signed_headers

# Realistic event sequences; the last step of "normal" delivers.
SCENARIOS = {
    "normal": ["in_transit", "in_transit", "out_for_delivery", "delivered"],
    "delayed": ["in_transit", "delayed", "in_transit", "out_for_delivery", "delivered"],
    "failed": ["in_transit", "out_for_delivery", "failed_attempt", "out_for_delivery", "delivered"],
    "address": ["in_transit", "out_for_delivery", "address_problem"],
    "lost": ["in_transit", "lost"],
    "damaged": ["in_transit", "damaged", "returned"],
}
HUBS = ["上海分拨中心", "杭州转运中心", "南京转运中心", "配送站"]


class Command(BaseCommand):
    help = "Post a carrier's signed tracking events for shipments to the webhook."

    def add_arguments(self, parser):
        parser.add_argument("tracking_numbers", nargs="*")
        parser.add_argument(
            "--all-in-transit", action="store_true", help="Every shipment not delivered yet."
        )
        parser.add_argument("--scenario", choices=sorted(SCENARIOS), default="normal")
        parser.add_argument("--url", default="http://127.0.0.1:8000", help="Where O2D runs.")
        parser.add_argument(
            "--interval", type=float, default=0.0, help="Seconds between events (0: all at once)."
        )
        parser.add_argument(
            "--repeat",
            type=int,
            default=1,
            help="Send every event this many times (a carrier retrying).",
        )

    def handle(self, *args, **options):
        shipments = Shipment.objects.select_related("carrier")
        if options["all_in_transit"]:
            shipments = shipments.exclude(status=ShipmentStatus.DELIVERED)
        elif options["tracking_numbers"]:
            shipments = shipments.filter(tracking_number__in=options["tracking_numbers"])
        else:
            raise CommandError("Give tracking numbers or --all-in-transit.")
        shipments = list(shipments)
        if not shipments:
            raise CommandError("No such shipment.")
        sent = accepted = duplicates = 0
        for shipment in shipments:
            steps = SCENARIOS[options["scenario"]]
            # Spread the events between the hand-over and now: never in the future.
            start = shipment.shipped_at
            step = (timezone.now() - start) / (len(steps) + 1)
            run = uuid.uuid4().hex[:8]
            events = [
                event_payload(
                    f"{shipment.carrier.code}-{shipment.tracking_number}-{run}-{i}",
                    shipment.tracking_number,
                    kind,
                    start + step * (i + 1),
                    location=HUBS[min(i, len(HUBS) - 1)]
                    if kind != "delivered"
                    else shipment.order.delivery_city,
                )
                for i, kind in enumerate(steps)
            ]
            url = options["url"].rstrip("/") + reverse(
                "logistics:webhook", args=[shipment.carrier.code]
            )
            for event in events:
                for _ in range(options["repeat"]):
                    result = self._post(url, shipment.carrier.webhook_secret, [event])
                    sent += 1
                    accepted += result.get("accepted", 0)
                    duplicates += result.get("duplicates", 0)
                if options["interval"]:
                    time.sleep(options["interval"])
            self.stdout.write(f"{shipment.tracking_number}: {' → '.join(steps)}")
        self.stdout.write(f"sent {sent}, accepted {accepted}, duplicates {duplicates}")

    def _post(self, url, secret, events):
        if not url.startswith(("http://", "https://")):
            raise CommandError("--url must be an http(s) address.")
        body = json.dumps({"events": events}, ensure_ascii=False).encode()
        request = urllib.request.Request(  # noqa: S310 (scheme checked above)
            url,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", **signed_headers(secret, body)},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            raise CommandError(f"{url} answered {error.code}: {error.read()[:200]!r}") from None
        except urllib.error.URLError as error:
            raise CommandError(f"cannot reach {url}: {error.reason}") from None
