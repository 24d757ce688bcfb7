"""Feedback's rows: receipts (by the customer, by phone, or automatically after the
receipt step's time), reminders before that, and problem cases (about 1 % of delivered
orders; Sales resolves them, then records receipt by phone)."""

# The SQL is built from integers, SQL literals (quoted by sql.literal) and table
# names from the models; values from outside go in as parameters.
# ruff: noqa: S608

from .context import Context
from .orders import notification_sql
from .sql import EVENT_SLOTS, literal, pick

KINDS = ["missing", "damaged", "wrong_item"]
DETAILS = {
    "missing": "少了一件商品，请核实。",
    "damaged": "外包装破损，商品有凹痕。",
    "wrong_item": "收到的商品型号不对。",
}


def plan_feedback(run, ctx: Context) -> None:
    """``bench_feedback``: per delivered order, its receipt, reminder and problem case."""
    limit = ctx.targets.get("receipt")
    hours = int(limit.total_seconds() // 3600) if limit else 72
    remind = max(1, hours * 3 // 4)  # the step's default "due soon" share (75 %)
    run(
        "feedback: working table",
        f"""
        CREATE TEMP TABLE bench_feedback ON COMMIT DROP AS
        SELECT p.id AS order_id, p.customer_no, p.receipt_how, p.m_receipt,
            CASE WHEN NOT p.problem_case
                      AND coalesce(p.m_receipt, 'infinity')
                          > p.m_deliv + interval '{remind} hours' + interval '5 minutes'
                      AND p.m_deliv + interval '{remind} hours' + interval '5 minutes' <= %(now)s
                 THEN p.m_deliv + interval '{remind} hours' + interval '5 minutes' END
                AS reminder_at,
            CASE WHEN p.t_case <= %(now)s THEN p.t_case END AS case_at,
            CASE WHEN p.t_case <= %(now)s AND p.t_case_done <= %(now)s THEN p.t_case_done END
                AS case_done_at,
            {pick(110, [literal(k) for k in KINDS])} AS kind,
            o.salesperson_id
        FROM bench_plan p JOIN bench_order o ON o.id = p.id
        WHERE p.m_deliv IS NOT NULL
        """,
        ctx.params(),
    )


def insert_feedback(run, ctx: Context) -> None:
    """Receipts, problem cases, and their timeline events and emails."""
    limit = ctx.targets.get("receipt")
    days = round(limit.total_seconds() / 86400) if limit else 3
    auto_code = "receipt_auto_confirmed_one_day" if days == 1 else "receipt_auto_confirmed"
    params = ctx.params()
    run(
        "feedback_receipt",
        f"""
        INSERT INTO feedback_receipt (id, order_id, confirmed_at, how, by_id, note)
        SELECT {ctx.base("feedback_receipt")} + order_id, order_id, m_receipt, receipt_how,
               CASE WHEN receipt_how = 'phone' THEN %(sales)s END,
               CASE WHEN receipt_how = 'phone' THEN '客户电话确认已收到全部商品。' ELSE '' END
        FROM bench_feedback WHERE m_receipt IS NOT NULL
        """,
        params,
    )
    details = " ".join(f"WHEN {literal(k)} THEN {literal(v)}" for k, v in DETAILS.items())
    case = f"{ctx.base('feedback_problemcase')} + f.order_id"
    run(
        "feedback_problemcase",
        f"""
        INSERT INTO feedback_problemcase (id, order_id, kind, details, status, opened_at,
            owner_id, due_at, resolved_at, resolved_by_id, resolution, submission_key)
        SELECT {case}, f.order_id, f.kind, CASE f.kind {details} END,
               CASE WHEN f.case_done_at IS NULL THEN 'open' ELSE 'resolved' END,
               f.case_at, f.salesperson_id, f.case_at + interval '1 day', f.case_done_at,
               CASE WHEN f.case_done_at IS NOT NULL THEN %(sales)s END,
               CASE WHEN f.case_done_at IS NOT NULL THEN '已补发商品，客户满意。' ELSE '' END,
               md5('bench-case-' || f.order_id)
        FROM bench_feedback f WHERE f.case_at IS NOT NULL
        """,
        params,
    )
    run(
        "orders_orderevent (feedback)",
        f"""
        INSERT INTO orders_orderevent (id, order_id, created_at, actor_id, kind, from_status,
                                       to_status, note, code, data, public)
        SELECT {ctx.base("orders_orderevent")} + f.order_id * {EVENT_SLOTS} + e.slot,
               f.order_id, e.at, e.actor, 'system', '', '', e.note, e.code, e.data, e.public
        FROM bench_feedback f
        CROSS JOIN LATERAL (VALUES
            (23, f.m_receipt, CASE WHEN f.receipt_how = 'phone' THEN %(sales)s END,
             CASE f.receipt_how WHEN 'customer' THEN 'receipt_confirmed'
                  WHEN 'phone' THEN 'receipt_confirmed_by_phone' ELSE '{auto_code}' END,
             CASE WHEN f.receipt_how = 'automatic'
                  THEN jsonb_build_object('days', '{days}') ELSE '{{}}'::jsonb END, true,
             CASE WHEN f.receipt_how = 'phone' THEN '客户电话确认已收到全部商品。'
                  ELSE '' END),
            (24, f.reminder_at, NULL, 'receipt_reminder', '{{}}'::jsonb, false, ''),
            (25, f.case_at, NULL, 'problem_reported_' || f.kind,
             jsonb_build_object('case', {case}, 'photos', 0), false, ''),
            (26, f.case_done_at, %(sales)s, 'problem_resolved',
             jsonb_build_object('case', {case}), true, '已补发商品，客户满意。')
        ) e(slot, at, actor, code, data, public, note)
        WHERE e.at IS NOT NULL
        """,
        params,
    )
    run(
        "orders_notification (feedback)",
        notification_sql(
            ctx,
            f"""
            (8, f.reminder_at, 'receipt_reminder', '',
             jsonb_build_object('days', '{days}', 'by',
                 ((f.reminder_at AT TIME ZONE %(tz)s)::date + 1)::text)),
            (9, f.case_at, 'problem_received', ({case})::text,
             jsonb_build_object('kind', f.kind)),
            (10, f.case_done_at, 'problem_resolved', ({case})::text, '{{}}'::jsonb)
            """,
            joins="JOIN bench_feedback f ON f.order_id = p.id",
        ),
        params,
    )
