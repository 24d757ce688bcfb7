"""The process review's writes: review meetings, their action items, and the history of
the process definition (ProcessChange rows).

Each function checks who acts and what it is given, and writes in one transaction; a
refusal is an OrderActionError subclass (403 not allowed, 409 changed meanwhile, 400
bad input), so the views answer it like every other refused action."""

import hashlib
from datetime import date, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..models import ActionItem, ActionStatus, ProcessChange, ProcessStep, ReviewMeeting
from ..models.customers import Channel
from ..models.process import StepCode
from ..roles import Role, user_roles
from ..validators import EARLIEST_DATE, one_year_after
from .errors import OrderActionError, OrderChanged, TransitionForbidden

MEETING_FINDINGS_MAX = 5000
ACTION_TITLE_MAX = 200
ACTION_NOTE_MAX = 2000
# A review pack covers at most a year (a leap year's 366 days).
PERIOD_MAX_DAYS = 366


class ReviewNotAllowed(TransitionForbidden):
    """The user's role does not allow this (403)."""


class ActionChanged(OrderChanged):
    """The action item changed since the page was shown (409)."""


class ReviewInputInvalid(OrderActionError):
    """What was given cannot be recorded (400)."""


# --- who may -------------------------------------------------------------------------


def is_manager(user) -> bool:
    """Only a Manager records meetings and their action items (has_role would also
    let every manager act as any role, which is the opposite question)."""
    return Role.MANAGER in user_roles(user)


def may_update_action(user, action: ActionItem) -> bool:
    return is_manager(user) or (user.is_authenticated and action.owner_id == user.pk)


def action_version(action: ActionItem) -> str:
    """What the page showed of an item: changes whenever its status, done time or note
    changes, so a form sent from an older page is recognised as stale."""
    raw = "|".join(
        [action.status, action.done_at.isoformat() if action.done_at else "", action.note]
    )
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


# --- meetings and action items -------------------------------------------------------


def _check_period(start: date, end: date) -> None:
    if end < start:
        raise ReviewInputInvalid(_("The pack's period must end on or after its first day."))
    if (end - start).days + 1 > PERIOD_MAX_DAYS:
        raise ReviewInputInvalid(_("A pack covers at most %(n)d days.") % {"n": PERIOD_MAX_DAYS})
    if start < EARLIEST_DATE:
        raise ReviewInputInvalid(_("This date is too far in the past."))


def record_meeting(
    *,
    held_on: date,
    departments: list[str],
    period_start: date,
    period_end: date,
    findings: str,
    by,
) -> ReviewMeeting:
    """A Manager records a review meeting: when, who was there, the pack it used and
    what it found."""
    if not is_manager(by):
        raise ReviewNotAllowed(_("Only a manager records review meetings."))
    today = timezone.localdate()
    if not EARLIEST_DATE <= held_on <= today:
        raise ReviewInputInvalid(_("The meeting's date must be today or earlier."))
    _check_period(period_start, period_end)
    chosen = [code for code in Role.values if code in set(departments or [])]
    if not chosen or len(chosen) != len(set(departments)):
        raise ReviewInputInvalid(_("Choose at least one department that was present."))
    findings = (findings or "").strip()
    if not findings:
        raise ReviewInputInvalid(_("Write down what the meeting found."))
    if len(findings) > MEETING_FINDINGS_MAX:
        raise ReviewInputInvalid(
            _("The findings may have at most %(n)d characters.") % {"n": MEETING_FINDINGS_MAX}
        )
    with transaction.atomic():
        return ReviewMeeting.objects.create(
            held_on=held_on,
            departments=chosen,
            period_start=period_start,
            period_end=period_end,
            findings=findings,
            recorded_by=by,
        )


def possible_owners():
    """Who may own an action item: active users holding an O2D role."""
    return (
        get_user_model()
        .objects.filter(is_active=True, groups__name__in=Role.values)
        .distinct()
        .order_by("first_name", "username")
    )


def add_action(meeting_id: int, *, title: str, step: str, owner, due_on: date, by) -> ActionItem:
    """A Manager adds an action item to a meeting: what, for which step, who, by when."""
    if not is_manager(by):
        raise ReviewNotAllowed(_("Only a manager adds action items."))
    title = (title or "").strip()
    if not title:
        raise ReviewInputInvalid(_("Say what is to be done."))
    if len(title) > ACTION_TITLE_MAX:
        raise ReviewInputInvalid(
            _("The action may have at most %(n)d characters.") % {"n": ACTION_TITLE_MAX}
        )
    if step and step not in StepCode.values:
        raise ReviewInputInvalid(_("Choose one of the process steps."))
    today = timezone.localdate()
    if due_on < today:
        raise ReviewInputInvalid(_("The due date cannot be in the past."))
    if due_on > one_year_after(today):
        raise ReviewInputInvalid(_("Choose a due date within the coming year."))
    if owner is None or not possible_owners().filter(pk=owner.pk).exists():
        raise ReviewInputInvalid(_("Choose an active colleague with a role as the owner."))
    with transaction.atomic():
        meeting = ReviewMeeting.objects.select_for_update().filter(pk=meeting_id).first()
        if meeting is None:
            raise ReviewInputInvalid(_("This review meeting does not exist."))
        return ActionItem.objects.create(
            meeting=meeting, title=title, step=step or "", owner=owner, due_on=due_on
        )


# What each decision does: the status it leads to.
DECISIONS = {
    "done": ActionStatus.DONE,
    "dropped": ActionStatus.DROPPED,
    "reopen": ActionStatus.OPEN,
}


def update_action(
    action_id: int, *, decision: str, note: str = "", seen: str | None = None, by
) -> ActionItem:
    """Mark an action item done or dropped (with a note), or reopen it: its owner or a
    Manager. ``seen`` is action_version() of the item the page showed; when the item
    has changed since, nothing is written (ActionChanged)."""
    status = DECISIONS.get(decision)
    if status is None:
        raise ReviewInputInvalid(_("Choose done, dropped or reopen."))
    note = (note or "").strip()
    if len(note) > ACTION_NOTE_MAX:
        raise ReviewInputInvalid(
            _("The note may have at most %(n)d characters.") % {"n": ACTION_NOTE_MAX}
        )
    if status == ActionStatus.DROPPED and not note:
        raise ReviewInputInvalid(_("Say why the action is dropped."))
    with transaction.atomic():
        action = ActionItem.objects.select_for_update().filter(pk=action_id).first()
        if action is None:
            raise ReviewInputInvalid(_("This action item does not exist."))
        if not may_update_action(by, action):
            raise ReviewNotAllowed(_("Only the action's owner or a manager may change it."))
        if seen is not None and seen != action_version(action):
            raise ActionChanged(
                _(
                    "Someone changed this action item since you opened the page; "
                    "nothing was saved. Look at it again."
                )
            )
        if action.status == status:
            raise ActionChanged(
                _("This action item is already %(status)s.")
                % {"status": action.get_status_display()}
            )
        action.status = status
        action.done_at = None if status == ActionStatus.OPEN else timezone.now()
        if note:
            action.note = note
        action.save(update_fields=["status", "done_at", "note"])
        return action


# --- the process definition's history ------------------------------------------------


def _languages() -> list[str]:
    return [code.replace("-", "_") for code, _name in settings.LANGUAGES]


def tracked_fields() -> list[str]:
    """The fields of a ProcessStep whose changes are recorded. The translated ones
    (name, how, notes) are tracked per language, never through their base field (it
    mirrors one of the languages and would record every change twice)."""
    fields = ["role", "target", "warning_percent", "follow_up_within", "give_up_after"]
    translated = []
    for base in ("name", "how", "notes"):
        translated += [f"{base}_{lang}" for lang in _languages()]
    existing = {f.name for f in ProcessStep._meta.get_fields()}
    return [f for f in [*translated, *fields] if f in existing]


def readable(value) -> str:
    """A field's value as the history shows it: durations as hours and minutes
    ("26 h", "1 h 30 min"), nothing as an empty string."""
    if value is None:
        return ""
    if isinstance(value, timedelta):
        total = int(value.total_seconds())
        hours, rest = divmod(total, 3600)
        minutes, seconds = divmod(rest, 60)
        parts = []
        if hours:
            parts.append(f"{hours} h")
        if minutes:
            parts.append(f"{minutes} min")
        if seconds or not parts:
            parts.append(f"{seconds} s")
        return " ".join(parts)
    return str(value)


def snapshot(step: ProcessStep, fields=None) -> dict:
    """The tracked fields' values of ``step`` (to compare before and after a save)."""
    return {name: getattr(step, name) for name in (fields or tracked_fields())}


def record_process_changes(step: ProcessStep, before: dict, after: dict, by) -> list:
    """One ProcessChange per field whose value differs between ``before`` and
    ``after`` (field -> value; a key missing on one side is empty there). Call it in
    the transaction that saves the step, so the change and its history go together."""
    at = timezone.now()
    rows = []
    for field in [*before, *(k for k in after if k not in before)]:
        old, new = readable(before.get(field)), readable(after.get(field))
        if old != new:
            rows.append(
                ProcessChange(
                    step=step,
                    field=field,
                    old=old,
                    new=new,
                    by=by if by is not None and by.is_authenticated else None,
                    at=at,
                )
            )
    return ProcessChange.objects.bulk_create(rows)


def change_label(change: ProcessChange) -> str:
    """A history row's field in the reader's language ("target:phone" is the phone
    channel's own target time)."""
    if change.field.startswith("target:"):
        code = change.field.split(":", 1)[1]
        channel = dict(Channel.choices).get(code, code)
        return _("target time for %(channel)s") % {"channel": channel}
    return change.label


def change_value(change: ProcessChange, value: str) -> str:
    """A recorded value as the reader sees it: a role by its translated name."""
    if change.field == "role" and value in Role.values:
        return str(Role(value).label)
    return value
