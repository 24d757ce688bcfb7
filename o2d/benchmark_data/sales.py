"""Sales' rows beyond the order itself: delivery promises, follow-ups and customers'
delivery change requests, read from the plan (``plan.build_plan``)."""

# The SQL is built from integers, SQL literals (quoted by sql.literal) and table
# names from the models; values from outside go in as parameters.
# ruff: noqa: S608

from .context import Context, interval
from .orders import notification_sql
from .sql import EVENT_SLOTS, expo, pick, rnd


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
