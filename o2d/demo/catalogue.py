"""The demo products."""

from decimal import Decimal

from orders.models import Product

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


def products():
    return [
        Product.objects.get_or_create(
            sku=sku, defaults={"name": name, "unit_price": Decimal(price)}
        )[0]
        for sku, name, price in PRODUCTS
    ]
