from django.contrib import admin

from .models import (
    Carrier,
    CarrierRule,
    CarrierService,
    DeliveryException,
    Shipment,
    ShipmentLine,
    TrackingEvent,
)


class CarrierServiceInline(admin.TabularInline):
    model = CarrierService
    extra = 0
    fields = [
        "level",
        "transit_days",
        "max_weight_kg",
        "base_price",
        "price_per_kg",
        "honours_time_window",
        "active",
    ]


@admin.register(Carrier)
class CarrierAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "tracking_prefix", "tracking_digits", "check_digit", "active"]
    list_filter = ["active", "check_digit"]
    search_fields = ["name", "code"]
    inlines = [CarrierServiceInline]


class CarrierRuleInline(admin.TabularInline):
    model = CarrierRule
    extra = 1
    fields = ["province", "city", "max_weight_kg", "active"]


@admin.register(CarrierService)
class CarrierServiceAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "transit_days",
        "max_weight_kg",
        "base_price",
        "price_per_kg",
        "honours_time_window",
        "active",
    ]
    list_filter = ["carrier", "level", "honours_time_window", "active"]
    inlines = [CarrierRuleInline]


class ReadOnly(admin.ModelAdmin):
    """Shipments and what happens to them are written by the logistics services."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ShipmentLineInline(admin.TabularInline):
    model = ShipmentLine
    extra = 0
    can_delete = False
    readonly_fields = ["line", "quantity"]

    def has_add_permission(self, request, obj=None):
        return False


class TrackingEventInline(admin.TabularInline):
    model = TrackingEvent
    extra = 0
    can_delete = False
    readonly_fields = [
        "type",
        "happened_at",
        "location",
        "description",
        "carrier_event_id",
        "entered_by",
    ]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Shipment)
class ShipmentAdmin(ReadOnly):
    list_display = [
        "order",
        "carrier",
        "tracking_number",
        "status",
        "shipped_at",
        "estimated_delivery",
        "delivered_at",
    ]
    list_filter = ["carrier", "status", "shipped_at"]
    search_fields = ["order__number", "tracking_number"]
    list_select_related = ["order", "carrier"]
    inlines = [ShipmentLineInline, TrackingEventInline]


@admin.register(TrackingEvent)
class TrackingEventAdmin(ReadOnly):
    list_display = ["shipment", "type", "happened_at", "location", "carrier_event_id"]
    list_filter = ["type", "happened_at"]
    search_fields = ["shipment__tracking_number", "shipment__order__number", "carrier_event_id"]
    list_select_related = ["shipment__order", "shipment__carrier"]


@admin.register(DeliveryException)
class DeliveryExceptionAdmin(ReadOnly):
    list_display = ["order", "type", "owner", "opened_at", "due_at", "resolution", "resolved_at"]
    list_filter = ["type", "resolution", "opened_at"]
    search_fields = ["order__number", "resolution_note"]
    list_select_related = ["order", "owner"]
