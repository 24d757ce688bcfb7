"""Receipts and problem cases in the admin: to look up, never to rewrite or delete
(they are the order's history; Sales works on the order page)."""

from django.contrib import admin

from .models import ProblemCase, ProblemPhoto, Receipt


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


class ProblemPhotoInline(admin.TabularInline):
    model = ProblemPhoto
    extra = 0
    fields = ["content_type", "size", "width", "height", "uploaded_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ProblemCase)
class ProblemCaseAdmin(ReadOnlyAdmin):
    list_display = ["order", "kind", "status", "opened_at", "due_at", "owner", "resolved_at"]
    list_filter = ["status", "kind", "opened_at"]
    search_fields = ["order__number", "details", "resolution"]
    list_select_related = ["order", "owner"]
    exclude = ["submission_key"]
    inlines = [ProblemPhotoInline]
