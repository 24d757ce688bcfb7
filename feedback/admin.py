"""Receipts, problem cases and returns in the admin: to look up, never to rewrite or
delete (they are the order's history; Sales works on the order page). The return
reasons and their windows are the admin's to tune."""

from django.contrib import admin
from modeltranslation.admin import TranslationAdmin

from .models import (
    ProblemCase,
    ProblemPhoto,
    Receipt,
    ReturnAddress,
    ReturnLine,
    ReturnParcelEvent,
    ReturnReason,
    ReturnRequest,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Receipt)
class ReceiptAdmin(ReadOnlyAdmin):
    list_display = ["order", "confirmed_at", "how", "by"]
    list_filter = ["how", "confirmed_at"]
    search_fields = ["order__number"]
    list_select_related = ["order", "by"]


class ReadOnlyInline(admin.TabularInline):
    extra = 0

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ProblemPhotoInline(ReadOnlyInline):
    model = ProblemPhoto
    fields = ["content_type", "size", "width", "height", "uploaded_at"]


@admin.register(ProblemCase)
class ProblemCaseAdmin(ReadOnlyAdmin):
    list_display = ["order", "kind", "status", "opened_at", "due_at", "owner", "resolved_at"]
    list_filter = ["status", "kind", "opened_at"]
    search_fields = ["order__number", "details", "resolution"]
    list_select_related = ["order", "owner"]
    exclude = ["submission_key"]
    inlines = [ProblemPhotoInline]


@admin.register(ReturnReason)
class ReturnReasonAdmin(TranslationAdmin):
    list_display = [
        "name",
        "code",
        "window_days",
        "refund_freight",
        "restocking_fee",
        "position",
        "active",
    ]
    list_editable = ["window_days", "refund_freight", "restocking_fee", "position", "active"]

    def has_delete_permission(self, request, obj=None):
        # Returns name their reason: retire one by unticking "active".
        return False


class ReturnLineInline(ReadOnlyInline):
    model = ReturnLine
    fields = [
        "line",
        "quantity",
        "approved_quantity",
        "received_quantity",
        "restocked",
        "written_off",
        "to_repair",
    ]


class ReturnParcelEventInline(ReadOnlyInline):
    model = ReturnParcelEvent
    fields = ["happened_at", "carrier", "type", "location", "description"]


@admin.register(ReturnRequest)
class ReturnRequestAdmin(ReadOnlyAdmin):
    list_display = ["order", "rma_number", "status", "reason", "requested_at", "outcome", "owner"]
    list_filter = ["status", "reason", "outcome", "mismatch", "requested_at"]
    search_fields = ["order__number", "rma_number", "return_tracking", "details", "answer"]
    list_select_related = ["order", "reason", "owner"]
    exclude = ["submission_key"]
    inlines = [ReturnLineInline, ReturnParcelEventInline]


@admin.register(ReturnAddress)
class ReturnAddressAdmin(admin.ModelAdmin):
    """One row (seeded by feedback/0006): change it, never add a second or delete it."""

    list_display = ["recipient", "phone", "city"]

    def has_add_permission(self, request):
        return not ReturnAddress.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False
