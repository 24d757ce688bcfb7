from django.contrib import admin

from .models import (
    Bin,
    Discrepancy,
    Fulfilment,
    Package,
    Pick,
    Reservation,
    Review,
    StockItem,
    StockMovement,
    Warehouse,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Movements and reservations are written by the stock services only."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Warehouse)
class WarehouseAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "active"]
    list_filter = ["active"]
    search_fields = ["code", "name"]


@admin.register(Bin)
class BinAdmin(admin.ModelAdmin):
    list_display = ["code", "warehouse"]
    list_filter = ["warehouse"]
    search_fields = ["code"]


@admin.register(StockItem)
class StockItemAdmin(admin.ModelAdmin):
    list_display = ["product", "warehouse", "bin", "on_hand", "reserved", "low_stock_threshold"]
    list_filter = ["warehouse"]
    search_fields = ["product__sku", "product__name", "bin__code"]
    list_select_related = ["product", "warehouse", "bin"]
    # Quantities change through receipts and adjustments (stock services), never here.
    readonly_fields = ["on_hand", "reserved"]


@admin.register(StockMovement)
class StockMovementAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "stock_item",
        "kind",
        "on_hand_change",
        "reserved_change",
        "order",
        "by",
    ]
    list_filter = ["kind", "created_at"]
    search_fields = ["stock_item__product__sku", "order__number", "reason"]
    list_select_related = ["stock_item__product", "stock_item__warehouse", "order", "by"]


@admin.register(Reservation)
class ReservationAdmin(ReadOnlyAdmin):
    list_display = ["order", "stock_item", "quantity", "created_at", "released_at"]
    list_filter = ["released_at", "created_at"]
    search_fields = ["order__number", "stock_item__product__sku"]
    list_select_related = ["order", "stock_item__product", "stock_item__warehouse"]


# The warehouse's work on orders is written by the pages' services; the admin shows it.
@admin.register(Fulfilment)
class FulfilmentAdmin(ReadOnlyAdmin):
    list_display = ["order", "acknowledged_at", "acknowledged_by", "round", "packed_at"]
    list_filter = ["acknowledged_at", "packed_at"]
    search_fields = ["order__number"]
    list_select_related = ["order", "acknowledged_by"]


@admin.register(Pick)
class PickAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "order", "line", "quantity", "round", "by"]
    list_filter = ["created_at"]
    search_fields = ["order__number", "line__sku", "scanned"]
    list_select_related = ["order", "line", "by"]


@admin.register(Discrepancy)
class DiscrepancyAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "order", "line", "kind", "quantity", "outcome", "by"]
    list_filter = ["kind", "outcome", "created_at"]
    search_fields = ["order__number", "line__sku", "note"]
    list_select_related = ["order", "line", "by"]


@admin.register(Package)
class PackageAdmin(ReadOnlyAdmin):
    list_display = ["order", "round", "weight_kg", "length_cm", "width_cm", "height_cm", "by"]
    search_fields = ["order__number"]
    list_select_related = ["order", "by"]


@admin.register(Review)
class ReviewAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "order", "round", "passed", "by"]
    list_filter = ["passed", "created_at"]
    search_fields = ["order__number", "notes"]
    list_select_related = ["order", "by"]
