"""Data: the staff roles as groups with their permissions, the process definition
seeded from PROCESS.md (in every interface language), the periodic deadline sweep,
and, on PostgreSQL, triggers that keep orders and their timeline from being deleted
or rewritten even when application code is bypassed."""

from datetime import timedelta

from django.contrib.auth.management import create_permissions
from django.db import migrations

ROLE_PERMISSIONS = {
    "Sales": [
        "view_order", "add_order", "confirm_order", "cancel_order", "comment_order",
        "view_customer", "add_customer", "change_customer", "view_product",
    ],
    "Warehouse": ["view_order", "pick_order", "backorder_order", "comment_order", "view_product"],
    "Logistics": ["view_order", "ship_order", "deliver_order", "comment_order"],
    "Finance": ["view_order", "close_order", "comment_order"],
}
ROLE_PERMISSIONS["Manager"] = sorted(
    {p for perms in ROLE_PERMISSIONS.values() for p in perms}
    | {"view_processstep", "change_processstep", "add_product", "change_product"}
)

# (position, code, role, target hours, {lang: (name, how, notes)})
STEPS = [
    (1, "placement", "Sales", None, {
        "en": ("Customer places order",
               "Orders arrive online, by phone or by email. Sales checks the customer's "
               "contact details and delivery address. The system assigns the order number "
               "and records the time and the customer.",
               "Enter phone and email orders at once, so nothing waits in an inbox."),
        "zh_hans": ("客户下单",
                    "订单通过在线平台、电话或邮件到达。销售核对客户的联系方式和收货地址。"
                    "系统分配订单号并记录下单时间和客户。",
                    "电话和邮件订单应立即录入，不要让订单停留在收件箱里。"),
        "zh_hant": ("客戶下單",
                    "訂單透過線上平台、電話或郵件到達。銷售核對客戶的聯絡方式和收貨地址。"
                    "系統分配訂單號並記錄下單時間和客戶。",
                    "電話和郵件訂單應立即錄入，不要讓訂單停留在收件匣裡。"),
    }),
    (2, "confirmation", "Sales", 24, {
        "en": ("Order confirmation",
               "Sales confirms the order with the customer by phone or email: goods, "
               "quantities and delivery time. Once the customer confirms, the order moves on.",
               "An order not confirmed must be followed up within 24 hours."),
        "zh_hans": ("订单确认",
                    "销售通过电话或邮件与客户确认订单：商品、数量和交货时间。"
                    "客户确认后，订单进入下一步。",
                    "未确认的订单必须在 24 小时内跟进。"),
        "zh_hant": ("訂單確認",
                    "銷售透過電話或郵件與客戶確認訂單：商品、數量和交貨時間。"
                    "客戶確認後，訂單進入下一步。",
                    "未確認的訂單必須在 24 小時內跟進。"),
    }),
    (3, "processing", "Warehouse", 24, {
        "en": ("Order processing",
               "Sales hands the confirmed order to the warehouse. The warehouse prepares the "
               "goods and checks stock.",
               "If stock is short, tell Sales at once: Sales agrees a new delivery time "
               "with the customer."),
        "zh_hans": ("订单处理",
                    "销售将已确认的订单交给仓储。仓储备货并检查库存。",
                    "如果缺货，立即通知销售，由销售与客户商定新的交货时间。"),
        "zh_hant": ("訂單處理",
                    "銷售將已確認的訂單交給倉儲。倉儲備貨並檢查庫存。",
                    "如果缺貨，立即通知銷售，由銷售與客戶商定新的交貨時間。"),
    }),
    (4, "shipping", "Logistics", 24, {
        "en": ("Review and shipping",
               "The order is reviewed, packed and labelled by the warehouse. Logistics picks "
               "a suitable carrier for the delivery address and ships; the system sets the "
               "order to shipped and records the tracking number.",
               "Check that labels are right before the goods leave."),
        "zh_hans": ("审核与发货",
                    "订单经审核后由仓储打包并打印标签。物流根据收货地址选择合适的承运商并发货；"
                    "系统将订单状态设为已发货并记录物流单号。",
                    "货物出库前确认标签正确。"),
        "zh_hant": ("審核與發貨",
                    "訂單經審核後由倉儲打包並列印標籤。物流根據收貨地址選擇合適的承運商並發貨；"
                    "系統將訂單狀態設為已發貨並記錄物流單號。",
                    "貨物出庫前確認標籤正確。"),
    }),
    (5, "tracking", "Logistics", 72, {
        "en": ("Delivery tracking",
               "Logistics follows the shipment; the customer can look it up online and Sales "
               "checks progress with the carrier.",
               "When something goes wrong, tell the customer at once and offer a solution."),
        "zh_hans": ("交付跟踪",
                    "物流实时跟踪货运；客户可在线查询，销售与承运商核实进度。",
                    "出现问题时，立即通知客户并提供解决方案。"),
        "zh_hant": ("交付追蹤",
                    "物流即時追蹤貨運；客戶可線上查詢，銷售與承運商核實進度。",
                    "出現問題時，立即通知客戶並提供解決方案。"),
    }),
    (6, "receipt", "Sales", 72, {
        "en": ("Customer confirms receipt",
               "The customer confirms receipt online or by phone; Sales records the feedback.",
               "Handle problems promptly, including returns and exchanges."),
        "zh_hans": ("客户确认收货",
                    "客户在线或通过电话确认收货；销售记录反馈。",
                    "及时处理问题，包括退换货。"),
        "zh_hant": ("客戶確認收貨",
                    "客戶線上或透過電話確認收貨；銷售記錄回饋。",
                    "及時處理問題，包括退換貨。"),
    }),
    (7, "closing", "Finance", 72, {
        "en": ("Order closing",
               "After receipt, Sales submits a closing request to Finance with the supporting "
               "documents. Finance reviews it and makes sure every charge is settled.",
               "Close only when every charge is settled."),
        "zh_hans": ("订单结案",
                    "收货后，销售向财务提交结案申请及相关单据。财务审核并确保所有款项已结清。",
                    "所有款项结清后方可结案。"),
        "zh_hant": ("訂單結案",
                    "收貨後，銷售向財務提交結案申請及相關單據。財務審核並確保所有款項已結清。",
                    "所有款項結清後方可結案。"),
    }),
    (8, "feedback", "Sales", 168, {
        "en": ("Feedback",
               "After completion the customer receives a satisfaction survey. Sales analyses "
               "the feedback regularly to find improvements.",
               "Bring the findings to the regular process review."),
        "zh_hans": ("反馈机制",
                    "订单完成后，客户会收到满意度调查。销售定期分析反馈，寻找改进之处。",
                    "在定期流程评审会上汇报分析结果。"),
        "zh_hant": ("回饋機制",
                    "訂單完成後，客戶會收到滿意度調查。銷售定期分析回饋，尋找改進之處。",
                    "在定期流程評審會上匯報分析結果。"),
    }),
]

IMMUTABLE_SQL = """
CREATE OR REPLACE FUNCTION o2d_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'O2D: % on % is not allowed (orders and their timeline are kept)',
        TG_OP, TG_TABLE_NAME;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER orders_order_no_delete BEFORE DELETE ON orders_order
    FOR EACH ROW EXECUTE FUNCTION o2d_refuse_change();
CREATE TRIGGER orders_orderevent_immutable BEFORE UPDATE OR DELETE ON orders_orderevent
    FOR EACH ROW EXECUTE FUNCTION o2d_refuse_change();
"""
IMMUTABLE_REVERSE_SQL = """
DROP TRIGGER IF EXISTS orders_orderevent_immutable ON orders_orderevent;
DROP TRIGGER IF EXISTS orders_order_no_delete ON orders_order;
DROP FUNCTION IF EXISTS o2d_refuse_change();
"""


def create_roles(apps, schema_editor):
    app_config = apps.get_app_config("orders")
    if getattr(app_config, "models_module", None) is None:  # migration state apps
        app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.set(
            Permission.objects.filter(content_type__app_label="orders", codename__in=codenames)
        )


def seed_process(apps, schema_editor):
    ProcessStep = apps.get_model("orders", "ProcessStep")
    for position, code, role, hours, texts in STEPS:
        fields = {"position": position, "role": role}
        fields["target"] = timedelta(hours=hours) if hours else None
        for lang, (name, how, notes) in texts.items():
            fields[f"name_{lang}"] = name
            fields[f"how_{lang}"] = how
            fields[f"notes_{lang}"] = notes
        fields["name"], fields["how"], fields["notes"] = texts["en"]
        ProcessStep.objects.update_or_create(code=code, defaults=fields)


def schedule_sweep(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_minute, _ = IntervalSchedule.objects.get_or_create(every=60, period="seconds")
    PeriodicTask.objects.get_or_create(
        name="Deadline sweep",
        defaults={
            "task": "orders.tasks.sweep_deadlines",
            "interval": every_minute,
            "description": "Marks orders whose current process step passed its target time.",
        },
    )


def protect_history(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(IMMUTABLE_SQL, params=None)


def unprotect_history(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(IMMUTABLE_REVERSE_SQL, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.RunPython(create_roles, migrations.RunPython.noop),
        migrations.RunPython(seed_process, migrations.RunPython.noop),
        migrations.RunPython(schedule_sweep, migrations.RunPython.noop),
        migrations.RunPython(protect_history, unprotect_history),
    ]
