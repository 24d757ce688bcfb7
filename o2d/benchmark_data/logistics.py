"""Logistics' rows: one shipment per shipped order with a valid tracking number in its
carrier's format and the carrier's price (its freight cost), the parcels and units in
it, the carrier's tracking events, delivery exceptions (about 4 % of shipments), and
the shipping and problem emails."""

# The SQL is built from integers, SQL literals (quoted by sql.literal) and table
# names from the models; values from outside go in as parameters.
# ruff: noqa: S608

from .context import Context, Service
from .orders import notification_sql
from .sql import EVENT_SLOTS, TRACKING_SLOTS, literal, pick, rnd

S10_WEIGHTS = [8, 6, 4, 2, 3, 5, 9, 7]
LUHN_DOUBLED = "ARRAY[0, 2, 4, 6, 8, 1, 3, 5, 7, 9]"
# Problem events, how often each happens, and the shipment status each leads to.
PROBLEMS = [("delayed", "in_transit"), ("failed_attempt", "problem"),
            ("address_problem", "problem"), ("damaged", "problem")]  # fmt: skip
HUBS = ["上海分拨中心", "杭州转运中心", "广州转运中心", "北京分拨中心", "武汉转运中心"]


def _digit(serial: str, position: int) -> str:
    return f"substr({serial}, {position + 1}, 1)::int"


def check_digit_sql(service: Service, serial: str) -> str:
    """The check digit of ``serial`` (an SQL text of ``tracking_digits`` digits) as
    logistics.tracking_numbers computes it, unrolled into one expression."""
    n = service.tracking_digits
    if service.check_digit == "luhn":
        terms = []
        for i in range(n):  # i counts from the right; even places are doubled
            digit = _digit(serial, n - 1 - i)
            terms.append(f"({LUHN_DOUBLED})[{digit} + 1]" if i % 2 == 0 else digit)
        return f"mod(10 - mod({' + '.join(terms)}, 10), 10)::text"
    if service.check_digit == "s10":
        total = " + ".join(
            f"{_digit(serial, i)} * {S10_WEIGHTS[i % len(S10_WEIGHTS)]}" for i in range(n)
        )
        return f"(ARRAY['1','2','3','4','5','6','7','8','9','0','5'])[11 - mod({total}, 11)]"
    return "''"


def _serial_sql(service: Service, row: str) -> str:
    """A serial of the carrier's length, unique per order: id times a number prime to 10,
    modulo 10^digits (a bijection while ids stay below it)."""
    n = service.tracking_digits
    if n >= 18:
        return f"lpad(({row} * 48271)::text, {n}, '0')"
    return f"lpad(mod({row} * 48271, {10**n}::bigint)::text, {n}, '0')"


def plan_shipments(run, ctx: Context) -> None:
    """``bench_ship``: the shipment of every shipped order, with its tracking number,
    link, estimate, the planned tracking events and the delivery problem if any."""
    carriers = {}
    for service in ctx.services:
        carriers.setdefault(service.carrier_id, service)
    serial = " ".join(f"WHEN {cid} THEN {_serial_sql(s, 'p.id')}" for cid, s in carriers.items())
    number = " ".join(
        f"WHEN {cid} THEN {literal(s.tracking_prefix)} || x.serial || "
        f"{check_digit_sql(s, 'x.serial')} || {literal(s.tracking_suffix)}"
        for cid, s in carriers.items()
    )
    name = " ".join(f"WHEN {cid} THEN {literal(s.carrier_name)}" for cid, s in carriers.items())
    url = " ".join(f"WHEN {cid} THEN {literal(s.tracking_url)}" for cid, s in carriers.items())
    ids = "ARRAY[" + ", ".join(str(s.id) for s in ctx.services) + "]"
    carrier_ids = "ARRAY[" + ", ".join(str(s.carrier_id) for s in ctx.services) + "]"
    problems = [literal(kind) for kind, _status in PROBLEMS]
    after = " ".join(f"WHEN {literal(k)} THEN {literal(s)}" for k, s in PROBLEMS)
    # In transit within two hours of the hand-over; out for delivery before the
    # delivery, never before the parcel left the hub.
    transit = f"(p.m_ship + interval '30 minutes' + {rnd(100)} * interval '90 minutes')"
    delivery = (
        "(p.t_deliv_plain + CASE WHEN p.delivery_problem THEN interval '1 day' "
        "ELSE interval '0' END)"
    )
    out = (
        f"greatest({delivery} - interval '30 minutes' - {rnd(102)} * interval '90 minutes', "
        f"{transit} + interval '10 minutes')"
    )
    run(
        "shipments: working table",
        f"""
        CREATE TEMP TABLE bench_ship ON COMMIT DROP AS
        SELECT y.*,
            CASE WHEN y.delivered_at IS NOT NULL THEN 'delivered'
                 WHEN y.exc_at IS NOT NULL AND coalesce(y.exc_done_at, 'infinity') > %(now)s
                      THEN CASE y.exc_type {after} END
                 WHEN y.out_at IS NOT NULL THEN 'out_for_delivery'
                 WHEN y.transit_at IS NOT NULL THEN 'in_transit'
                 ELSE 'shipped' END AS status
        FROM (
            SELECT p.id AS order_id, {ctx.base("logistics_shipment")} + p.id AS id,
                c.service_id, c.carrier_id,
                CASE c.carrier_id {name} END AS carrier_name,
                t.tracking_number,
                replace(CASE c.carrier_id {url} END, '{{tracking}}', t.tracking_number) AS link,
                p.m_ship AS shipped_at,
                (p.m_ship AT TIME ZONE %(tz)s)::date + p.transit_days AS estimate,
                p.m_deliv AS delivered_at,
                CASE WHEN {transit} <= %(now)s THEN {transit} END AS transit_at,
                p.m_exc AS exc_at,
                CASE WHEN p.m_exc IS NOT NULL AND p.t_exc_done <= %(now)s THEN p.t_exc_done END
                    AS exc_done_at,
                {pick(101, problems)} AS exc_type,
                CASE WHEN p.stop >= 5 AND {out} <= %(now)s THEN {out} END AS out_at,
                cu.city,
                {pick(103, [literal(h) for h in HUBS])} AS hub,
                p.delivery_problem
            FROM bench_plan p
            JOIN bench_customer cu ON cu.no = p.customer_no
            CROSS JOIN LATERAL (SELECT ({ids})[p.service_idx] AS service_id,
                                       ({carrier_ids})[p.service_idx] AS carrier_id) c
            CROSS JOIN LATERAL (SELECT CASE c.carrier_id {serial} END AS serial) x
            CROSS JOIN LATERAL (SELECT CASE c.carrier_id {number} END AS tracking_number) t
            WHERE p.m_ship IS NOT NULL
        ) y
        """,
        ctx.params(),
    )
    run("shipments: analyze", "ANALYZE bench_ship")


def insert_shipments(run, ctx: Context) -> None:
    """Shipments, their packages and lines (everything ships at once), tracking events
    (in transit, a problem for some, out for delivery, delivered: whichever happened by
    now), the exceptions those problems opened, and their timeline events and emails."""
    params = ctx.params()
    # The carrier's price, as logistics.services.carrier_options computes it: the
    # service's base price plus its price per kg times the weight of the packages,
    # quantized to the fen half to even (Decimal.quantize's rounding).
    raw = "(cs.base_price + cs.price_per_kg * coalesce(w.weight, 0))"
    run(
        "logistics_shipment",
        f"""
        INSERT INTO logistics_shipment (id, order_id, service_id, carrier_id,
            proposed_service_id, override_reason, tracking_number, status, shipped_at,
            shipped_by_id, estimated_delivery, delivered_at, freight_cost)
        SELECT sh.id, sh.order_id, sh.service_id, sh.carrier_id, sh.service_id, '',
               sh.tracking_number, sh.status, sh.shipped_at, %(logistics)s, sh.estimate,
               sh.delivered_at,
               CASE WHEN {raw} * 100 - trunc({raw} * 100) = 0.5
                         AND mod(trunc({raw} * 100), 2) = 0
                    THEN trunc({raw} * 100) / 100 ELSE round({raw}, 2) END
        FROM bench_ship sh
        JOIN logistics_carrierservice cs ON cs.id = sh.service_id
        LEFT JOIN (SELECT order_id, sum(weight_kg) AS weight FROM warehouse_package
                   GROUP BY order_id) w ON w.order_id = sh.order_id
        """,
        params,
    )
    run(
        "logistics_shipment_packages",
        f"""
        INSERT INTO logistics_shipment_packages (id, shipment_id, package_id)
        SELECT {ctx.base("logistics_shipment_packages")} + pk.id
                   - {ctx.base("warehouse_package")},
               sh.id, pk.id
        FROM bench_ship sh
        JOIN warehouse_package pk ON pk.order_id = sh.order_id
        """,
    )
    run(
        "logistics_shipmentline",
        f"""
        INSERT INTO logistics_shipmentline (id, shipment_id, line_id, quantity)
        SELECT {ctx.base("logistics_shipmentline")} + l.id - {ctx.base("orders_orderline")},
               sh.id, l.id, l.quantity
        FROM bench_ship sh JOIN bench_line l ON l.order_id = sh.order_id
        """,
    )
    run(
        "logistics_trackingevent",
        f"""
        INSERT INTO logistics_trackingevent (id, shipment_id, type, happened_at, location,
            description, carrier_event_id, received_at, entered_by_id)
        SELECT {ctx.base("logistics_trackingevent")} + sh.id * {TRACKING_SLOTS} + e.slot, sh.id,
               e.type, e.at, e.location, e.description,
               'bench-' || sh.id || '-' || e.slot, e.at + interval '40 seconds',
               NULL::integer
        FROM bench_ship sh
        CROSS JOIN LATERAL (VALUES
            (0, sh.transit_at, 'in_transit', sh.hub, ''),
            (1, sh.exc_at, sh.exc_type, sh.hub, '天气或地址原因，派送受阻。'),
            (2, sh.out_at, 'out_for_delivery', sh.city, ''),
            (3, sh.delivered_at, 'delivered', sh.city, '')
        ) e(slot, at, type, location, description)
        WHERE e.at IS NOT NULL
        """,
        params,
    )
    event = f"{ctx.base('logistics_trackingevent')} + sh.id * {TRACKING_SLOTS} + 1"
    run(
        "logistics_deliveryexception",
        f"""
        INSERT INTO logistics_deliveryexception (id, shipment_id, order_id, event_id, type,
            owner_id, opened_at, due_at, resolution, resolution_note, resolved_at,
            resolved_by_id)
        SELECT {ctx.base("logistics_deliveryexception")} + sh.id, sh.id, sh.order_id, {event},
               sh.exc_type, %(logistics)s, sh.exc_at + interval '41 seconds',
               sh.exc_at + interval '41 seconds' + interval '4 hours',
               CASE WHEN sh.exc_done_at IS NULL THEN ''
                    WHEN sh.exc_type = 'delayed' THEN 'none' ELSE 'redeliver' END,
               CASE WHEN sh.exc_done_at IS NULL THEN '' ELSE '已联系承运商安排再次派送。' END,
               sh.exc_done_at,
               CASE WHEN sh.exc_done_at IS NOT NULL THEN %(logistics)s END
        FROM bench_ship sh WHERE sh.exc_at IS NOT NULL
        """,
        params,
    )
    exception = f"{ctx.base('logistics_deliveryexception')} + sh.id"
    run(
        "orders_orderevent (logistics)",
        f"""
        INSERT INTO orders_orderevent (id, order_id, created_at, actor_id, kind, from_status,
                                       to_status, note, code, data, public)
        SELECT {ctx.base("orders_orderevent")} + sh.order_id * {EVENT_SLOTS} + e.slot,
               sh.order_id, e.at, e.actor, 'system', '', '', e.note, e.code, e.data, e.public
        FROM bench_ship sh
        CROSS JOIN LATERAL (VALUES
            (20, sh.shipped_at - interval '1 second', %(logistics)s, 'shipment',
             jsonb_build_object('carrier', sh.carrier_name, 'tracking', sh.tracking_number,
                                'link', sh.link, 'estimate', sh.estimate::text), true, ''),
            (21, sh.exc_at + interval '41 seconds', NULL, 'exception_opened',
             jsonb_build_object('type', sh.exc_type, 'location', sh.hub,
                                'exception', {exception}), false, ''),
            (22, sh.exc_done_at, %(logistics)s, 'exception_resolved',
             jsonb_build_object('resolution', CASE WHEN sh.exc_type = 'delayed' THEN 'none'
                                                   ELSE 'redeliver' END,
                                'exception', {exception}), true,
             '已联系承运商安排再次派送。')
        ) e(slot, at, actor, code, data, public, note)
        WHERE e.at IS NOT NULL
        """,
        params,
    )
    run(
        "orders_notification (logistics)",
        notification_sql(
            ctx,
            f"""
            (6, sh.shipped_at, 'order_shipped', sh.id::text,
             jsonb_build_object('carrier', sh.carrier_name, 'tracking', sh.tracking_number,
                                'link', sh.link, 'estimate', sh.estimate::text)),
            (7, sh.exc_at + interval '41 seconds', 'delivery_problem', ({exception})::text,
             jsonb_build_object('problem', sh.exc_type, 'next', sh.exc_type,
                                'carrier', sh.carrier_name, 'tracking', sh.tracking_number,
                                'link', sh.link))
            """,
            joins="JOIN bench_ship sh ON sh.order_id = p.id",
        ),
        params,
    )
