"""The warehouse's part of the process review pack (``orders.review``): how long
confirmed orders waited for the warehouse to acknowledge them, and what the warehouse
did again (failed reviews, picking rounds started again, discrepancies). Aggregated in
the database: a constant number of queries whatever the period holds."""

from django.db.models import Count, DateTimeField, F, OuterRef, Subquery
from django.utils.translation import gettext as _

from orders import review
from orders.models import Status, StepRun

from .models import Discrepancy, DiscrepancyKind, Fulfilment, Pick, Review


def sections(start_dt, end_dt) -> list[review.Section]:
    # The order's confirmation: its one run that left "placed" for "confirmed" (an order
    # is placed once), looked up by the order for each fulfilment acknowledged in the
    # period. distinct() (the rows are distinct already, by pk) keeps PostgreSQL from
    # copying the lookup into each aggregate; the aggregates skip the fulfilments
    # without a confirmation before their acknowledgement (NULL).
    confirmation = (
        StepRun.objects.filter(
            order=OuterRef("order"),
            status=Status.PLACED,
            to_status=Status.CONFIRMED,
            ended_at__lte=OuterRef("acknowledged_at"),
        )
        .order_by()
        .values("ended_at")[:1]
    )
    handed = (
        Fulfilment.objects.filter(acknowledged_at__gte=start_dt, acknowledged_at__lt=end_dt)
        .annotate(confirmed_at=Subquery(confirmation, output_field=DateTimeField()))
        .values("pk", "acknowledged_at", "confirmed_at")
        .distinct()
    )
    wait = review.Seconds(F("acknowledged_at") - F("confirmed_at"))
    handoff = review.Section(
        title=_("Hand-offs between departments"),
        columns=review.handoff_columns(),
        rows=[
            review.handoff_row(
                _("Sales → Warehouse: confirmed until the warehouse acknowledged"),
                review.handoff_figures(handed, wait, counted="confirmed_at"),
            )
        ],
        key=review.HANDOFFS,
    )

    within = {"created_at__gte": start_dt, "created_at__lt": end_dt}
    failed = Review.objects.filter(passed=False, **within).aggregate(
        n=Count("pk"), orders=Count("order", distinct=True)
    )
    repicked = Pick.objects.filter(round__gt=1, **within).aggregate(
        n=Count("order_id", distinct=True)
    )
    found = {
        row["kind"]: row
        for row in Discrepancy.objects.filter(**within)
        .values("kind")
        .annotate(n=Count("pk"), orders=Count("order", distinct=True))
        .order_by("kind")
    }
    rows = [
        [_("Reviews failed"), failed["n"], failed["orders"]],
        [_("Orders picked again (a new picking round)"), repicked["n"], repicked["n"]],
    ]
    for kind in DiscrepancyKind:
        row = found.get(kind.value, {})
        rows.append(
            [
                _("Picking discrepancies: %(kind)s") % {"kind": kind.label},
                row.get("n", 0),
                row.get("orders", 0),
            ]
        )
    rework = review.Section(
        title=_("Rework"), columns=review.rework_columns(), rows=rows, key=review.REWORK
    )
    return [handoff, rework]


# The warehouse's figures in every pack (imported from WarehouseConfig.ready()).
review.register(sections, position=20)
