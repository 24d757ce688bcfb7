"""Finance in the admin: the payment methods and invoice types the admin tunes, and the
ledger, invoices and closing requests to look up, never to rewrite or delete (they are
the order's money and history; Finance works on its own pages)."""

from django.contrib import admin
from modeltranslation.admin import TranslationAdmin

from .models import (
    Account,
    ChecklistOverride,
    ClosingRequest,
    FreightTerms,
    Invoice,
    InvoiceType,
    LedgerEntry,
    PaymentMethod,
)


@admin.register(PaymentMethod)
class PaymentMethodAdmin(TranslationAdmin):
    list_display = ["name", "code", "position", "active"]
    list_editable = ["position", "active"]

    def has_delete_permission(self, request, obj=None):
        # Entries name their method: retire a method by unticking "active".
        return False


@admin.register(InvoiceType)
class InvoiceTypeAdmin(TranslationAdmin):
    list_display = ["name", "code", "position", "active"]
    list_editable = ["position", "active"]

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = [
        "order",
        "kind",
        "charge_kind",
        "amount",
        "currency",
        "happened_on",
        "recorded_by",
    ]
    list_filter = ["kind", "charge_kind", "method", "happened_on"]
    search_fields = ["order__number", "reference", "reason"]
    list_select_related = ["order", "recorded_by"]
    exclude = ["submission_key"]


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ["order", "currency", "charged", "paid", "refunded", "balance", "since"]
    search_fields = ["order__number"]
    list_select_related = ["order"]


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyAdmin):
    list_display = ["number", "type", "order", "amount", "currency", "issued_on", "voided_at"]
    list_filter = ["type", "issued_on"]
    search_fields = ["number", "order__number"]
    list_select_related = ["order", "type"]
    exclude = ["submission_key"]


class OverrideInline(admin.TabularInline):
    model = ChecklistOverride
    extra = 0
    fields = ["key", "reason", "by", "at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ClosingRequest)
class ClosingRequestAdmin(ReadOnlyAdmin):
    list_display = ["order", "status", "salesperson", "opened_at", "step_started_at"]
    list_filter = ["status"]
    search_fields = ["order__number"]
    list_select_related = ["order", "salesperson"]
    inlines = [OverrideInline]


@admin.register(FreightTerms)
class FreightTermsAdmin(admin.ModelAdmin):
    """One row (seeded by finance/0003): change it, never add a second or delete it."""

    list_display = ["__str__", "charge_customer", "free_from"]

    def has_add_permission(self, request):
        return not FreightTerms.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False
