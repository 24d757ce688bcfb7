"""The order's transitions, one service per business action."""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import ConcurrentTransition, can_proceed, has_transition_perm

from .. import timeline
from ..clock import step_for_status, steps_by_code
from ..models import (
    DeliveryPromise,
    FollowUp,
    FollowUpReason,
    Notification,
    NotificationKind,
    Order,
    Status,
    StepCode,
    StepRun,
    VerificationMethod,
)
from ..roles import Role
from ..signals import order_status_changing, order_transitioned, partial_delivery_agreed
from .errors import (
    OrderActionError,
    OrderChanged,
    TransitionForbidden,
    TransitionNotAllowed,
    not_possible_now,
)
from .notifications import _enqueue_email, notify_customer


def _transition(
    order_id,
    name: str,
    *,
    by,
    note: str = "",
    expected_status=None,
    arguments=None,
    check=None,
    after=None,
) -> Order:
    """Lock the order, check the rule and the user's permission, transition, save,
    write the timeline event, and signal other apps after commit.

    ``arguments`` go to the transition method; ``check(order)`` may refuse before
    anything changes; ``after(order)`` writes related rows in the same transaction.
    ``by=None`` is the system or the customer (through a signed link).

    Raises TransitionNotAllowed (wrong state), TransitionForbidden (wrong role),
    OrderChanged (the order moved since the user saw it) or OrderActionError.
    """
    with transaction.atomic():
        order = Order.objects.select_for_update().select_related("customer").get(pk=order_id)
        if expected_status and order.status != expected_status:
            raise OrderChanged(
                _(
                    "Order %(number)s was changed meanwhile: it is now %(status)s. "
                    "Nothing was done; please look again."
                )
                % {"number": order.number, "status": order.get_status_display()}
            )
        method = getattr(order, name)
        meta = method._django_fsm.get_transition(order.status)
        if check is not None and meta is not None:
            check(order)
        if not can_proceed(method):
            raise not_possible_now(order)
        if by is not None and not has_transition_perm(method, by):
            raise TransitionForbidden(_("Your role may not take this action on the order."))
        note = (note or "").strip()
        if meta.custom.get("needs_note") and not note:
            raise OrderActionError(_("Please give a reason."))
        from_status = order.status
        step_started_at = order.step_started_at
        method(**(arguments or {}))
        try:
            with transaction.atomic():
                order.save()
        except ConcurrentTransition:
            raise OrderChanged(
                _("Order %(number)s was changed meanwhile. Nothing was done; please look again.")
                % {"number": order.number}
            ) from None
        timeline.record(
            order,
            timeline.TRANSITION,
            actor=by,
            from_status=from_status,
            to_status=order.status,
            note=note,
            public=True,
            created_at=order.step_started_at,
        )
        record_step_run(order, from_status, step_started_at, by=by)
        # Leaving a step closes its follow-ups: the work they chased is done.
        FollowUp.objects.filter(order=order, done_at__isnull=True).update(
            done_at=order.step_started_at
        )
        if after is not None:
            after(order)
        order_status_changing.send(
            sender=Order,
            order=order,
            transition=name,
            from_status=from_status,
            to_status=order.status,
            by=by,
        )
        to_status = order.status
        transaction.on_commit(
            lambda: order_transitioned.send_robust(
                sender=Order,
                order_id=order.pk,
                transition=name,
                from_status=from_status,
                to_status=to_status,
                actor_id=getattr(by, "pk", None),
            )
        )
    return order


def record_step_run(order, from_status, started_at, *, by=None) -> StepRun | None:
    """The step the order just left, as the review pack reads it: from the state's
    start to now (``order.step_started_at``, the new state's start), judged against
    the target in force now. Nothing for states without a step (closed, cancelled)."""
    step = step_for_status(from_status)
    if step is None or started_at is None:
        return None
    ended_at = order.step_started_at
    target = step.target_for(order.channel)
    seconds = max(0, int((ended_at - started_at).total_seconds()))
    target_seconds = int(target.total_seconds()) if target is not None else None
    run, _created = StepRun.objects.get_or_create(
        order=order,
        started_at=started_at,
        defaults={
            "step": step.code,
            "status": from_status,
            "to_status": order.status,
            "channel": order.channel,
            "role": step.role,
            "by": by if getattr(by, "pk", None) else None,
            "ended_at": max(ended_at, started_at),
            "seconds": seconds,
            "target_seconds": target_seconds,
            "breached": target_seconds is not None and seconds >= target_seconds,
        },
    )
    return run


def _require_verified(order):
    if not order.is_verified:
        raise TransitionNotAllowed(
            _("Verify the customer's contact details and address before confirming.")
        )


def confirm_order(
    order_id,
    *,
    by,
    promised_date=None,
    method=VerificationMethod.PHONE,
    agreed="",
    note="",
    expected_status=None,
) -> Order:
    """Sales confirms the order with the customer: placed -> confirmed.

    Records how it was confirmed, what was agreed and the promised delivery date (kept
    in the order's promise history), closes nothing else, and emails the customer the
    confirmation after commit. Raises OrderActionError without a promised date in the
    future, TransitionNotAllowed before contact and address are verified.
    """
    if promised_date is None:
        raise OrderActionError(_("Enter the delivery date promised to the customer."))
    if promised_date < timezone.localdate():
        raise OrderActionError(_("The promised delivery date cannot be in the past."))
    if method not in VerificationMethod.values:
        raise OrderActionError(_("Choose how the customer confirmed."))

    def record(order):
        DeliveryPromise.objects.create(
            order=order, date=promised_date, method=method, agreed=agreed, note=note, by=by
        )
        notify_customer(order, NotificationKind.ORDER_CONFIRMED)

    return _transition(
        order_id,
        "confirm",
        by=by,
        note=note,
        expected_status=expected_status,
        arguments={"promised_date": promised_date},
        check=_require_verified,
        after=record,
    )


def cancel_order(order_id, *, by, note="", expected_status=None) -> Order:
    """Sales cancels the order, with a reason: placed/confirmed/backordered -> cancelled.
    The customer is told by email after commit."""
    return _transition(
        order_id,
        "cancel",
        by=by,
        note=note,
        expected_status=expected_status,
        after=lambda order: notify_customer(order, NotificationKind.ORDER_CANCELLED),
    )


def backorder_order(order_id, *, by, note="", expected_status=None) -> Order:
    """The warehouse reports a stock shortage, with details: confirmed -> backordered.
    Sales is told at once (see alert_sales_of_shortage)."""
    return _transition(
        order_id,
        "backorder",
        by=by,
        note=note,
        expected_status=expected_status,
        after=alert_sales_of_shortage,
    )


# How long Sales has to agree a new date when no time is set on the processing step.
DEFAULT_SHORTAGE_FOLLOW_UP = timedelta(hours=2)


def alert_sales_of_shortage(order: Order, now=None):
    """Tell Sales at once that ``order`` is short of stock: a follow-up task with a due
    time on the sales dashboard (the processing step's follow-up time), and an email to
    the order's salesperson, or to every Sales user when it has none. Runs inside the
    backorder transition's transaction; the emails leave after commit."""
    now = now or timezone.now()
    step = steps_by_code().get(StepCode.PROCESSING)
    within = (step.follow_up_within if step else None) or DEFAULT_SHORTAGE_FOLLOW_UP
    follow_up, created = FollowUp.objects.get_or_create(
        order=order,
        step=StepCode.PROCESSING,
        step_started_at=order.step_started_at,
        defaults={
            "assignee_id": order.salesperson_id,
            "reason": FollowUpReason.SHORTAGE,
            "due_at": now + within,
            "created_at": now,
        },
    )
    if not created:
        return
    recipients = _sales_recipients(order)
    timeline.record(
        order,
        "sales_alerted",
        data={"due_at": follow_up.due_at.isoformat(), "emailed": len(recipients)},
        created_at=now,
    )
    for user in recipients:
        notification = Notification.objects.create(
            order=order,
            kind=NotificationKind.SHORTAGE_ALERT,
            key=f"{order.step_started_at.isoformat()}/{user.pk}",
            to=user.email,
            language=settings.LANGUAGE_CODE,
        )
        transaction.on_commit(lambda pk=notification.pk: _enqueue_email(pk))


def _sales_recipients(order):
    from django.contrib.auth import get_user_model

    salesperson = order.salesperson
    if salesperson is not None and salesperson.is_active and salesperson.email:
        return [salesperson]
    return list(
        get_user_model()
        .objects.filter(groups__name=Role.SALES, is_active=True)
        .exclude(email="")
        .order_by("pk")
        .distinct()
    )


def record_new_delivery_date(
    order_id, *, by, date, method=VerificationMethod.PHONE, agreed="", note=""
) -> DeliveryPromise:
    """Sales records the new delivery date agreed with the customer (after a shortage,
    or any other change): kept in the order's promise history, shown on the status
    page, emailed to the customer; the shortage follow-up is done."""
    if by is None or not by.has_perm("orders.confirm_order"):
        raise TransitionForbidden(_("Your role may not take this action on the order."))
    if date is None:
        raise OrderActionError(_("Enter the new delivery date."))
    if date < timezone.localdate():
        raise OrderActionError(_("The promised delivery date cannot be in the past."))
    if method not in VerificationMethod.values:
        raise OrderActionError(_("Choose how the customer confirmed."))
    with transaction.atomic():
        order = Order.objects.select_for_update().select_related("customer").get(pk=order_id)
        if order.status not in (Status.CONFIRMED, Status.BACKORDERED, Status.PICKED):
            raise not_possible_now(order)
        previous = order.promised_date
        promise = DeliveryPromise.objects.create(
            order=order, date=date, method=method, agreed=agreed, note=note, by=by
        )
        Order.objects.filter(pk=order.pk).update(promised_date=date)
        order.promised_date = date
        timeline.record(
            order,
            "promise_changed",
            actor=by,
            data={"date": date.isoformat(), "previous": previous.isoformat() if previous else ""},
            note=note,
            public=True,
        )
        FollowUp.objects.filter(
            order=order, reason=FollowUpReason.SHORTAGE, done_at__isnull=True
        ).update(done_at=timezone.now())
        notify_customer(order, NotificationKind.NEW_DELIVERY_DATE, key=str(promise.pk))
    return promise


def release_backorder(order_id, *, by, note="", expected_status=None) -> Order:
    """Stock is available again: backordered -> confirmed (back to the warehouse queue)."""
    return _transition(
        order_id, "release_backorder", by=by, note=note, expected_status=expected_status
    )


def pick_order(order_id, *, by, note="", expected_status=None) -> Order:
    """The warehouse has picked the goods: confirmed -> picked. Called by the pick
    list (warehouse.services.record_pick) when the last line is picked."""
    return _transition(order_id, "pick", by=by, note=note, expected_status=expected_status)


def repick_order(order_id, *, by, note="", expected_status=None) -> Order:
    """A failed review sends the goods back to picking, with the reason:
    picked -> confirmed. Called by warehouse.services.review_order."""
    return _transition(order_id, "repick", by=by, note=note, expected_status=expected_status)


def mark_reviewed(order, at) -> None:
    """The warehouse's second person passed the packed goods: logistics may ship the
    order. Called by warehouse.services.review_order, which holds the order's row lock
    and checks the order is picked and not reviewed yet. A single-column UPDATE, so the
    locked instance's other fields are not written back."""
    Order.objects.filter(pk=order.pk).update(reviewed_at=at)
    order.reviewed_at = at


def await_rest(order_id, *, by, note="", expected_status=None) -> Order:
    """The available part has shipped; the rest waits for stock: picked -> backordered.
    Called by logistics.services.ship for a partial delivery the customer agreed to."""
    return _transition(order_id, "await_rest", by=by, note=note, expected_status=expected_status)


def agree_partial_delivery(order_id, *, by, note: str = "") -> Order:
    """Sales records that the customer of a backordered order agreed to receive the
    goods in stock now and the rest later. The warehouse then picks what it has."""
    if by is None or not by.has_perm("orders.confirm_order"):
        raise TransitionForbidden(_("Your role may not take this action on the order."))
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_id)
        if order.status != Status.BACKORDERED:
            raise not_possible_now(order)
        if order.partial_agreed_at is None:
            now = timezone.now()
            Order.objects.filter(pk=order.pk).update(partial_agreed_at=now)
            timeline.record(
                order,
                "partial_agreed",
                actor=by,
                note=(note or "").strip()[:2000],
                public=True,
                created_at=now,
            )
            transaction.on_commit(
                lambda: partial_delivery_agreed.send_robust(sender=Order, order_id=order.pk)
            )
        order.refresh_from_db()
    return order


def _require_reviewed(order):
    if order.reviewed_at is None:
        raise TransitionNotAllowed(
            _("Order %(number)s has not passed the warehouse's review yet: it cannot ship.")
            % {"number": order.number}
        )


def ship_order(order_id, *, by, note="", expected_status=None) -> Order:
    """Logistics hands the order to the carrier: picked -> shipped, only once the
    warehouse's review has passed."""
    return _transition(
        order_id,
        "ship",
        by=by,
        note=note,
        expected_status=expected_status,
        check=_require_reviewed,
    )


def deliver_order(order_id, *, by, note="", expected_status=None) -> Order:
    """The order has reached the customer: shipped -> delivered."""
    return _transition(order_id, "deliver", by=by, note=note, expected_status=expected_status)


def close_order(order_id, *, by, note="", expected_status=None) -> Order:
    """Finance has settled every charge: delivered -> closed."""
    return _transition(order_id, "close", by=by, note=note, expected_status=expected_status)


# The actions the order page and the admin may call, by transition name. Picking,
# review, shipping and delivery have their own pages (the "via" transitions); an
# order is closed only by Finance approving its closing request (finance.services).
ACTIONS = {
    "confirm": confirm_order,
    "cancel": cancel_order,
    "backorder": backorder_order,
    "release_backorder": release_backorder,
}


def perform_action(order_id, name: str, *, by, note="", expected_status=None, **fields) -> Order:
    """Run the action called ``name``; unknown names are refused, never getattr'd.
    ``fields`` are the action's own inputs (the promised date of a confirmation)."""
    try:
        action = ACTIONS[name]
    except KeyError:
        raise OrderActionError(_("Unknown action.")) from None
    return action(order_id, by=by, note=note, expected_status=expected_status, **fields)
