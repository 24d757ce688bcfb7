"""The orders department's rows: the life plan of every order, customers and their
addresses, products, orders and lines, day counters, the timeline's transitions and
Sales' events, emails, delivery promises, follow-ups and delivery change requests.

``build_plan`` decides everything about an order once (``bench_plan``): when it was
placed and what happened to it since, up to now. The other departments' builders read
the plan, so their rows agree with the order's status."""

# The SQL is built from integers, SQL literals (quoted by sql.literal) and table
# names from the models; values from outside go in as parameters.
# ruff: noqa: S608

import secrets

from .context import Context, interval
from .sql import EVENT_SLOTS, LINE_SLOTS, NOTIFICATION_SLOTS, expo, literal, pick, rnd

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
INSTRUCTIONS = ["请放门卫室。", "工作日白天送货。", "送货前请电话联系。", "请勿放快递柜。"]
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


def build_plan(run, ctx: Context) -> None:
    """``bench_plan``: one row per order with its whole life, decided by the seed.

    Orders are spread over ``days`` days ending now, growing (the last day has twice the
    first day's orders), in business hours. About 4.5 % are cancelled (while placed,
    confirmed or backordered), 5 % run out of stock once, a few get stuck in an open
    state; every milestone later than now is left out, so the open states hold the
    last days' orders. Ids follow the placing time, as the app's would."""
    services = ctx.services
    transit = "ARRAY[" + ", ".join(str(s.transit_days) for s in services) + "]"
    windows = "ARRAY[" + ", ".join("true" if s.honours_time_window else "false" for s in services)
    windows += "]"
    confirm_target = interval(ctx.targets.get("confirmation"))
    case_wait = expo(29, "6 hours", "q0.id")
    close_wait = expo(34, "16 hours", "q0.id")
    run(
        "plan: placing times",
        f"""
        CREATE TEMP TABLE bench_base ON COMMIT DROP AS
        SELECT n, CASE WHEN shaped < %(now)s - interval '2 minutes' THEN shaped ELSE raw END
                  AS placed_at
        FROM (
            SELECT n, raw,
                   ((raw AT TIME ZONE %(tz)s)::date + time '08:00'
                    + {rnd(2, "n")} * interval '14 hours') AT TIME ZONE %(tz)s AS shaped
            FROM (
                SELECT n, %(now)s - interval '90 seconds'
                          - {ctx.days} * (2 - sqrt(1 + 3 * {rnd(1, "n")})) * interval '1 day'
                          AS raw
                FROM generate_series(1, {ctx.orders}) n
            ) r
        ) s
        """,
        ctx.params(),
    )
    base = ctx.base("orders_order")
    run(
        "plan: ids, numbers, customers, fates",
        f"""
        CREATE TEMP TABLE bench_life ON COMMIT DROP AS
        SELECT p.*,
            (p.local_day::text) AS day_text,
            CASE WHEN p.n <= {ctx.customers} THEN p.n
                 ELSE 1 + floor({ctx.customers} * power({rnd(4)}, 1.5))::int END AS customer_no,
            CASE WHEN {rnd(3)} < 0.6 THEN 'online' WHEN {rnd(3)} < 0.85 THEN 'phone'
                 ELSE 'email' END AS channel,
            CASE WHEN {rnd(5)} < 0.35 THEN 1 WHEN {rnd(5)} < 0.72 THEN 2
                 WHEN {rnd(5)} < 0.94 THEN 3 ELSE 4 END AS nlines,
            1 + floor({rnd(6)} * {len(services)})::int AS service_idx,
            CASE WHEN {rnd(10)} < 0.032 THEN 'placed' WHEN {rnd(10)} < 0.040 THEN 'confirmed'
                 WHEN {rnd(10)} < 0.045 THEN 'backordered' END AS cancel_from,
            ({rnd(10)} BETWEEN 0.040 AND 0.045 OR {rnd(11)} < 0.05) AS backorder,
            CASE WHEN {rnd(12)} < 0.0015 THEN 1 + floor({rnd(13)} * 5)::int ELSE 9 END AS stop,
            {rnd(23)} < 0.04 AS delivery_problem,
            {rnd(28)} < 0.01 AS problem_case,
            CASE WHEN {rnd(28)} < 0.01 THEN 'phone' WHEN {rnd(31)} < 0.45 THEN 'customer'
                 WHEN {rnd(31)} < 0.57 THEN 'phone' ELSE 'automatic' END AS receipt_how
        FROM (
            SELECT {base} + row_number() OVER (ORDER BY placed_at, n) AS id, n, placed_at,
                   (placed_at AT TIME ZONE %(tz)s)::date AS local_day,
                   row_number() OVER (PARTITION BY (placed_at AT TIME ZONE %(tz)s)::date
                                      ORDER BY placed_at, n) AS day_no
            FROM bench_base
        ) p
        """,
        ctx.params(),
    )
    # Every milestone as it would happen, then (below) only those reached by now.
    run(
        "plan: milestones",
        f"""
        CREATE TEMP TABLE bench_times ON COMMIT DROP AS
        SELECT p.id AS tid, t1.*, t2.*, t3.*, t4.*, t5.*
        FROM bench_life p
        CROSS JOIN LATERAL (SELECT
            p.placed_at + interval '10 minutes' + {expo(14, "9 hours")} AS t_conf,
            ({transit})[p.service_idx] AS transit_days) t1
        CROSS JOIN LATERAL (SELECT
            t1.t_conf + interval '10 minutes' + {expo(16, "2 hours")} AS t_ack) t2
        CROSS JOIN LATERAL (SELECT
            CASE WHEN p.backorder THEN t2.t_ack + interval '1 minute' END AS t_bo,
            CASE WHEN p.backorder THEN t2.t_ack + interval '1 hour' + {expo(17, "3 hours")}
                 END AS t_promise2,
            CASE WHEN p.backorder THEN t2.t_ack + interval '7 hours' + {expo(17, "3 hours")}
                 + {expo(18, "2 days")} END AS t_rel) t3
        CROSS JOIN LATERAL (SELECT
            coalesce(t3.t_rel, t2.t_ack) + interval '10 hours' + {expo(19, "16 hours")}
                AS t_pick,
            CASE p.cancel_from
                WHEN 'placed' THEN p.placed_at + interval '20 minutes' + {expo(15, "20 hours")}
                WHEN 'confirmed' THEN t1.t_conf + interval '5 minutes' + {expo(15, "1 hour")}
                WHEN 'backordered' THEN t3.t_bo + interval '2 hours' + {expo(15, "1 day")}
            END AS t_cancel) t4
        CROSS JOIN LATERAL (SELECT
            t4.t_pick + interval '10 minutes' + {expo(20, "1 hour")} AS t_pack,
            t4.t_pick + interval '20 minutes' + {expo(20, "1 hour")} + {expo(21, "90 minutes")}
                AS t_rev) t5
        """,
        ctx.params(),
    )
    run(
        "plan: delivery and after",
        f"""
        CREATE TEMP TABLE bench_times2 ON COMMIT DROP AS
        SELECT p.tid AS tid2, s.*, d.*, r.*
        FROM bench_times p
        CROSS JOIN LATERAL (SELECT
            p.t_rev + interval '20 minutes' + {expo(22, "5 hours", "p.tid")} AS t_ship) s
        CROSS JOIN LATERAL (SELECT
            s.t_ship + interval '6 hours' + {rnd(24, "p.tid")} * greatest(p.transit_days, 1)
                * interval '16 hours' AS t_exc,
            s.t_ship + p.transit_days * interval '1 day' + interval '3 hours'
                + {rnd(27, "p.tid")} * interval '8 hours' AS t_deliv_plain) d
        CROSS JOIN LATERAL (SELECT
            d.t_exc + interval '1 hour' + {expo(26, "8 hours", "p.tid")} AS t_exc_done,
            {rnd(32, "p.tid")} AS receipt_r) r
        """,
        ctx.params(),
    )
    run("plan: analyze", "ANALYZE bench_life; ANALYZE bench_times; ANALYZE bench_times2")
    run(
        "plan: what has happened by now",
        f"""
        CREATE TEMP TABLE bench_plan ON COMMIT DROP AS
        SELECT q.*,
            CASE WHEN q.m_cancel IS NOT NULL THEN 'cancelled'
                 WHEN q.m_close IS NOT NULL THEN 'closed'
                 WHEN q.m_deliv IS NOT NULL THEN 'delivered'
                 WHEN q.m_ship IS NOT NULL THEN 'shipped'
                 WHEN q.m_pick IS NOT NULL THEN 'picked'
                 WHEN q.m_rel IS NOT NULL THEN 'confirmed'
                 WHEN q.m_bo IS NOT NULL THEN 'backordered'
                 WHEN q.m_conf IS NOT NULL THEN 'confirmed'
                 ELSE 'placed' END AS status,
            coalesce(q.m_cancel, q.m_close, q.m_deliv, q.m_ship, q.m_pick, q.m_rel, q.m_bo,
                     q.m_conf, q.placed_at) AS step_started_at
        FROM (
            SELECT c.*,
                CASE WHEN c.m_rev IS NOT NULL THEN c.t_ship END AS m_ship_raw
            FROM (
                SELECT b.*,
                    CASE WHEN b.m_pick IS NOT NULL AND b.stop >= 4 AND b.t_pack <= %(now)s
                         THEN b.t_pack END AS m_pack,
                    CASE WHEN b.m_pick IS NOT NULL AND b.stop >= 4 AND b.t_rev <= %(now)s
                         THEN b.t_rev END AS m_rev
                FROM (
                    SELECT a.*,
                        CASE WHEN a.m_ack IS NOT NULL AND a.stop >= 3
                                  AND (NOT a.backorder OR a.m_rel IS NOT NULL)
                                  AND a.t_pick <= %(now)s THEN a.t_pick END AS m_pick,
                        CASE WHEN a.cancel_from = 'placed' AND a.t_cancel <= %(now)s
                                  THEN a.t_cancel
                             WHEN a.cancel_from = 'confirmed' AND a.m_conf IS NOT NULL
                                  AND a.t_cancel <= %(now)s THEN a.t_cancel
                             WHEN a.cancel_from = 'backordered' AND a.m_bo IS NOT NULL
                                  AND a.t_cancel <= %(now)s THEN a.t_cancel END AS m_cancel
                    FROM (
                        SELECT l.*, t.*, t2.t_ship, t2.t_exc, t2.t_exc_done, t2.t_deliv_plain,
                            t2.receipt_r,
                            CASE WHEN coalesce(l.cancel_from, '') <> 'placed' AND l.stop >= 2
                                      AND t.t_conf <= %(now)s THEN t.t_conf END AS m_conf,
                            CASE WHEN coalesce(l.cancel_from, '') NOT IN ('placed', 'confirmed')
                                      AND l.stop >= 3 AND t.t_ack <= %(now)s
                                 THEN t.t_ack END AS m_ack,
                            CASE WHEN l.backorder AND l.stop >= 3 AND t.t_bo <= %(now)s
                                      AND coalesce(l.cancel_from, '') IN ('', 'backordered')
                                 THEN t.t_bo END AS m_bo,
                            CASE WHEN l.backorder AND l.stop >= 3 AND t.t_promise2 <= %(now)s
                                      AND coalesce(l.cancel_from, '') IN ('', 'backordered')
                                      AND (l.cancel_from IS NULL OR t.t_promise2 < t.t_cancel)
                                 THEN t.t_promise2 END AS m_promise2,
                            CASE WHEN l.backorder AND coalesce(l.cancel_from, '') = ''
                                      AND l.stop >= 3 AND t.t_rel <= %(now)s
                                 THEN t.t_rel END AS m_rel
                        FROM bench_life l
                        JOIN bench_times t ON t.tid = l.id
                        JOIN bench_times2 t2 ON t2.tid2 = l.id
                    ) a
                ) b
            ) c
        ) q0
        CROSS JOIN LATERAL (SELECT
            CASE WHEN q0.m_ship_raw IS NOT NULL AND q0.stop >= 4 AND q0.t_ship <= %(now)s
                 THEN q0.t_ship END AS m_ship) s
        CROSS JOIN LATERAL (SELECT
            CASE WHEN s.m_ship IS NOT NULL AND q0.delivery_problem AND q0.t_exc <= %(now)s
                 THEN q0.t_exc END AS m_exc,
            q0.t_deliv_plain + CASE WHEN q0.delivery_problem THEN interval '1 day'
                                    ELSE interval '0' END AS t_deliv) e
        CROSS JOIN LATERAL (SELECT
            CASE WHEN s.m_ship IS NOT NULL AND q0.stop >= 5 AND e.t_deliv <= %(now)s
                 THEN e.t_deliv END AS m_deliv) dv
        CROSS JOIN LATERAL (SELECT
            CASE WHEN q0.problem_case THEN dv.m_deliv + interval '1 hour' + {case_wait}
                 END AS t_case) pc
        CROSS JOIN LATERAL (SELECT
            pc.t_case + interval '2 hours' + {expo(30, "1 day", "q0.id")} AS t_case_done,
            CASE WHEN q0.problem_case
                     THEN pc.t_case + interval '3 hours' + {expo(30, "1 day", "q0.id")}
                 WHEN q0.receipt_how = 'customer'
                     THEN dv.m_deliv + interval '10 minutes'
                          + least(-ln(1 - q0.receipt_r) * interval '14 hours', '70 hours')
                 WHEN q0.receipt_how = 'phone'
                     THEN dv.m_deliv + interval '2 hours'
                          + least(-ln(1 - q0.receipt_r) * interval '20 hours', '68 hours')
                 ELSE dv.m_deliv + interval '72 hours' + q0.receipt_r * interval '1 hour'
            END AS t_receipt) rc
        CROSS JOIN LATERAL (SELECT
            CASE WHEN rc.t_receipt <= %(now)s THEN rc.t_receipt END AS m_receipt,
            CASE WHEN rc.t_receipt <= %(now)s AND q0.stop >= 6
                      AND rc.t_receipt + interval '1 hour' + {close_wait} <= %(now)s
                 THEN rc.t_receipt + interval '1 hour' + {close_wait} END AS m_close
            ) cl
        CROSS JOIN LATERAL (SELECT q0.*, s.*, e.m_exc, dv.m_deliv, pc.t_case, rc.t_case_done,
                                   cl.m_receipt, cl.m_close) q
        """,
        ctx.params(),
    )
    run(
        "plan: order details",
        f"""
        CREATE TEMP TABLE bench_order ON COMMIT DROP AS
        SELECT p.id, p.customer_no, p.channel, p.status, p.placed_at, p.step_started_at,
            p.local_day, p.day_no,
            to_char(p.local_day, 'YYYYMMDD') || '-'
                || CASE WHEN p.day_no < 10000 THEN lpad(p.day_no::text, 4, '0')
                        ELSE p.day_no::text END AS number,
            CASE WHEN p.channel <> 'online' OR {rnd(7)} < 0.3 THEN %(sales)s END
                AS salesperson_id,
            CASE WHEN ({windows})[p.service_idx] AND {rnd(8)} < 0.25
                 THEN {pick(9, ["'morning'", "'afternoon'", "'evening'"])} ELSE 'any' END
                AS requested_window,
            CASE WHEN {rnd(40)} < 0.3
                 THEN p.local_day + 3 + floor({rnd(41)} * 8)::int END AS requested_date,
            CASE WHEN {rnd(42)} < 0.1
                 THEN {pick(43, [literal(t) for t in INSTRUCTIONS])} ELSE '' END
                AS special_instructions,
            CASE WHEN p.m_conf IS NOT NULL
                     THEN greatest(p.placed_at + interval '1 minute',
                                   p.m_conf - interval '5 minutes' - {rnd(44)} * interval '2 hours')
                 WHEN {rnd(44)} < 0.5 THEN p.placed_at + ({rnd(45)} * 0.5)
                                                          * (%(now)s - p.placed_at) END
                AS verified_at,
            CASE WHEN p.m_conf IS NOT NULL
                 THEN (p.m_conf AT TIME ZONE %(tz)s)::date + 3 + floor({rnd(46)} * 4)::int
                 END AS promised_1,
            CASE WHEN p.m_promise2 IS NOT NULL
                 THEN (p.m_promise2 AT TIME ZONE %(tz)s)::date + 5 + floor({rnd(47)} * 6)::int
                 END AS promised_2,
            CASE WHEN p.status IN ('picked', 'shipped', 'delivered', 'closed') THEN p.m_rev END
                AS reviewed_at,
            -- The confirmation step ran late: the sweep opened a follow-up (and reminded).
            CASE WHEN {confirm_target} IS NOT NULL
                      AND p.placed_at + {confirm_target} + interval '30 seconds' <= %(now)s
                      AND coalesce(p.m_conf, CASE WHEN p.cancel_from = 'placed' THEN p.m_cancel
                                                  END, %(now)s)
                          > p.placed_at + {confirm_target} + interval '30 seconds'
                 THEN p.placed_at + {confirm_target} + interval '30 seconds' END AS late_at,
            coalesce(p.m_conf, CASE WHEN p.cancel_from = 'placed' THEN p.m_cancel END)
                AS confirmation_done_at
        FROM bench_plan p
        """,
        ctx.params(),
    )
    run("plan: analyze", "ANALYZE bench_plan; ANALYZE bench_order")


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


def insert_promises_and_follow_ups(run, ctx: Context) -> None:
    """Delivery promises (the date agreed at confirmation, and the new date after a
    shortage) and follow-ups: a late confirmation (done when confirmed or cancelled,
    escalated when its own due time passed first) and the shortage alert's task."""
    fw = interval(ctx.follow_up_within.get("confirmation"))
    run(
        "orders_deliverypromise",
        f"""
        INSERT INTO orders_deliverypromise (id, order_id, date, method, agreed, note, by_id,
                                            created_at)
        SELECT {ctx.base("orders_deliverypromise")} + p.id * 2 + v.slot, p.id, v.date,
               v.method, v.agreed, '', %(sales)s, v.at
        FROM bench_plan p JOIN bench_order o ON o.id = p.id
        CROSS JOIN LATERAL (VALUES
            (0, p.m_conf, o.promised_1,
             CASE WHEN p.channel = 'online' THEN 'link' ELSE 'phone' END,
             '商品、数量和送货时间已与客户确认。'),
            (1, p.m_promise2, o.promised_2, 'phone', '缺货，与客户商定新的送货日期。')
        ) v(slot, at, date, method, agreed)
        WHERE v.at IS NOT NULL
        """,
        ctx.params(),
    )
    run(
        "orders_followup",
        f"""
        INSERT INTO orders_followup (id, order_id, step, step_started_at, reason, assignee_id,
                                     created_at, due_at, done_at, escalated_at)
        SELECT {ctx.base("orders_followup")} + p.id * 2 + v.slot, p.id, v.step, v.started,
               v.reason, o.salesperson_id, v.at, v.due, v.done,
               CASE WHEN v.due + interval '1 minute' <= %(now)s
                         AND coalesce(v.done, 'infinity') > v.due
                    THEN v.due + interval '1 minute' END
        FROM bench_plan p JOIN bench_order o ON o.id = p.id
        CROSS JOIN LATERAL (VALUES
            (0, CASE WHEN {fw} IS NOT NULL THEN o.late_at END, 'confirmation', p.placed_at,
             'late', o.late_at + {fw}, o.confirmation_done_at),
            (1, p.m_bo, 'processing', p.m_bo, 'shortage', p.m_bo + interval '2 hours',
             coalesce(p.m_promise2, p.m_rel, p.m_cancel))
        ) v(slot, at, step, started, reason, due, done)
        WHERE v.at IS NOT NULL
        """,
        ctx.params(),
    )


def insert_change_requests(run, ctx: Context) -> None:
    """Delivery change requests from the status page (about 1.2 % of orders), made
    before picking: another window or added instructions; most approved, some refused
    with a reason; still pending only on open orders that may still change. Their
    timeline events and the decision emails go with them."""
    base = ctx.base("orders_deliverychangerequest")
    run(
        "changes: working table",
        f"""
        CREATE TEMP TABLE bench_change ON COMMIT DROP AS
        SELECT p.id AS order_id, {base} + p.id AS id, p.customer_no, x.asked_at,
            CASE WHEN x.decided_at <= %(now)s
                      OR p.status NOT IN ('placed', 'confirmed', 'backordered')
                 THEN least(x.decided_at, %(now)s - interval '1 minute') END AS decided_at,
            CASE WHEN {rnd(82)} < 0.8 THEN 'approved' ELSE 'refused' END AS outcome,
            CASE WHEN {rnd(83)} < 0.6 THEN {pick(84, ["'morning'", "'afternoon'", "'evening'"])}
                 ELSE '' END AS requested_window
        FROM bench_plan p
        CROSS JOIN LATERAL (SELECT
            p.placed_at + interval '5 minutes' + {rnd(81)} * 0.8
                * (coalesce(p.m_pick, p.m_cancel, %(now)s) - p.placed_at) AS asked_at) a
        CROSS JOIN LATERAL (SELECT a.asked_at,
            a.asked_at + interval '20 minutes' + {expo(85, "3 hours")} AS decided_at) x
        WHERE {rnd(80)} < 0.012 AND p.placed_at < %(now)s - interval '1 hour'
        """,
        ctx.params(),
    )
    run(
        "orders_deliverychangerequest",
        """
        INSERT INTO orders_deliverychangerequest (
            id, order_id, created_at, requested_window, instructions, recipient, phone,
            province, city, district, street, postal_code, status, decided_by_id, decided_at,
            reason)
        SELECT id, order_id, asked_at, requested_window,
               CASE WHEN requested_window = '' THEN '送货前请电话联系。' ELSE '' END,
               '', '', '', '', '', '', '',
               CASE WHEN decided_at IS NULL THEN 'pending' ELSE outcome END,
               CASE WHEN decided_at IS NOT NULL THEN %(sales)s END, decided_at,
               CASE WHEN decided_at IS NOT NULL AND outcome = 'refused'
                    THEN '订单已在处理中，无法更改。' ELSE '' END
        FROM bench_change
        """,
        ctx.params(),
    )
    what = (
        "CASE WHEN ch.requested_window <> '' THEN '[\"window\"]' "
        "ELSE '[\"instructions\"]' END::jsonb"
    )
    run(
        "orders_orderevent (change requests)",
        f"""
        INSERT INTO orders_orderevent (id, order_id, created_at, actor_id, kind, from_status,
                                       to_status, note, code, data, public)
        SELECT {ctx.base("orders_orderevent")} + ch.order_id * {EVENT_SLOTS} + e.slot,
               ch.order_id, e.at, e.actor, 'system', '', '', '', e.code, e.data, true
        FROM bench_change ch
        CROSS JOIN LATERAL (VALUES
            (17, ch.asked_at, NULL::integer, 'change_requested',
             jsonb_build_object('request', ch.id, 'what', {what})),
            (18, ch.decided_at, %(sales)s,
             CASE ch.outcome WHEN 'approved' THEN 'change_approved' ELSE 'change_refused' END,
             jsonb_build_object('request', ch.id, 'what', {what},
                                'reason', CASE WHEN ch.outcome = 'refused'
                                               THEN '订单已在处理中，无法更改。' ELSE '' END))
        ) e(slot, at, actor, code, data)
        WHERE e.at IS NOT NULL
        """,
        ctx.params(),
    )
    run(
        "orders_notification (change requests)",
        notification_sql(
            ctx,
            """
            (5, ch.decided_at, CASE ch.outcome WHEN 'approved' THEN 'delivery_change_approved'
                                ELSE 'delivery_change_refused' END, ch.id::text,
             jsonb_build_object('request', ch.id))
            """,
            joins="JOIN bench_change ch ON ch.order_id = p.id",
        ),
        ctx.params(),
    )


def _coprime_step(products: int) -> int:
    """A step through the products that gives an order's lines distinct products."""
    step = max(1, products // 4) + 1
    while any(products and (step * k) % products == 0 for k in range(1, 4)):
        step += 1
    return step
