"""The process review meetings: their list, recording one, one meeting with its action
items, and an action item's update. Any staff member reads; a Manager records meetings
and adds action items; an item's owner or a Manager closes or reopens it."""

from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from . import services
from .access import staff_required
from .models import ActionItem, ActionStatus, ReviewMeeting
from .review_forms import ActionForm, ActionUpdateForm, MeetingForm
from .services.review import action_version, is_manager, may_update_action
from .web import refused

MEETINGS_PER_PAGE = 20


def _forbidden(request, message):
    messages.error(request, message)
    return render(request, "403.html", status=403)


def pack_url(meeting: ReviewMeeting) -> str:
    """The review pack of the period the meeting used."""
    query = urlencode(
        {"start": meeting.period_start.isoformat(), "end": meeting.period_end.isoformat()}
    )
    return f"{reverse('review_pack')}?{query}"


def _open_actions():
    return ActionItem.objects.filter(status=ActionStatus.OPEN).select_related("meeting", "owner")


@staff_required
def meetings(request):
    today = timezone.localdate()
    listed = (
        ReviewMeeting.objects.select_related("recorded_by")
        .annotate(
            open_count=Count("actions", filter=Q(actions__status=ActionStatus.OPEN)),
            late_count=Count(
                "actions", filter=Q(actions__status=ActionStatus.OPEN, actions__due_on__lt=today)
            ),
        )
        .order_by("-held_on", "-pk")
    )
    page = Paginator(listed, MEETINGS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "orders/review/meetings.html",
        {
            "page": page,
            "open_actions": list(_open_actions().order_by("due_on", "pk")),
            "today": today,
            "can_record": is_manager(request.user),
        },
    )


@require_http_methods(["GET", "POST"])
@staff_required
def new_meeting(request):
    if not is_manager(request.user):
        return _forbidden(request, _("Only a manager records review meetings."))
    form = MeetingForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                meeting = services.record_meeting(**form.cleaned_data, by=request.user)
            except services.OrderActionError as error:
                status = refused(request, error)
            else:
                messages.success(request, _("The review meeting was recorded."))
                return redirect("review_meeting", pk=meeting.pk)
        else:
            messages.error(request, _("Please correct the marked fields. Nothing was saved."))
            status = 400
    return render(request, "orders/review/meeting_form.html", {"form": form}, status=status)


def render_meeting(request, meeting, *, status=200, action_form=None, update_forms=None):
    today = timezone.localdate()
    manager = is_manager(request.user)
    actions = list(meeting.actions.select_related("owner").order_by("due_on", "pk"))
    update_forms = update_forms or {}
    rows = [
        {
            "item": item,
            "late": item.is_late(today),
            "can_update": manager or item.owner_id == request.user.pk,
            "seen": action_version(item),
            "form": update_forms.get(item.pk) or ActionUpdateForm(),
        }
        for item in actions
    ]
    return render(
        request,
        "orders/review/meeting.html",
        {
            "meeting": meeting,
            "pack_url": pack_url(meeting),
            "rows": rows,
            "action_form": (action_form or ActionForm()) if manager else None,
            "today": today,
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
@staff_required
def meeting(request, pk):
    review = get_object_or_404(ReviewMeeting.objects.select_related("recorded_by"), pk=pk)
    if request.method == "GET":
        return render_meeting(request, review)
    if not is_manager(request.user):
        return _forbidden(request, _("Only a manager adds action items."))
    form = ActionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Please correct the marked fields. Nothing was saved."))
        return render_meeting(request, review, status=400, action_form=form)
    try:
        services.add_action(review.pk, **form.cleaned_data, by=request.user)
    except services.OrderActionError as error:
        return render_meeting(request, review, status=refused(request, error), action_form=form)
    messages.success(request, _("The action item was added."))
    return redirect("review_meeting", pk=review.pk)


@require_POST
@staff_required
def update_action(request, pk):
    item = get_object_or_404(ActionItem.objects.select_related("meeting"), pk=pk)
    if not may_update_action(request.user, item):
        return _forbidden(request, _("Only the action's owner or a manager may change it."))
    form = ActionUpdateForm(request.POST)
    if not form.is_valid():
        messages.error(request, form.problem())
        return render_meeting(request, item.meeting, status=400, update_forms={item.pk: form})
    try:
        services.update_action(
            item.pk,
            decision=form.cleaned_data["decision"],
            note=form.cleaned_data["note"],
            seen=form.cleaned_data["seen"],
            by=request.user,
        )
    except services.OrderActionError as error:
        return render_meeting(request, item.meeting, status=refused(request, error))
    messages.success(request, _("The action item was updated."))
    return redirect(f"{reverse('review_meeting', args=[item.meeting_id])}#action-{item.pk}")
