"""The demo orders, each placed and walked through the process to its final state by
the same services the staff use, with the clock set back."""

import random
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from orders import services
from orders.clock import step_for_status, steps_by_code
from orders.models import Channel, Customer, DeliveryWindow, Status
from orders.phones import normalize_phone

from .clock import clock_at
from .customers import CUSTOMERS
from .finance import close
from .logistics import logistics_work
from .warehouse import warehouse_work

# How many demo orders end in each state, and the transitions that lead there.
PLAN = [
    (Status.PLACED, 10, []),
    (Status.CONFIRMED, 8, ["confirm"]),
    (Status.BACKORDERED, 4, ["confirm", "backorder"]),
    (Status.PICKED, 6, ["confirm", "pick"]),
    (Status.SHIPPED, 8, ["confirm", "pick", "ship"]),
    (Status.DELIVERED, 6, ["confirm", "pick", "ship", "deliver"]),
    (Status.CLOSED, 5, ["confirm", "pick", "ship", "deliver", "close"]),
    (Status.CANCELLED, 3, ["cancel"]),
]
ACTOR_FOR = {
    "confirm": "sales",
    "cancel": "sales",
    "backorder": "warehouse",
    "ship": "logistics",
    "deliver": "logistics",
}
NOTES = {
    "backorder": "缺货：CUP-011 还差 2 套，预计下周到货。",
    "cancel": "客户改变主意，电话确认取消。",
}
COMMENTS = [
    ("sales", "客户要求送货前电话联系。"),
    ("warehouse", "包装时请多加一层气泡膜。"),
    ("logistics", "该地址小区门禁严格，需提前预约。"),
]


def orders(users, products):
    rng = random.Random(2026)
    customers = [
        Customer.objects.get_or_create(
            phone=normalize_phone(phone), defaults={"name": name, "email": email}
        )[0]
        for name, phone, email, *_ in CUSTOMERS
    ]
    steps = steps_by_code()
    now = timezone.now()
    plan = [(status, path) for status, n, path in PLAN for _ in range(n)]
    rng.shuffle(plan)
    for i, (status, path) in enumerate(plan):
        # Where the final step's clock stands: on time, due soon or late.
        step = step_for_status(status, steps)
        fraction = rng.choice([0.2, 0.4, 0.6, 0.85, 1.3, 2.0])
        base = step.target if step and step.target else timedelta(days=rng.randint(1, 6))
        last_at = now - base * fraction - timedelta(minutes=rng.randint(0, 50))
        gaps = [timedelta(hours=rng.randint(2, 20)) for _ in path]
        at = last_at - sum(gaps, timedelta())
        customer = customers[i % len(customers)]
        details = CUSTOMERS[i % len(CUSTOMERS)]
        with transaction.atomic(), clock_at(at):
            order = services.place_order(
                customer=customer,
                channel=rng.choice(Channel.values),
                lines=[
                    services.LineRequest(p, rng.randint(1, 4))
                    for p in rng.sample(products, rng.randint(1, 3))
                ],
                delivery=services.DeliveryDetails(
                    recipient=customer.name,
                    phone=customer.phone,
                    province=details[3],
                    city=details[4],
                    district=details[5],
                    street=details[6],
                ),
                by=users["sales"] if rng.random() < 0.6 else None,
                salesperson=users["sales"],
                requested_date=(at + timedelta(days=rng.randint(3, 10))).date(),
                requested_window=rng.choice(DeliveryWindow.values),
                special_instructions=rng.choice(["", "", "请放门卫室。", "工作日白天送货。"]),
            )
        for name, gap in zip(path, gaps, strict=True):
            at += gap
            if name == "pick":
                with clock_at(at):
                    warehouse_work(order, users, status, at, rng)
                continue
            if name in ("ship", "deliver"):
                with clock_at(at):
                    logistics_work(
                        name, order, users, at, i, delay=i % 4 == 1 and status != Status.CLOSED
                    )
                continue
            if name == "close":
                close(order, users, at)
                continue
            with clock_at(at):
                fields = {}
                if name == "confirm":
                    services.verify_order(
                        order.pk, by=users["sales"], contact=True, address=True, method="phone"
                    )
                    fields = {
                        "promised_date": services.proposed_delivery_date(order),
                        "agreed": "商品、数量和送货时间已与客户电话确认。",
                    }
                services.perform_action(
                    order.pk,
                    name,
                    by=users[ACTOR_FOR[name]],
                    note=NOTES.get(name, ""),
                    **fields,
                )
        if status == Status.CONFIRMED and i % 2 == 0:
            # Half of the confirmed orders were taken over by the warehouse.
            from warehouse.services import acknowledge_order

            with clock_at(at + timedelta(minutes=15)):
                acknowledge_order(order.pk, by=users["warehouse"])
        if not path and i % 2 == 0:
            # Half of the waiting orders were already checked by Sales.
            with clock_at(at + timedelta(minutes=20)):
                services.verify_order(
                    order.pk, by=users["sales"], contact=True, address=True, method="phone"
                )
        if i % 5 == 0:
            author, text = COMMENTS[i % len(COMMENTS)]
            with clock_at(at + timedelta(minutes=30)):
                services.add_comment(order.pk, by=users[author], text=text)
