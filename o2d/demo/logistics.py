"""Logistics' part: the demo carriers, and the shipments of the demo orders with the
carriers' tracking events."""

from datetime import timedelta
from decimal import Decimal

from .clock import clock_at


def carriers():
    """Three demo carriers: a national standard/express one, a cheap postal one
    without time windows, and a same-day courier for Shanghai only."""
    from logistics.models import Carrier, CarrierRule, CarrierService

    carriers = [
        (
            "shunda",
            "顺达快递 ShunDa Express",
            "SD",
            12,
            "luhn",
            "",
            [
                ("standard", 2, "30", "10.00", "2.00", True, ""),
                ("express", 1, "20", "22.00", "4.00", True, ""),
            ],
        ),
        (
            "huapost",
            "华邮 HuaPost",
            "EE",
            8,
            "s10",
            "CN",
            [
                ("economy", 4, "30", "8.00", "1.00", False, ""),
            ],
        ),
        (
            "citylink",
            "城配 CityLink",
            "CL",
            10,
            "luhn",
            "",
            [
                ("same_day", 0, "15", "25.00", "3.00", True, "上海市"),
            ],
        ),
    ]
    for code, name, prefix, digits, check, suffix, offered in carriers:
        carrier, created = Carrier.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "tracking_url": f"https://track.{code}.example/{{tracking}}",
                "tracking_prefix": prefix,
                "tracking_digits": digits,
                "check_digit": check,
                "tracking_suffix": suffix,
            },
        )
        if not created:
            continue
        for level, days, weight, base, per_kg, window, province in offered:
            service = CarrierService.objects.create(
                carrier=carrier,
                level=level,
                transit_days=days,
                max_weight_kg=Decimal(weight),
                base_price=Decimal(base),
                price_per_kg=Decimal(per_kg),
                honours_time_window=window,
            )
            CarrierRule.objects.create(service=service, province=province)


def logistics_work(name, order, users, at, i, *, delay):
    """Ship with the proposed carrier; the carrier reports its way to the door."""
    from logistics import services as logistics

    order.refresh_from_db()
    if name == "ship":
        packages = logistics.unshipped_packages(order)
        best = logistics.carrier_options(order, packages)[0]
        shipment = logistics.ship(order.pk, by=users["logistics"], service_id=best.service.pk)
        # Each event is recorded when it happens: the service refuses future times.
        with clock_at(at + timedelta(hours=3)):
            logistics.record_event(
                shipment.pk,
                type="in_transit",
                happened_at=at + timedelta(hours=3),
                location="上海分拨中心",
                carrier_event_id=f"demo-{shipment.pk}-1",
            )
        if delay:
            with clock_at(at + timedelta(hours=9)):
                logistics.record_event(
                    shipment.pk,
                    type="delayed",
                    happened_at=at + timedelta(hours=9),
                    location="杭州转运中心",
                    description="天气原因延误",
                    carrier_event_id=f"demo-{shipment.pk}-2",
                )
        return
    for shipment in order.shipments.all():
        for step, (kind, hours) in enumerate((("out_for_delivery", -4), ("delivered", 0))):
            logistics.record_event(
                shipment.pk,
                type=kind,
                happened_at=at + timedelta(hours=hours),
                location=order.delivery_city,
                carrier_event_id=f"demo-{shipment.pk}-d{step}",
            )
