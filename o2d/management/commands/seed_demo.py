"""Demo data: one login per role, products, and about 50 orders in every state.

The orders are driven through the same services the staff use, with the clock set
back, so the timeline, the step clocks and the dashboards look like a working week.
Local use only: the demo password is printed and documented.
"""

import random
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal
from unittest import mock

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from orders import services
from orders.clock import step_for_status, steps_by_code
from orders.models import Channel, Customer, DeliveryWindow, Order, Product, Status
from orders.phones import normalize_phone
from orders.roles import Role

DEMO_PASSWORD = "o2d-demo"

USERS = [
    ("sales", "李娜", "", Role.SALES),
    ("warehouse", "王强", "", Role.WAREHOUSE),
    ("checker", "赵敏", "", Role.WAREHOUSE),  # reviews what "warehouse" picked
    ("logistics", "张伟", "", Role.LOGISTICS),
    ("finance", "刘芳", "", Role.FINANCE),
    ("manager", "陈静", "", Role.MANAGER),
]

PRODUCTS = [
    ("TEA-001", "西湖龙井 250g / Longjing green tea 250 g", "168.00"),
    ("TEA-002", "普洱茶饼 357g / Pu'er tea cake 357 g", "238.00"),
    ("CUP-010", "保温杯 500ml / Insulated bottle 500 ml", "89.00"),
    ("CUP-011", "陶瓷茶具套装 / Ceramic tea set", "399.00"),
    ("RCE-100", "五常大米 5kg / Wuchang rice 5 kg", "79.90"),
    ("OIL-200", "花生油 5L / Peanut oil 5 L", "109.00"),
    ("LMP-300", "LED 台灯 / LED desk lamp", "149.00"),
    ("BAG-400", "帆布托特包 / Canvas tote bag", "59.00"),
    ("PEN-500", "钢笔礼盒 / Fountain pen gift box", "129.00"),
    ("NTB-600", "笔记本 A5 三本装 / A5 notebooks, pack of 3", "36.00"),
    ("UMB-700", "折叠雨伞 / Folding umbrella", "45.00"),
    ("SPK-800", "蓝牙音箱 / Bluetooth speaker", "259.00"),
]

CUSTOMERS = [
    (
        "王小明",
        "13800138001",
        "xiaoming.wang@example.cn",
        "上海市",
        "上海市",
        "浦东新区",
        "世纪大道 100 号",
    ),
    (
        "陈美玲",
        "13900139002",
        "meiling.chen@example.cn",
        "广东省",
        "深圳市",
        "南山区",
        "科技园南路 8 号",
    ),
    (
        "Alice Martin",
        "+8613700137003",
        "alice.martin@example.com",
        "北京市",
        "北京市",
        "朝阳区",
        "建国路 88 号",
    ),
    (
        "林志豪",
        "13600136004",
        "zhihao.lin@example.tw",
        "浙江省",
        "杭州市",
        "西湖区",
        "文三路 259 号",
    ),
    ("赵丽", "13500135005", "", "四川省", "成都市", "武侯区", "人民南路四段 12 号"),
    (
        "黄家明",
        "13400134006",
        "jiaming.huang@example.hk",
        "广东省",
        "广州市",
        "天河区",
        "天河路 385 号",
    ),
    ("周婷", "13300133007", "ting.zhou@example.cn", "江苏省", "南京市", "鼓楼区", "中山路 321 号"),
    (
        "David Lee",
        "+8613200132008",
        "david.lee@example.com",
        "上海市",
        "上海市",
        "徐汇区",
        "淮海中路 999 号",
    ),
]

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


@contextmanager
def clock_at(moment):
    """Run services as if it were ``moment`` (demo history only)."""
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


class Command(BaseCommand):
    help = "Create demo logins, products and about 50 orders in every state (local use only)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help="Seed even with DEBUG=False (creates logins with a public password!).",
        )

    def handle(self, *args, **options):
        if not settings.DEBUG and not options["allow_production"]:
            raise CommandError(
                "seed_demo creates logins with a public password; it refuses to run with "
                "DEBUG=False. Use --allow-production on a throwaway system only."
            )
        users = self._users()
        products = self._products()
        self._stock(products)
        self._carriers()
        if Order.objects.exists():
            self.stdout.write("Orders exist already; demo orders were not added again.")
        else:
            self._orders(users, products)
            self._low_stock(products, users)
            self._receipts(users)
            marked = services.mark_overdue_steps()
            services.escalate_overdue_follow_ups()
            self.stdout.write(f"Created {Order.objects.count()} demo orders ({marked} late).")
        self.stdout.write("Demo logins (local use only), password for all: " + DEMO_PASSWORD)
        for username, *_, role in USERS:
            self.stdout.write(f"  {username:<10} {role.label}")
        self.stdout.write("  admin      superuser (Django admin)")

    def _users(self):
        User = get_user_model()
        users = {}
        for username, first, last, role in USERS:
            user, created = User.objects.get_or_create(
                username=username,
                defaults={"first_name": first, "last_name": last, "is_staff": role == Role.MANAGER},
            )
            if created:
                user.set_password(DEMO_PASSWORD)
                user.save()
            user.groups.add(Group.objects.get(name=role))
            users[username] = user
        if not User.objects.filter(username="admin").exists():
            User.objects.create_superuser("admin", "admin@o2d.example", DEMO_PASSWORD)
        return users

    def _products(self):
        return [
            Product.objects.get_or_create(
                sku=sku, defaults={"name": name, "unit_price": Decimal(price)}
            )[0]
            for sku, name, price in PRODUCTS
        ]

    def _stock(self, products):
        """Bins and stock for every product; two run low to show the alert."""
        from warehouse.models import Bin, StockItem
        from warehouse.services import main_warehouse

        warehouse = main_warehouse()
        for i, product in enumerate(products):
            bin_, _created = Bin.objects.get_or_create(
                warehouse=warehouse, code=f"{'ABC'[i % 3]}-{i // 3 + 1:02d}-{i % 4 + 1}"
            )
            StockItem.objects.get_or_create(
                warehouse=warehouse,
                product=product,
                defaults={
                    "bin": bin_,
                    "on_hand": 200,
                    "low_stock_threshold": 10,
                },
            )

    def _carriers(self):
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

    def _logistics_work(self, name, order, users, at, i, *, delay):
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

    def _receipts(self, users):
        """Delivered orders: one confirmed by phone (its closing request is with Sales,
        and the customer asks to return a unit), one with a problem reported (and an
        approved exchange), one submitted to Finance, one in review blocked by the
        missing invoice, one sent back to Sales; the last waits for the customer."""
        from feedback import services as feedback
        from finance import services as finance

        delivered = list(Order.objects.filter(status=Status.DELIVERED).order_by("pk")[:5])
        if len(delivered) < 5:
            return
        for order in (delivered[0], *delivered[2:]):
            feedback.confirm_receipt(
                order.pk, how="phone", by=users["sales"], note="客户电话确认已收到全部商品。"
            )
        feedback.report_problem(
            delivered[1].pk,
            kind="damaged",
            details="保温杯外包装破损，杯身有凹痕。",
            photos=[],
            key="demo-problem",
        )
        submitted, blocked, sent_back = delivered[2:]
        for order in (submitted, blocked, sent_back):
            finance.submit_request(order.pk, by=users["sales"], note="发票随货寄出，客户已付款。")
        self._pay(blocked, users)
        finance.acknowledge_request(blocked.pk, by=users["finance"])
        finance.send_back(
            sent_back.pk, by=users["finance"], reason="请补充客户的付款凭证（银行回单）。"
        )
        self._returns(delivered, users)

    def _returns(self, delivered, users):
        """A return request waiting for Sales (the customer changed their mind), and an
        approved exchange of the damaged goods (its label can be printed)."""
        from feedback import returns

        asked, damaged = delivered[0], delivered[1]
        returns.request_return(
            asked.pk,
            reason_code="changed_mind",
            quantities={asked.lines.order_by("pk").first().pk: 1},
            details="颜色和图片不太一样，想退一件。",
            key="demo-return-asked",
        )
        request, _created = returns.request_return(
            damaged.pk,
            reason_code="damaged",
            quantities={damaged.lines.order_by("pk").first().pk: 1},
            details="外包装破损，商品有凹痕。",
            key="demo-return-damaged",
        )
        returns.approve_return(
            request.pk,
            by=users["sales"],
            outcome="exchange",
            answer="收到退货后我们会马上寄出新的商品。",
        )

    def _pay(self, order, users):
        from finance import services as finance
        from finance.models import Account, PaymentMethod

        account = Account.objects.get(order=order)
        finance.record_payment(
            order.pk,
            finance.MoneyMovement(
                amount=account.balance,
                happened_on=timezone.localdate(),
                reference=f"DEMO{order.pk:06d}",
                method_id=PaymentMethod.objects.get(code="bank_transfer").pk,
            ),
            by=users["finance"],
            key=f"demo-payment-{order.pk}",
        )
        return account

    def _close(self, order, users, at):
        """Step 7 as it happens: the customer confirms receipt, Finance records the
        payment and the fapiao, Sales submits the request, Finance approves it."""
        from django.core.files.base import ContentFile

        from feedback import services as feedback
        from finance import services as finance
        from finance.models import InvoiceType

        with clock_at(at - timedelta(minutes=30)):
            feedback.confirm_receipt(order.pk, how="customer")
            account = self._pay(order, users)
            finance.record_invoice(
                order.pk,
                finance.InvoiceDetails(
                    type_id=InvoiceType.objects.get(code="electronic").pk,
                    number=f"{order.pk:08d}",
                    amount=account.charged,
                    issued_on=timezone.localdate(),
                ),
                ContentFile(b"%PDF-1.4\n% demo fapiao\n%%EOF\n", name="fapiao.pdf"),
                by=users["finance"],
                key=f"demo-invoice-{order.pk}",
            )
            finance.submit_request(order.pk, by=users["sales"])
        with clock_at(at):
            finance.acknowledge_request(order.pk, by=users["finance"])
            finance.approve(order.pk, by=users["finance"])

    def _low_stock(self, products, users):
        """A stock count found two products short: they show on the low-stock alert."""
        from warehouse.services import adjust_stock, stock_item_for

        for product in (products[3], products[11]):
            item = stock_item_for(product)
            adjust_stock(
                item.pk,
                item.reserved + 4 - item.on_hand,
                by=users["warehouse"],
                reason="盘点差异 / stock count",
            )

    def _warehouse_work(self, order, users, status, at, rng):
        """The warehouse's real flow for demo orders that got past picking: some wait
        to be packed, some for review, the rest are reviewed (by a second person)."""
        from warehouse import services as warehouse

        warehouse.acknowledge_order(order.pk, by=users["warehouse"])
        for line in order.lines.all():
            warehouse.record_pick(
                order.pk, by=users["warehouse"], scanned=line.sku, quantity=line.quantity
            )
        stage = rng.random()
        if status == Status.PICKED and stage < 0.35:
            return  # waits to be packed
        warehouse.add_package(
            order.pk,
            by=users["warehouse"],
            weight_kg=Decimal(rng.randint(500, 9000)) / 1000,
            length_cm=rng.choice([20, 30, 40]),
            width_cm=rng.choice([15, 20, 30]),
            height_cm=rng.choice([10, 15, 20]),
        )
        warehouse.finish_packing(order.pk, by=users["warehouse"])
        if status == Status.PICKED and stage < 0.7:
            return  # waits for review
        with clock_at(at + timedelta(minutes=25)):
            warehouse.review_order(order.pk, by=users["checker"], passed=True)

    def _orders(self, users, products):
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
                        self._warehouse_work(order, users, status, at, rng)
                    continue
                if name in ("ship", "deliver"):
                    with clock_at(at):
                        self._logistics_work(
                            name, order, users, at, i, delay=i % 4 == 1 and status != Status.CLOSED
                        )
                    continue
                if name == "close":
                    self._close(order, users, at)
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
