"""The life plan of every order (``bench_plan``), decided once: when it was placed and
what happened to it since, up to now. Every department's builder reads the plan, so
their rows agree with the order's status."""

# The SQL is built from integers, SQL literals (quoted by sql.literal) and table
# names from the models; values from outside go in as parameters.
# ruff: noqa: S608

from .context import Context, interval
from .sql import expo, literal, pick, rnd

INSTRUCTIONS = ["请放门卫室。", "工作日白天送货。", "送货前请电话联系。", "请勿放快递柜。"]


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
            -- A delivered order's closing step counts from its receipt (the closing
            -- request opens then: finance.services.open_closing_request).
            coalesce(q.m_cancel, q.m_close, q.m_receipt, q.m_deliv, q.m_ship, q.m_pick, q.m_rel,
                     q.m_bo, q.m_conf, q.placed_at) AS step_started_at
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
                 THEN rc.t_receipt + interval '1 hour' + {close_wait} END AS m_close,
            -- When Finance would approve (finance.py spreads the closing request's
            -- hand-offs between receipt and this time, also for orders not closed yet).
            rc.t_receipt + interval '1 hour' + {close_wait} AS t_close
            ) cl
        CROSS JOIN LATERAL (SELECT q0.*, s.*, e.m_exc, dv.m_deliv, pc.t_case, rc.t_case_done,
                                   cl.m_receipt, cl.m_close, cl.t_close) q
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
