"""The orders department's rows: customers and their addresses, products, orders and
lines, day counters, the timeline's transitions and Sales' events, emails, delivery
promises, follow-ups and delivery change requests, all read from the plan
(``plan.build_plan``)."""

# The SQL is built from integers, SQL literals (quoted by sql.literal) and table
# names from the models; values from outside go in as parameters.
# ruff: noqa: S608

import secrets

from .context import Context, interval
from .sql import EVENT_SLOTS, LINE_SLOTS, NOTIFICATION_SLOTS, literal, pick, rnd

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋"
GIVEN = [
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛",
    "明", "超", "秀英", "霞", "平", "刚", "桂英", "建华", "志强", "晓东", "婷婷", "海燕",
    "子涵", "浩然", "欣怡", "雨萱", "宇轩", "梓萌", "俊杰", "佳怡", "文博", "思远", "嘉怡",
]  # fmt: skip
ENGLISH = ["Alice Martin", "David Lee", "Emma Brown", "James Wilson", "Olivia Chen", "Noah Kim"]
# (province, city, district, postal code, street)
PLACES = [
    ("上海市", "上海市", "浦东新区", "200120", "世纪大道"),
    ("上海市", "上海市", "徐汇区", "200030", "淮海中路"),
    ("北京市", "北京市", "朝阳区", "100022", "建国路"),
    ("北京市", "北京市", "海淀区", "100080", "中关村大街"),
    ("广东省", "深圳市", "南山区", "518057", "科技园南路"),
    ("广东省", "广州市", "天河区", "510620", "天河路"),
    ("浙江省", "杭州市", "西湖区", "310012", "文三路"),
    ("江苏省", "南京市", "鼓楼区", "210008", "中山路"),
    ("江苏省", "苏州市", "姑苏区", "215000", "人民路"),
    ("四川省", "成都市", "武侯区", "610041", "人民南路四段"),
    ("湖北省", "武汉市", "江汉区", "430022", "解放大道"),
    ("陕西省", "西安市", "雁塔区", "710061", "长安南路"),
    ("重庆市", "重庆市", "渝中区", "400010", "解放碑步行街"),
    ("天津市", "天津市", "和平区", "300041", "南京路"),
    ("山东省", "青岛市", "市南区", "266071", "香港中路"),
    ("福建省", "厦门市", "思明区", "361001", "中山路"),
]
COMMENTS = [
    "客户要求送货前电话联系。",
    "包装时请多加一层气泡膜。",
    "该地址小区门禁严格，需提前预约。",
    "客户询问发票抬头，已告知。",
    "客户来电确认地址无误。",
]
CANCEL_NOTES = ["客户改变主意，电话确认取消。", "客户重复下单，取消本单。", "价格问题，客户取消。"]


def _column(index: int, rows: list[tuple], row: str) -> str:
    """Field ``index`` of one of ``rows``, chosen by the integer expression ``row``."""
    values = ", ".join(literal(r[index]) for r in rows)
    return f"(ARRAY[{values}])[1 + mod({row}, {len(rows)})]"


def insert_customers(run, ctx: Context) -> None:
    """Customers (about one per five orders, each created just before their first order)
    and one address each; ``bench_customer`` keeps them for the orders' copies."""
    c = "c.no"
    run(
        "customers: working table",
        f"""
        CREATE TEMP TABLE bench_customer ON COMMIT DROP AS
        SELECT c.no, {ctx.base("orders_customer")} + c.no AS id,
            CASE WHEN {rnd(50, c)} >= 0.94
                 THEN {_column(0, [(n,) for n in ENGLISH], "c.no")}
                 ELSE {_column(0, [(s,) for s in SURNAMES], "c.no")}
                      || {_column(0, [(g,) for g in GIVEN], f"c.no / {len(SURNAMES)}")} END
                AS name,
            '+8613' || lpad(mod(c.no::bigint * 7919, 1000000000)::text, 9, '0') AS phone,
            CASE WHEN {rnd(51, c)} < 0.99
                 THEN 'c' || c.no || '.' || lower(to_hex(hashint4(c.no))) || '@'
                      || {pick(52, ["'example.cn'", "'example.com'", "'example.hk'"], c)}
                 ELSE '' END AS email,
            CASE WHEN {rnd(50, c)} < 0.86 THEN 'zh-hans' WHEN {rnd(50, c)} < 0.94 THEN 'zh-hant'
                 ELSE 'en' END AS language,
            {_column(0, PLACES, "c.no / 7")} AS province,
            {_column(1, PLACES, "c.no / 7")} AS city,
            {_column(2, PLACES, "c.no / 7")} AS district,
            {_column(3, PLACES, "c.no / 7")} AS postal_code,
            {_column(4, PLACES, "c.no / 7")} || ' ' || (1 + mod(c.no, 400)) || ' 号' AS street,
            coalesce(f.first_at - interval '2 minutes',
                     %(now)s - {rnd(53, c)} * {ctx.days} * interval '1 day') AS created_at
        FROM generate_series(1, {ctx.customers}) c(no)
        LEFT JOIN (SELECT customer_no, min(placed_at) AS first_at FROM bench_plan
                   GROUP BY customer_no) f ON f.customer_no = c.no
        """,
        ctx.params(),
    )
    run("customers: analyze", "ANALYZE bench_customer")
    run(
        "orders_customer",
        """
        INSERT INTO orders_customer (id, name, phone, email, language, created_at)
        SELECT id, name, phone, email, language, created_at FROM bench_customer
        """,
    )
    run(
        "orders_address",
        f"""
        INSERT INTO orders_address (id, customer_id, recipient, phone, country, province, city,
                                    district, street, postal_code)
        SELECT {ctx.base("orders_address")} + no, id, name, phone, 'CN', province, city,
               district, street, postal_code
        FROM bench_customer
        """,
    )


def ensure_products(run, ctx: Context, wanted: int = 200) -> None:
    """Up to ``wanted`` active products (BEN-0001...), and ``bench_product``: the active
    CNY products the orders choose from."""
    run(
        "orders_product (missing ones)",
        f"""
        INSERT INTO orders_product (sku, name, unit_price, currency, active)
        SELECT 'BEN-' || lpad(g::text, 4, '0'),
               {
            pick(
                60,
                [
                    "'保温杯'",
                    "'茶叶礼盒'",
                    "'台灯'",
                    "'帆布包'",
                    "'蓝牙音箱'",
                    "'笔记本'",
                    "'雨伞'",
                    "'大米'",
                    "'花生油'",
                    "'钢笔'",
                ],
                "g",
            )
        }
                   || ' ' || g || ' 型 / Item ' || g,
               round((5 + power({rnd(61, "g")}, 2) * 600)::numeric, 1),
               'CNY', true
        FROM generate_series(1, %(wanted)s) g
        WHERE (SELECT count(*) FROM orders_product WHERE active AND currency = 'CNY') < g
        ON CONFLICT (sku) DO NOTHING
        """,
        {"wanted": wanted},
    )
    run(
        "products: working table",
        """
        CREATE TEMP TABLE bench_product ON COMMIT DROP AS
        SELECT row_number() OVER (ORDER BY id) AS idx, id, sku, name, unit_price
        FROM orders_product WHERE active AND currency = 'CNY'
        """,
    )


def insert_orders(run, ctx: Context) -> None:
    """Lines (one to four distinct products, popular ones more often), the orders with
    their copied contact and delivery details, totals and a random public token, and
    the day counters the app continues from."""
    products = run.scalar("SELECT count(*) FROM bench_product")
    step = _coprime_step(products)
    run(
        "lines: working table",
        f"""
        CREATE TEMP TABLE bench_line ON COMMIT DROP AS
        SELECT p.id AS order_id, k,
               {ctx.base("orders_orderline")} + p.id * {LINE_SLOTS} + k - 1 AS id,
               pr.id AS product_id, pr.sku, pr.name, pr.unit_price,
               1 + floor(power({rnd(62, f"p.id * {LINE_SLOTS} + k")}, 3) * 5)::int AS quantity,
               p.status IN ('shipped', 'delivered', 'closed') AS shipped
        FROM bench_plan p
        CROSS JOIN generate_series(1, p.nlines) k
        JOIN bench_product pr ON pr.idx = 1 + mod(
            floor({products} * power({rnd(63)}, 1.6))::int + (k - 1) * {step}, {products})
        """,
    )
    run("lines: analyze", "ANALYZE bench_line")
    run(
        "orders_order",
        """
        INSERT INTO orders_order (
            id, number, status, channel, placed_at, customer_id, salesperson_id,
            contact_name, contact_phone, contact_email, contact_language,
            delivery_recipient, delivery_phone, delivery_country, delivery_province,
            delivery_city, delivery_district, delivery_street, delivery_postal_code,
            requested_date, requested_window, special_instructions, currency, total,
            public_token, idempotency_key, contact_verified_at, address_verified_at,
            promised_date, callback_requested_at, step_started_at, step_overdue_at,
            reviewed_at, partial_agreed_at)
        SELECT o.id, o.number, o.status, o.channel, o.placed_at, c.id, o.salesperson_id,
            c.name, c.phone, c.email, c.language,
            c.name, c.phone, 'CN', c.province, c.city, c.district, c.street, c.postal_code,
            o.requested_date, o.requested_window, o.special_instructions, 'CNY', t.total,
            -- Like secrets.token_urlsafe(24): 32 URL-safe characters from 24 bytes.
            translate(encode(decode(md5(%(token_key)s || o.id), 'hex')
                             || int8send(hashint8extended(o.id, %(token_seed)s)), 'base64'),
                      '+/', '-_'),
            NULL, o.verified_at, o.verified_at,
            coalesce(o.promised_2, o.promised_1), NULL, o.step_started_at, s.overdue_at,
            o.reviewed_at, NULL
        FROM bench_order o
        JOIN bench_customer c ON c.no = o.customer_no
        JOIN (SELECT order_id, sum(quantity * unit_price) AS total FROM bench_line
              GROUP BY order_id) t ON t.order_id = o.id
        LEFT JOIN bench_overdue s ON s.id = o.id
        """,
        # A keyed hash with a key of this run only: tokens cannot be derived from the seed.
        {"token_key": secrets.token_hex(16), "token_seed": secrets.randbits(62)},
    )
    run(
        "orders_orderline",
        """
        INSERT INTO orders_orderline (id, order_id, product_id, sku, name, quantity, unit_price,
                                      shipped_quantity)
        SELECT id, order_id, product_id, sku, name, quantity, unit_price,
               CASE WHEN shipped THEN quantity ELSE 0 END
        FROM bench_line
        """,
    )
    run(
        "orders_ordersequence",
        """
        INSERT INTO orders_ordersequence (day, last)
        SELECT local_day, max(day_no) FROM bench_order GROUP BY local_day
        ON CONFLICT (day) DO UPDATE
            SET last = greatest(orders_ordersequence.last, excluded.last)
        """,
    )


def overdue_steps(run, ctx: Context) -> None:
    """``bench_overdue``: open orders whose current step passed its target, with the
    time the deadline sweep marked them (``Order.step_overdue_at``)."""
    step_for = {
        "placed": "confirmation",
        "confirmed": "processing",
        "backordered": "processing",
        "picked": "shipping",
        "shipped": "tracking",
        "delivered": "closing",
    }
    cases = " ".join(
        f"WHEN '{status}' THEN {interval(ctx.targets.get(step))}"
        for status, step in step_for.items()
    )
    run(
        "plan: late open orders",
        f"""
        CREATE TEMP TABLE bench_overdue ON COMMIT DROP AS
        SELECT id, status, step_started_at + target + interval '30 seconds' AS overdue_at
        FROM (SELECT id, status, step_started_at, CASE status {cases} END AS target
              FROM bench_order) o
        WHERE target IS NOT NULL AND step_started_at + target + interval '30 seconds' <= %(now)s
        """,
        ctx.params(),
    )


def insert_events(run, ctx: Context) -> None:
    """The timeline rows orders writes: one per transition the order went through
    (placed, confirmed, backordered and back, picked, shipped, delivered, closed or
    cancelled), the sweep's late-step notes and follow-up events, the shortage alert
    and new delivery date, and staff comments (about 40 % of orders)."""
    fw = interval(ctx.follow_up_within.get("confirmation"))
    comments = [literal(t) for t in COMMENTS]
    cancel_notes = [literal(t) for t in CANCEL_NOTES]
    run(
        "orders_orderevent (orders)",
        f"""
        INSERT INTO orders_orderevent (id, order_id, created_at, actor_id, kind, from_status,
                                       to_status, note, code, data, public)
        SELECT {ctx.base("orders_orderevent")} + p.id * {EVENT_SLOTS} + e.slot, p.id, e.at,
               e.actor, e.kind, e.from_s, e.to_s, e.note, e.code, e.data, e.public
        FROM bench_plan p
        JOIN bench_order o ON o.id = p.id
        LEFT JOIN bench_overdue od ON od.id = p.id
        CROSS JOIN LATERAL (VALUES
            (0, p.placed_at, CASE WHEN p.channel = 'online' THEN NULL ELSE %(sales)s END,
             'transition', '', 'placed', '', '', jsonb_build_object('channel', p.channel),
             true),
            (1, o.late_at, NULL, 'system', '', '', '', 'step_overdue',
             jsonb_build_object('step', 'confirmation', 'status', 'placed'), false),
            (2, CASE WHEN {fw} IS NOT NULL THEN o.late_at END, NULL, 'system', '', '', '',
             'follow_up_created', jsonb_build_object('step', 'confirmation', 'due_at',
             to_jsonb(o.late_at + {fw})), false),
            (3, CASE WHEN o.late_at + {fw} + interval '1 minute' <= %(now)s
                      AND coalesce(o.confirmation_done_at, 'infinity') > o.late_at + {fw}
                 THEN o.late_at + {fw} + interval '1 minute' END, NULL, 'system', '', '', '',
             'follow_up_escalated', jsonb_build_object('step', 'confirmation'), false),
            (4, p.m_conf, %(sales)s, 'transition', 'placed', 'confirmed', '', '', '{{}}'::jsonb,
             true),
            (5, p.m_bo, %(warehouse)s, 'transition', 'confirmed', 'backordered',
             '缺货，等待到货。', '', '{{}}'::jsonb, true),
            (6, p.m_bo, NULL, 'system', '', '', '', 'sales_alerted',
             jsonb_build_object('due_at', to_jsonb(p.m_bo + interval '2 hours'),
                                'emailed', 0), false),
            (7, p.m_promise2, %(sales)s, 'system', '', '', '', 'promise_changed',
             jsonb_build_object('date', o.promised_2::text, 'previous', o.promised_1::text),
             true),
            (8, p.m_rel, NULL, 'transition', 'backordered', 'confirmed', '', '', '{{}}'::jsonb,
             true),
            (9, p.m_cancel, %(sales)s, 'transition',
             CASE WHEN p.cancel_from = 'placed' THEN 'placed' ELSE p.cancel_from END,
             'cancelled', {pick(70, cancel_notes)}, '', '{{}}'::jsonb, true),
            (10, p.m_pick, %(warehouse)s, 'transition', 'confirmed', 'picked', '', '',
             '{{}}'::jsonb, true),
            (11, p.m_ship, %(logistics)s, 'transition', 'picked', 'shipped', '', '',
             '{{}}'::jsonb, true),
            (12, p.m_deliv, NULL, 'transition', 'shipped', 'delivered', '', '', '{{}}'::jsonb,
             true),
            (13, p.m_close, %(finance)s, 'transition', 'delivered', 'closed', '', '',
             '{{}}'::jsonb, true),
            (14, CASE WHEN od.status <> 'placed' THEN od.overdue_at END, NULL, 'system', '', '',
             '', 'step_overdue', jsonb_build_object('step', CASE od.status
                 WHEN 'picked' THEN 'shipping' WHEN 'shipped' THEN 'tracking'
                 WHEN 'delivered' THEN 'closing' ELSE 'processing' END,
                 'status', od.status), false),
            (15, CASE WHEN {rnd(71)} < 0.25 THEN p.placed_at + interval '1 minute'
                      + {rnd(72)} * (CASE WHEN p.status IN ('closed', 'cancelled')
                                          THEN p.step_started_at ELSE %(now)s END
                                     - p.placed_at - interval '1 minute') END,
             CASE WHEN {rnd(73)} < 0.5 THEN %(sales)s WHEN {rnd(73)} < 0.75 THEN %(warehouse)s
                  ELSE %(logistics)s END,
             'comment', '', '', {pick(74, comments)}, '', '{{}}'::jsonb, false),
            (16, CASE WHEN {rnd(75)} < 0.04 THEN p.placed_at + interval '2 minutes'
                      + {rnd(76)} * (CASE WHEN p.status IN ('closed', 'cancelled')
                                          THEN p.step_started_at ELSE %(now)s END
                                     - p.placed_at - interval '2 minutes') END,
             %(manager)s, 'comment', '', '', {pick(77, comments)}, '', '{{}}'::jsonb, false)
        ) e(slot, at, actor, kind, from_s, to_s, note, code, data, public)
        WHERE e.at IS NOT NULL
        """,
        ctx.params(),
    )


def insert_notifications(run, ctx: Context) -> None:
    """The customer emails orders writes: received, confirmation reminder (late
    confirmation), confirmed, cancelled, new delivery date. Emails are sent a few
    seconds after they are written; those of the last half hour are still unsent."""
    run(
        "orders_notification (orders)",
        notification_sql(
            ctx,
            """
            (0, p.placed_at, 'order_received', '', '{}'::jsonb),
            (1, o.late_at, 'confirmation_reminder', '', '{}'::jsonb),
            (2, p.m_conf, 'order_confirmed', '', '{}'::jsonb),
            (3, p.m_cancel, 'order_cancelled', '', '{}'::jsonb),
            (4, p.m_promise2, 'new_delivery_date',
             (%(promise_base)s + p.id * 2 + 1)::text, '{}'::jsonb)
            """,
            joins="JOIN bench_order o ON o.id = p.id",
        ),
        {**ctx.params(), "promise_base": ctx.base("orders_deliverypromise")},
    )


def notification_sql(ctx: Context, values: str, *, joins: str = "") -> str:
    """An INSERT of emails from ``values``: (slot, created_at, kind, key, data) rows per
    order of ``bench_plan p``; rows without a time, or for an order without an email
    address, are left out. Shared by the departments that email customers."""
    return f"""
        INSERT INTO orders_notification (id, order_id, kind, key, "to", language, data,
                                         created_at, sent_at, attempts, claimed_until,
                                         last_error)
        SELECT {ctx.base("orders_notification")} + p.id * {NOTIFICATION_SLOTS} + e.slot, p.id,
               e.kind, e.key, c.email, '', e.data, e.at,
               CASE WHEN e.at < %(now)s - interval '30 minutes'
                    THEN e.at + interval '4 seconds' END,
               CASE WHEN e.at < %(now)s - interval '30 minutes' THEN 1 ELSE 0 END,
               NULL::timestamptz, ''
        FROM bench_plan p
        JOIN bench_customer c ON c.no = p.customer_no AND c.email <> ''
        {joins}
        CROSS JOIN LATERAL (VALUES {values}) e(slot, at, kind, key, data)
        WHERE e.at IS NOT NULL
    """


def _coprime_step(products: int) -> int:
    """A step through the products that gives an order's lines distinct products."""
    step = max(1, products // 4) + 1
    while any(products and (step * k) % products == 0 for k in range(1, 4)):
        step += 1
    return step
