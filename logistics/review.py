"""Logistics' part of the process review pack (``orders.review``): how long reviewed
orders waited to be shipped, the delivery exceptions by carrier, and the steps'
runs over target by carrier (the step runs joined to the orders' shipments).
Aggregated in the database: a constant number of queries whatever the period holds."""

from django.db.models import Count, DateTimeField, F, OuterRef, Q, Subquery
from django.utils.translation import gettext as _

from orders import review
from orders.models import StepCode, StepRun
from warehouse.models import Review

from .models import DeliveryException, EventType, Shipment

# The steps a carrier has a hand in: shipping (the parcel is handed over) and tracking.
CARRIER_STEPS = [StepCode.SHIPPING, StepCode.TRACKING]


def sections(start_dt, end_dt) -> list[review.Section]:
    return [
        _handoff(start_dt, end_dt),
        _exceptions(start_dt, end_dt),
        _by_carrier(start_dt, end_dt),
    ]


def _handoff(start_dt, end_dt):
    passed = (
        Review.objects.filter(
            order=OuterRef("order"), passed=True, created_at__lte=OuterRef("shipped_at")
        )
        .order_by("-created_at")
        .values("created_at")[:1]
    )
    # The latest passed review once per shipment: the aggregates skip the shipments
    # without one (NULL), and distinct() (the rows are distinct already, by pk) keeps
    # PostgreSQL from copying the subquery into each aggregate (four lookups a row).
    shipped = (
        Shipment.objects.filter(shipped_at__gte=start_dt, shipped_at__lt=end_dt)
        .annotate(reviewed_at=Subquery(passed, output_field=DateTimeField()))
        .values("pk", "shipped_at", "reviewed_at")
        .distinct()
    )
    wait = review.Seconds(F("shipped_at") - F("reviewed_at"))
    return review.Section(
        title=_("Hand-offs between departments"),
        columns=review.handoff_columns(),
        rows=[
            review.handoff_row(
                _("Warehouse → Logistics: review passed until shipped"),
                review.handoff_figures(shipped, wait, counted="reviewed_at"),
            )
        ],
        key=review.HANDOFFS,
    )


def _exceptions(start_dt, end_dt):
    found = (
        DeliveryException.objects.filter(opened_at__gte=start_dt, opened_at__lt=end_dt)
        .values("shipment__carrier__name", "type")
        .annotate(n=Count("pk"), orders=Count("order", distinct=True))
        .order_by("shipment__carrier__name", "type")
    )
    rows = [
        [
            _("Delivery exceptions: %(carrier)s, %(problem)s")
            % {
                "carrier": row["shipment__carrier__name"],
                "problem": EventType(row["type"]).label
                if row["type"] in EventType.values
                else row["type"],
            },
            row["n"],
            row["orders"],
        ]
        for row in found
    ]
    if not rows:
        rows = [[_("Delivery exceptions"), 0, 0]]
    return review.Section(
        title=_("Rework"), columns=review.rework_columns(), rows=rows, key=review.REWORK
    )


def _by_carrier(start_dt, end_dt):
    # Joined to the orders' shipments (an order shipped by two carriers counts for each).
    found = (
        StepRun.objects.filter(
            ended_at__gte=start_dt,
            ended_at__lt=end_dt,
            step__in=CARRIER_STEPS,
            order__shipments__isnull=False,
        )
        .values("step", carrier=F("order__shipments__carrier__name"))
        .annotate(
            runs=Count("pk", distinct=True),
            breaches=Count("pk", distinct=True, filter=Q(breached=True)),
        )
        .order_by("step", "carrier")
    )
    position = {code: i for i, code in enumerate(CARRIER_STEPS)}
    rows = [
        [
            StepCode(row["step"]).label,
            row["carrier"],
            row["runs"],
            row["breaches"],
            review.Share(row["breaches"], row["runs"]),
        ]
        for row in sorted(found, key=lambda r: (position.get(r["step"], 9), r["carrier"]))
    ]
    return review.Section(
        title=_("Over target by carrier"),
        columns=[_("Step"), _("Carrier"), _("Runs"), _("Over target"), _("Share")],
        rows=rows,
        key="by_carrier",
    )


# Logistics' figures in every pack (imported from LogisticsConfig.ready()).
review.register(sections, position=30)
