"""Finance's part of the process review pack (``orders.review``): the waits of the
closing hand-off, from the closing request opened (the receipt confirmed) until Sales
submits it and until Finance acts on it. Aggregated in the database."""

from django.db.models import F, Q
from django.utils.translation import gettext as _

from orders import review

from .models import ClosingRequest


def sections(start_dt, end_dt) -> list[review.Section]:
    # Both waits in one pass over the requests submitted or acknowledged in the period.
    submitted = Q(submitted_at__gte=start_dt, submitted_at__lt=end_dt) & Q(
        submitted_at__gte=F("opened_at")
    )
    acknowledged = Q(
        acknowledged_at__gte=start_dt, acknowledged_at__lt=end_dt, submitted_at__isnull=False
    ) & Q(acknowledged_at__gte=F("submitted_at"))
    figures = review.handoffs_figures(
        ClosingRequest.objects.filter(
            Q(submitted_at__gte=start_dt, submitted_at__lt=end_dt)
            | Q(acknowledged_at__gte=start_dt, acknowledged_at__lt=end_dt)
        ),
        submitted=(submitted, review.Seconds(F("submitted_at") - F("opened_at"))),
        acknowledged=(acknowledged, review.Seconds(F("acknowledged_at") - F("submitted_at"))),
    )
    rows = [
        review.handoff_row(
            _("Delivery → Sales: closing request opened until Sales submitted it"),
            figures["submitted"],
        ),
        review.handoff_row(
            _("Sales → Finance: submitted until Finance acknowledged it"),
            figures["acknowledged"],
        ),
    ]
    return [
        review.Section(
            title=_("Hand-offs between departments"),
            columns=review.handoff_columns(),
            rows=rows,
            key=review.HANDOFFS,
        )
    ]


# Finance's figures in every pack (imported from FinanceConfig.ready()).
review.register(sections, position=40)
