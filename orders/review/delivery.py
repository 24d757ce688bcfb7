"""The review packs produced by themselves: each morning (``orders.tasks.send_review_packs``,
07:30 Asia/Shanghai) the last full week (Monday to Sunday) and the last full month
get their pack once, emailed to the managers with the PDF attached.

Once: the unique (period, start) of ``ReviewPackRun`` makes one row per period even
when two workers run at the same time; the send is then claimed with a conditional
UPDATE (as the deadline sweep claims its rows, ``orders/services/sweep.py``): a row
is claimable while it has no recipients booked and no live claim (``emailed_at``
unset, or set longer than ``CLAIM_LEASE`` ago by a worker that died). After the send
the recipients are booked, and the row is never claimed again. A worker killed after
its claim leaves a claim that runs out: the next run sends the pack.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from .. import printing
from ..models import PackPeriod, ReviewPackRun
from ..roles import Role
from .forms import last_month, last_week
from .pack import build_pack

logger = logging.getLogger(__name__)

# Longer than building the pack, drawing its PDF and one SMTP send ever take.
CLAIM_LEASE = timedelta(minutes=15)


def due_periods(today) -> list[tuple[str, object, object]]:
    """(period, start, end) of the last full week and the last full month."""
    return [(PackPeriod.WEEK, *last_week(today)), (PackPeriod.MONTH, *last_month(today))]


def recipients() -> list[str]:
    """The active managers' email addresses (one each, in a stable order)."""
    users = (
        get_user_model()
        .objects.filter(is_active=True, groups__name=Role.MANAGER)
        .exclude(email="")
        .order_by("email")
        .values_list("email", flat=True)
        .distinct()
    )
    return list(users)


def _run_for(period, start, end, now) -> ReviewPackRun:
    try:
        with transaction.atomic():
            run, _created = ReviewPackRun.objects.get_or_create(
                period=period, start=start, defaults={"end": end, "created_at": now}
            )
    except IntegrityError:  # another worker created it between our read and insert
        run = ReviewPackRun.objects.get(period=period, start=start)
    return run


def claim(run: ReviewPackRun, now) -> bool:
    """Claim the send of ``run`` (a conditional UPDATE): false when it was sent, or a
    live claim of another worker stands."""
    claimable = Q(emailed_at__isnull=True) | Q(emailed_at__lte=now - CLAIM_LEASE)
    return bool(
        ReviewPackRun.objects.filter(claimable, pk=run.pk, recipients=[]).update(emailed_at=now)
    )


def send_due_packs(now=None) -> int:
    """Produce and email the packs that are due; returns how many were sent."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    to = recipients()
    sent = 0
    for period, start, end in due_periods(today):
        run = _run_for(period, start, end, now)
        if run.recipients:
            continue  # sent already
        if not to:
            logger.warning("review pack %s %s: no manager with an email address", period, start)
            continue
        if not claim(run, now):
            continue
        try:
            message = _message(run, to)
            message.send(fail_silently=False)
        except Exception:
            # Nothing went out: give the claim back, so that the next run sends it.
            ReviewPackRun.objects.filter(pk=run.pk, recipients=[], emailed_at=now).update(
                emailed_at=None
            )
            raise
        ReviewPackRun.objects.filter(pk=run.pk).update(emailed_at=timezone.now(), recipients=to)
        sent += 1
        logger.info("review pack %s %s–%s emailed to %d manager(s)", period, start, end, len(to))
    return sent


def _message(run: ReviewPackRun, to: list[str]) -> EmailMessage:
    """The email of ``run``'s pack in the business's language, with the PDF."""
    with translation.override(settings.LANGUAGE_CODE):
        pack = build_pack(run.start, run.end)
        query = f"start={run.start.isoformat()}&end={run.end.isoformat()}"
        link = settings.SITE_URL.rstrip("/") + reverse("review_pack") + "?" + query
        context = {"run": run, "pack": pack, "link": link, "query": query}
        pdf = printing.render_pdf("orders/review/pdf/pack.html", context)
        subject = render_to_string("orders/review/email_subject.txt", context).strip()
        body = render_to_string("orders/review/email_body.txt", context)
    message = EmailMessage(subject=subject, body=body, to=to)
    message.attach(f"review-pack-{run.start}-{run.end}.pdf", pdf, "application/pdf")
    return message
