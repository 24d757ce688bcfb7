from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from modeltranslation.admin import TranslationAdmin

from . import services, validators
from .forms import TransitionForm
from .models import (
    ActionItem,
    Address,
    Customer,
    DeliveryChangeRequest,
    DeliveryPromise,
    FollowUp,
    Notification,
    Order,
    OrderEvent,
    OrderLine,
    ProcessChange,
    ProcessStep,
    Product,
    ReturnStep,
    ReviewMeeting,
    StepChannelTarget,
)
from .selectors import available_actions
from .services import review as review_services


class NoDeleteMixin:
    """Orders, their lines and their history are never deleted (cancel instead)."""

    def has_delete_permission(self, request, obj=None):
        return False


class AddressInline(admin.TabularInline):
    model = Address
    extra = 0


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["name", "phone", "email", "language", "created_at"]
    list_filter = ["language", "created_at"]
    search_fields = ["name", "phone", "email"]
    inlines = [AddressInline]


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["sku", "name", "unit_price", "currency", "active"]
    list_filter = ["active", "currency"]
    search_fields = ["sku", "name"]


class OrderLineInline(NoDeleteMixin, admin.TabularInline):
    model = OrderLine
    extra = 0
    fields = ["sku", "name", "quantity", "unit_price"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class OrderEventInline(NoDeleteMixin, admin.TabularInline):
    model = OrderEvent
    extra = 0
    fields = ["created_at", "actor", "kind", "from_status", "to_status", "note", "public"]
    readonly_fields = fields
    ordering = ["created_at", "pk"]
    verbose_name_plural = gettext_lazy("timeline")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("order", "actor")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class DeliveryPromiseInline(NoDeleteMixin, admin.TabularInline):
    model = DeliveryPromise
    extra = 0
    fields = ["created_at", "date", "method", "agreed", "by", "note"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class DeliveryChangeRequestInline(NoDeleteMixin, admin.TabularInline):
    """The customer's delivery change requests; Sales decides on the order page."""

    model = DeliveryChangeRequest
    extra = 0
    fields = [
        "created_at",
        "status",
        "requested_window",
        "instructions",
        "city",
        "street",
        "decided_by",
        "decided_at",
        "reason",
    ]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Notification)
class NotificationAdmin(NoDeleteMixin, admin.ModelAdmin):
    list_display = ["order", "kind", "to", "created_at", "sent_at", "attempts"]
    list_filter = ["kind", "sent_at", "created_at"]
    search_fields = ["order__number", "to"]
    list_select_related = ["order"]
    readonly_fields = ["order", "kind", "to", "created_at", "sent_at", "attempts", "last_error"]

    def has_add_permission(self, request):
        return False


def _bulk_action(name, label):
    """An admin action that runs the order service ``name`` on each selected order."""

    def action(modeladmin, request, queryset):
        done = 0
        for order in queryset:
            try:
                services.perform_action(order.pk, name, by=request.user)
            except services.OrderActionError as error:
                modeladmin.message_user(
                    request,
                    _("%(number)s: %(error)s") % {"number": order.number, "error": error.message},
                    messages.ERROR,
                )
            else:
                done += 1
        if done:
            modeladmin.message_user(
                request, _("%(n)d order(s) updated.") % {"n": done}, messages.SUCCESS
            )

    action.__name__ = f"action_{name}"
    action.short_description = label
    return action


@admin.register(Order)
class OrderAdmin(NoDeleteMixin, admin.ModelAdmin):
    change_form_template = "admin/orders/order/change_form.html"
    list_display = ["number", "status", "channel", "customer", "placed_at", "total", "currency"]
    list_filter = ["status", "channel", "placed_at", "salesperson"]
    search_fields = [
        "number",
        "customer__name",
        "customer__phone",
        "contact_name",
        "contact_phone",
        "contact_email",
        "delivery_phone",
    ]
    date_hierarchy = "placed_at"
    list_select_related = ["customer"]
    fieldsets = [
        (None, {"fields": ["number", "status", "channel", "placed_at", "customer", "salesperson"]}),
        (
            gettext_lazy("Contact (as typed with the order; its emails go here)"),
            {"fields": ["contact_name", "contact_phone", "contact_email", "contact_language"]},
        ),
        (
            gettext_lazy("Delivery"),
            {"fields": services.CHANGEABLE_FIELDS},
        ),
        (
            gettext_lazy("Confirmation"),
            {
                "fields": [
                    "contact_verified_at",
                    "address_verified_at",
                    "callback_requested_at",
                    "promised_date",
                ]
            },
        ),
        (
            gettext_lazy("Money and clock"),
            {
                "fields": [
                    "total",
                    "currency",
                    "step_started_at",
                    "step_overdue_at",
                    "reviewed_at",
                ]
            },
        ),
    ]
    inlines = [
        OrderLineInline,
        DeliveryPromiseInline,
        DeliveryChangeRequestInline,
        OrderEventInline,
    ]
    # Admin actions go through the same services and permission checks as the pages;
    # orders without the permission or in the wrong state are reported, not changed.
    actions = [
        _bulk_action(name, label)
        for name, label in [
            ("close", gettext_lazy("Close selected orders")),
            ("release_backorder", gettext_lazy("Release selected backorders")),
        ]
    ]

    def has_add_permission(self, request):
        # Orders are entered through the order form, which numbers and prices them.
        return False

    def get_readonly_fields(self, request, obj=None):
        # Orders change only through the services (locked, and on the timeline).
        return [field for _name, options in self.fieldsets for field in options["fields"]]

    def get_urls(self):
        custom = [
            path(
                "<int:pk>/transition/",
                self.admin_site.admin_view(self.transition_view),
                name="orders_order_transition",
            )
        ]
        return custom + super().get_urls()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        order = self.get_object(request, object_id)
        extra_context = extra_context or {}
        if order is not None:
            extra_context["fsm_actions"] = available_actions(order, request.user)
        return super().change_view(request, object_id, form_url, extra_context)

    def transition_view(self, request, pk):
        if not self.has_view_permission(request):
            raise PermissionDenied
        return _admin_transition(request, get_object_or_404(Order, pk=pk))


@require_POST
def _admin_transition(request, order):
    form = TransitionForm(request.POST)
    if not form.is_valid():
        messages.error(request, form.problem())
        return redirect(reverse("admin:orders_order_change", args=[order.pk]))
    try:
        services.perform_action(
            order.pk,
            form.cleaned_data["action"],
            by=request.user,
            note=form.cleaned_data["note"],
            expected_status=form.cleaned_data["expected_status"],
            **form.action_fields(),
        )
    except services.OrderActionError as error:
        messages.error(request, error.message)
    else:
        order.refresh_from_db()
        messages.success(
            request,
            _("Order %(number)s is now %(status)s.")
            % {"number": order.number, "status": order.get_status_display()},
        )
    return redirect(reverse("admin:orders_order_change", args=[order.pk]))


@admin.register(OrderEvent)
class OrderEventAdmin(NoDeleteMixin, admin.ModelAdmin):
    list_display = ["order", "created_at", "kind", "from_status", "to_status", "actor", "public"]
    list_filter = ["kind", "to_status", "public", "created_at"]
    search_fields = ["order__number", "note", "actor__username"]
    list_select_related = ["order", "actor"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class StepChannelTargetInline(admin.TabularInline):
    model = StepChannelTarget
    extra = 0


class FollowUpForm(forms.ModelForm):
    class Meta:
        model = FollowUp
        fields = ["assignee", "due_at"]

    def clean_due_at(self):
        value = self.cleaned_data.get("due_at")
        # A due time set here must be sane; one already stored may stay as it is.
        if value is not None and "due_at" in self.changed_data:
            validators.check_due_time(value)
        return value


@admin.register(FollowUp)
class FollowUpAdmin(NoDeleteMixin, admin.ModelAdmin):
    form = FollowUpForm
    list_display = ["order", "step", "assignee", "due_at", "done_at", "escalated_at"]
    list_filter = ["step", "done_at", "escalated_at", "assignee"]
    search_fields = ["order__number", "order__customer__name"]
    list_select_related = ["order", "assignee"]
    readonly_fields = ["order", "step", "step_started_at", "created_at", "done_at", "escalated_at"]
    fields = [*readonly_fields, "assignee", "due_at"]

    def has_add_permission(self, request):
        return False


@admin.register(ReturnStep)
class ReturnStepAdmin(admin.ModelAdmin):
    """The clocks of a return's steps (seeded by orders/0027): tuned, never added."""

    list_display = ["code", "role", "target", "reminder_after"]
    list_editable = ["role", "target", "reminder_after"]
    readonly_fields = ["code"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ProcessStep)
class ProcessStepAdmin(TranslationAdmin):
    """The process definition. Every change of a step's fields, and of its per-channel
    targets, is recorded as ProcessChange rows in the save's transaction (the admin's
    change view runs in one): the process page shows that history."""

    list_display = ["position", "name", "role", "target", "warning_percent", "follow_up_within"]
    inlines = [StepChannelTargetInline]
    list_filter = ["role"]
    search_fields = ["name", "how", "notes"]
    readonly_fields = ["code", "position"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if not change:
            return super().save_model(request, obj, form, change)
        with transaction.atomic():
            # The values as stored (locked), not as the form first showed them.
            stored = ProcessStep.objects.select_for_update().get(pk=obj.pk)
            fields = review_services.tracked_fields()
            before = review_services.snapshot(stored, fields)
            super().save_model(request, obj, form, change)
            review_services.record_process_changes(
                obj, before, review_services.snapshot(obj, fields), request.user
            )

    def save_formset(self, request, form, formset, change):
        if formset.model is not StepChannelTarget:
            return super().save_formset(request, form, formset, change)
        with transaction.atomic():
            step = form.instance
            stored = {
                target.channel: target.target
                for target in StepChannelTarget.objects.select_for_update().filter(step=step)
            }
            super().save_formset(request, form, formset, change)
            after = {
                target.channel: target.target
                for target in StepChannelTarget.objects.filter(step=step)
            }
            review_services.record_process_changes(
                step,
                {f"target:{channel}": value for channel, value in stored.items()},
                {f"target:{channel}": value for channel, value in after.items()},
                request.user,
            )


class ActionItemInline(NoDeleteMixin, admin.TabularInline):
    """A meeting's action items, as they stand: added and closed on the meeting's page
    (orders.services.review checks the owner, the dates and who may)."""

    model = ActionItem
    extra = 0
    fields = ["title", "step", "owner", "due_on", "status", "note", "done_at", "created_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ReviewMeeting)
class ReviewMeetingAdmin(NoDeleteMixin, admin.ModelAdmin):
    """Review meetings: recorded on their page (which checks the period and the
    departments); here only the findings may be corrected."""

    list_display = ["held_on", "period_start", "period_end", "recorded_by", "created_at"]
    date_hierarchy = "held_on"
    search_fields = ["findings"]
    list_select_related = ["recorded_by"]
    fields = [
        "held_on",
        "departments",
        "period_start",
        "period_end",
        "findings",
        "recorded_by",
        "created_at",
    ]
    readonly_fields = [field for field in fields if field != "findings"]
    inlines = [ActionItemInline]

    def has_add_permission(self, request):
        return False


@admin.register(ProcessChange)
class ProcessChangeAdmin(NoDeleteMixin, admin.ModelAdmin):
    """The process definition's history: read only."""

    list_display = ["at", "step", "field", "old", "new", "by"]
    list_filter = ["step", "field", "at"]
    search_fields = ["field", "old", "new", "by__username"]
    list_select_related = ["step", "by"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
