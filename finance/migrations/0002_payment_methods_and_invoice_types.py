"""Data: the payment methods and invoice types the business starts with (the admin
edits them), and the Finance role's permissions on them in Django admin."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

# code: (English, Simplified Chinese, Traditional Chinese)
PAYMENT_METHODS = {
    "bank_transfer": ("Bank transfer", "银行转账", "銀行轉帳"),
    "alipay": ("Alipay", "支付宝", "支付寶"),
    "wechat_pay": ("WeChat Pay", "微信支付", "微信支付"),
    "cash_on_delivery": ("Cash on delivery", "货到付款", "貨到付款"),
    "card": ("Card", "银行卡", "銀行卡"),
}
INVOICE_TYPES = {
    "vat_general": ("General VAT fapiao", "增值税普通发票", "增值稅普通發票"),
    "vat_special": ("Special VAT fapiao", "增值税专用发票", "增值稅專用發票"),
    "electronic": ("Electronic fapiao", "电子发票", "電子發票"),
}
FINANCE_PERMISSIONS = [
    "view_paymentmethod", "add_paymentmethod", "change_paymentmethod",
    "view_invoicetype", "add_invoicetype", "change_invoicetype",
    "view_ledgerentry", "view_account", "view_invoice", "view_closingrequest",
]


def seed(apps, schema_editor):
    for model_name, rows in (("PaymentMethod", PAYMENT_METHODS), ("InvoiceType", INVOICE_TYPES)):
        model = apps.get_model("finance", model_name)
        for position, (code, (en, hans, hant)) in enumerate(rows.items(), start=1):
            model.objects.get_or_create(
                code=code,
                defaults={
                    "name": en, "name_en": en, "name_zh_hans": hans, "name_zh_hant": hant,
                    "position": position * 10,
                },
            )


def permissions(apps, schema_editor):
    app_config = apps.get_app_config("finance")
    if getattr(app_config, "models_module", None) is None:
        app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    perms = Permission.objects.filter(
        content_type__app_label="finance", codename__in=FINANCE_PERMISSIONS
    )
    for name in ("Finance", "Manager"):
        group = Group.objects.filter(name=name).first()
        if group is not None:
            group.permissions.add(*perms)


class Migration(migrations.Migration):
    dependencies = [
        ("finance", "0001_initial"),
        ("orders", "0002_roles_and_process"),
    ]

    operations = [
        migrations.RunPython(seed, migrations.RunPython.noop),
        migrations.RunPython(permissions, migrations.RunPython.noop),
    ]
