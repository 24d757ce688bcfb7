"""Finance's rows, as finance.services writes them while each order lives: the goods
charged at confirmation and taken back at a cancellation, each shipment's freight
under the admin's freight terms, the customers' payments, refunds of cancelled orders
that had been paid, the accounts the database keeps from the ledger, invoices, the
closing request from the receipt to its approval (with the escalations of those left
waiting), their timeline events and the thank-you email of every closed order."""

# The SQL is built from integers, SQL literals (quoted by sql.literal) and table
# names from the models; values from outside go in as parameters.
# ruff: noqa: S608

from django.apps import apps
from django.core.management.base import CommandError

from .context import Context, interval
from .orders import notification_sql
from .sql import EVENT_SLOTS, LEDGER_SLOTS, expo, literal, pick, rnd

# The ledger's slots per order (sql.LEDGER_SLOTS): id = base + order id * slots + slot.
GOODS, CANCELLED, FREIGHT, PAYMENT, FREIGHT_PAYMENT, REFUND = range(6)
# The timeline's slots (sql.EVENT_SLOTS): a ledger entry's event is LEDGER_EVENT + its
# slot (the freight slot also holds "freight included" or "freight free"); then the
# invoice, the closing request's steps, and one escalation per hand it was in.
LEDGER_EVENT = 27
INVOICE_EVENT = 33
OPENED, SUBMITTED, ACKNOWLEDGED, SENT_BACK, SUBMITTED_AGAIN, ACKNOWLEDGED_AGAIN = range(34, 40)
ESCALATED = 40  # 40-45: (hand) open, submitted, in review, sent back, submitted, in review
CLOSED_EMAIL = 11  # the thank-you email's slot (sql.NOTIFICATION_SLOTS)
# The closing request's hand-offs after it opens: submitted, acknowledged, sent back,
# submitted again, acknowledged again (then approved).
HAND_OFFS = ("s1", "a1", "sb", "s2", "a2")

# How customers pay, by the way they ordered: (code, share) among the active methods.
PREPAID_ONLINE = [("alipay", 50), ("wechat_pay", 35), ("card", 15)]
PREPAID_OTHER = [("bank_transfer", 50), ("alipay", 30), ("wechat_pay", 20)]
AFTER_SHIPPING = [("bank_transfer", 80), ("alipay", 10), ("wechat_pay", 10)]
INVOICE_TYPES = [("electronic", 70), ("vat_general", 20), ("vat_special", 10)]
SALES_NOTE = "客户已付款，发票已开具。"
SALES_NOTE_AGAIN = "已补充付款凭证。"
SEND_BACK = ["缺少付款凭证，请补充。", "发票抬头与客户信息不符，请核实。", "运费金额需与客户确认。"]
SEND_BACK_UNPAID = "客户尚未付清货款和运费，请跟进收款。"
REFUND_REASON = "订单已取消，退还货款。"


def _weighted(salt: int, choices: list[tuple[str, int]], active: dict[str, int], row: str) -> str:
    """One code of ``choices`` (code, share), among the active ones only (the first
    active code when none of them is)."""
    kept = [(code, share) for code, share in choices if code in active]
    if not kept:
        return literal(next(iter(active)))
    total, bound, whens = sum(share for _code, share in kept), 0, []
    for code, share in kept[:-1]:
        bound += share
        whens.append(f"WHEN {rnd(salt, row)} < {bound / total:.6f} THEN {literal(code)}")
    return (
        f"CASE {' '.join(whens)} ELSE {literal(kept[-1][0])} END" if whens else literal(kept[-1][0])
    )


# Large factors prime to 10: multiplying by one is a bijection modulo any power of ten.
SCRAMBLE = [982451653004719, 715827883]


def _digits(number: str, digits: int, factor: int = SCRAMBLE[0]) -> str:
    """``digits`` digits that look random, different for every ``number`` below
    10^digits: the number times a factor prime to 10, modulo 10^digits (in numeric)."""
    return f"lpad(mod(({number})::numeric * {factor}, {10**digits})::text, {digits}, '0')"


def _reference(slot: int, at: str) -> str:
    """The reference a payment in slot ``slot`` at ``at`` carries, in its method's
    style (``f.method``): a trade or transfer number, a card terminal's, the parcel."""
    n = f"(f.id * {LEDGER_SLOTS} + {slot})"
    day = f"to_char({at} AT TIME ZONE %(tz)s, 'YYYYMMDD')"
    styles = {
        "alipay": f"{day} || '2200' || {_digits(n, 16)}",
        "wechat_pay": f"'4200' || {_digits(n, 12, SCRAMBLE[1])} || {day}",
        "bank_transfer": f"'TRF' || {day} || {_digits(n, 6, SCRAMBLE[1])}",
        "card": f"'POS ' || {_digits(n, 12)}",
        "cash_on_delivery": "'COD ' || coalesce(f.tracking_number, '')",
    }
    whens = " ".join(f"WHEN {literal(code)} THEN {sql}" for code, sql in styles.items())
    return f"coalesce(CASE f.method {whens} END, '')"


def _ids(code: str, active: dict[str, int]) -> str:
    """The id of the row whose code is ``code`` (an SQL text expression)."""
    whens = " ".join(f"WHEN {literal(c)} THEN {pk}" for c, pk in active.items())
    return f"CASE {code} {whens} END"


def _iso(at: str) -> str:
    """``at`` as Python's ``datetime.isoformat()`` writes an aware UTC time (the
    connection's time zone), as the app's timeline data holds it."""
    return (
        f"(to_char({at} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS')"
        f" || CASE WHEN mod(date_part('microseconds', {at})::bigint, 1000000) <> 0"
        f" THEN to_char({at} AT TIME ZONE 'UTC', '.US') ELSE '' END || '+00:00')"
    )


def _active(model_name: str, what: str) -> dict[str, int]:
    model = apps.get_model("finance", model_name)
    rows = dict(
        model.objects.filter(active=True).order_by("position", "pk").values_list("code", "pk")
    )
    if not rows:
        raise CommandError(f"No active {what}: add one in the admin first.")
    return rows


def _by_now(plan: str, before_close: str) -> str:
    """When a planned payment or invoice happened: before the approval of a closed order
    (``before_close`` before it; closing needs them), else if its time has come."""
    return (
        f"CASE WHEN {plan} IS NULL THEN NULL"
        f" WHEN f.approved_at IS NOT NULL"
        f" THEN least({plan}, f.approved_at - interval '{before_close}')"
        f" WHEN {plan} <= %(now)s THEN {plan} END"
    )


def plan_finance(run, ctx: Context) -> None:
    """``bench_fin``: per order confirmed at some time, its money (freight, how and when
    the customer pays, refund, invoice) and its closing request's hand-offs, each time
    NULL until it happened.

    Payments: about 60 % of online orders and 25 % of the others pay the goods at
    confirmation (and the freight after shipping), 12 % / 15 % pay cash on delivery,
    the rest by transfer after shipping (6 % of all pay late). A cancelled order was
    paid only if it paid at confirmation before the cancellation; 90 % of those are
    refunded about a day later, the others are still owed their refund. Orders stuck
    before their close (the plan's ``stop``) pay nothing after confirmation. A closed
    order has paid everything and was invoiced before the approval, as its checklist
    demands; 30 % of shipped orders are invoiced right after shipping, the others
    while Finance reviews their closing request.

    The closing request opens at receipt; Sales submits it, Finance acknowledges it and
    approves it at the plan's close; 8 % are sent back once (half of them from review)
    and submitted again. Delivered orders stuck before their close were sent back (the
    customer has not paid) and wait with Sales."""
    methods = _active("PaymentMethod", "payment method")
    types = _active("InvoiceType", "invoice type")
    terms = apps.get_model("finance", "FreightTerms").current()
    cod_online = 0.72 if "cash_on_delivery" in methods else 0.6
    cod_other = 0.40 if "cash_on_delivery" in methods else 0.25
    target = interval(ctx.targets.get("closing"))
    prepaid = (
        f"CASE WHEN p.channel = 'online' THEN {_weighted(138, PREPAID_ONLINE, methods, 'p.id')}"
        f" ELSE {_weighted(138, PREPAID_OTHER, methods, 'p.id')} END"
    )
    method = (
        f"CASE f.mode WHEN 'cod' THEN 'cash_on_delivery' WHEN 'prepay' THEN {prepaid}"
        f" ELSE {_weighted(139, AFTER_SHIPPING, methods, 'p.id')} END"
    )
    run(
        "finance: orders' money",
        """
        CREATE TEMP TABLE bench_fin_order ON COMMIT DROP AS
        SELECT p.id, p.channel, p.stop, p.m_conf,
            CASE WHEN p.cancel_from IN ('confirmed', 'backordered') THEN p.m_cancel END
                AS cancel_at,
            p.m_ship, p.m_deliv, p.m_receipt AS receipt_at, p.m_close, p.t_close,
            t.total, o.salesperson_id,
            sh.id AS shipment_id, sh.carrier_name, sh.tracking_number, ls.freight_cost
        FROM bench_plan p
        JOIN bench_order o ON o.id = p.id
        JOIN (SELECT order_id, sum(quantity * unit_price)::numeric(14, 2) AS total
              FROM bench_line GROUP BY order_id) t ON t.order_id = p.id
        LEFT JOIN bench_ship sh ON sh.order_id = p.id
        LEFT JOIN logistics_shipment ls ON ls.id = sh.id
        WHERE p.m_conf IS NOT NULL
        """,
    )
    run("finance: analyze", "ANALYZE bench_fin_order")
    prepay_at = f"p.m_conf + interval '3 minutes' + {expo(130, '45 minutes')}"
    hand_offs = ", ".join(f"CASE WHEN c.{s} <= %(now)s THEN c.{s} END AS {s}" for s in HAND_OFFS)
    # The hands the request was in (start, end): the sweep, every ten minutes, escalates
    # each once when the request waited there past the closing step's target.
    hands = [
        ("h.receipt_at", "h.s1"),
        ("h.s1", "coalesce(h.a1, h.sb)"),
        ("h.a1", "coalesce(h.sb, h.approved_at)"),
        ("h.sb", "h.s2"),
        ("h.s2", "h.a2"),
        ("h.a2", "h.approved_at"),
    ]
    due = [
        f"{start} + {target} + {rnd(140 + k, 'h.id')} * interval '10 minutes'"
        for k, (start, _end) in enumerate(hands)
    ]
    escalations = ", ".join(
        f"CASE WHEN {due[k]} <= %(now)s AND {due[k]} < coalesce({end}, 'infinity')"
        f" THEN {due[k]} END AS e{k}"
        for k, (_start, end) in enumerate(hands)
    )
    # OFFSET 0 keeps each LATERAL a subquery of its own: flattened, every use of one of
    # its columns would compute its expression again (three times faster this way).
    run(
        "finance: working table",
        f"""
        CREATE TEMP TABLE bench_fin ON COMMIT DROP AS
        SELECT h.*, st.closing_status,
            CASE WHEN h.invoice_type = 'electronic'
                 THEN to_char(h.invoiced_at AT TIME ZONE %(tz)s, 'YY')
                      || {_digits("h.id", 18)}
                 ELSE {_digits("h.id", 8)} END AS invoice_number,
            greatest(h.receipt_at, h.s1, h.a1, h.sb, h.s2, h.a2, h.approved_at)
                AS waiting_since,
            CASE st.closing_status
                WHEN 'open' THEN esc.e0 WHEN 'sent_back' THEN esc.e3
                WHEN 'submitted' THEN CASE WHEN h.s2 IS NULL THEN esc.e1 ELSE esc.e4 END
                WHEN 'in_review' THEN CASE WHEN h.s2 IS NULL THEN esc.e2 ELSE esc.e5 END
            END AS escalated_at,
            esc.*
        FROM (
            SELECT p.*, f.freight_code, f.freight, f.mode, f.approved_at, {hand_offs},
                {_by_now("pl.p1_plan", "10 minutes")} AS paid_at,
                {_by_now("pl.p2_plan", "10 minutes")} AS paid2_at,
                {_by_now("pl.inv_plan", "5 minutes")} AS invoiced_at,
                {_by_now("pl.refund_plan", "0 minutes")} AS refunded_at,
                CASE WHEN f.mode = 'prepay' THEN p.total ELSE p.total + f.freight END
                    AS amount1,
                {method} AS method,
                {_weighted(144, INVOICE_TYPES, types, "p.id")} AS invoice_type,
                CASE WHEN {rnd(137)} < 0.4 THEN {literal(SALES_NOTE)} ELSE '' END AS note,
                CASE WHEN p.stop < 6 THEN {literal(SEND_BACK_UNPAID)}
                     ELSE {pick(145, [literal(r) for r in SEND_BACK])} END AS send_back_reason
            FROM bench_fin_order p
            CROSS JOIN LATERAL (SELECT
                CASE WHEN p.shipment_id IS NULL OR coalesce(p.freight_cost, 0) <= 0 THEN NULL
                     WHEN NOT %(charge_freight)s THEN 'freight_included'
                     WHEN %(free_from)s::numeric IS NOT NULL
                          AND p.total >= %(free_from)s::numeric THEN 'freight_free'
                     ELSE 'ledger_charge' END AS freight_code OFFSET 0) f0
            CROSS JOIN LATERAL (SELECT f0.freight_code,
                CASE WHEN f0.freight_code = 'ledger_charge' THEN p.freight_cost ELSE 0 END
                    AS freight,
                CASE WHEN {rnd(120)} < CASE WHEN p.channel = 'online' THEN 0.6 ELSE 0.25 END
                     THEN 'prepay'
                     WHEN {rnd(120)} < CASE WHEN p.channel = 'online' THEN {cod_online}
                                            ELSE {cod_other} END THEN 'cod'
                     ELSE 'after_shipping' END AS mode,
                {rnd(121)} < 0.06 AS late,
                p.stop < 9 AS stuck,
                p.receipt_at IS NOT NULL AND (p.stop < 6 OR {rnd(122)} < 0.08) AS sent_back,
                CASE WHEN p.m_close IS NOT NULL THEN p.m_close - interval '1 second' END
                    AS approved_at OFFSET 0) f
            CROSS JOIN LATERAL (SELECT p.t_close - p.receipt_at AS d,
                p.receipt_at + (p.t_close - p.receipt_at)
                    * CASE WHEN f.sent_back THEN 0.1 + 0.15 * {rnd(124)}
                           ELSE 0.15 + 0.35 * {rnd(124)} END AS s1 OFFSET 0) c1
            CROSS JOIN LATERAL (SELECT c1.s1,
                CASE WHEN NOT f.sent_back
                         THEN c1.s1 + (p.t_close - c1.s1) * (0.1 + 0.4 * {rnd(125)})
                     WHEN {rnd(123)} < 0.5
                         THEN c1.s1 + (p.t_close - c1.s1) * (0.1 + 0.15 * {rnd(125)}) END AS a1,
                CASE WHEN f.sent_back THEN p.receipt_at + c1.d * (0.45 + 0.05 * {rnd(126)})
                     END AS sb,
                CASE WHEN f.sent_back AND p.stop >= 6
                     THEN p.receipt_at + c1.d * (0.6 + 0.1 * {rnd(127)}) END AS s2,
                CASE WHEN f.sent_back AND p.stop >= 6
                     THEN p.receipt_at + c1.d * (0.75 + 0.15 * {rnd(128)}) END AS a2 OFFSET 0) c
            CROSS JOIN LATERAL (SELECT
                CASE WHEN f.mode = 'prepay'
                         THEN CASE WHEN coalesce(p.cancel_at, 'infinity') > {prepay_at}
                                   THEN {prepay_at} END
                     WHEN p.cancel_at IS NOT NULL OR f.stuck THEN NULL
                     WHEN f.mode = 'after_shipping'
                         THEN p.m_ship + interval '2 hours'
                              + CASE WHEN f.late THEN {expo(131, "15 days")}
                                     ELSE {expo(131, "3 days")} END
                     ELSE p.m_deliv + interval '2 minutes' END AS p1_plan,
                CASE WHEN f.mode = 'prepay' AND f.freight > 0 AND NOT f.stuck
                     THEN p.m_ship + interval '1 hour'
                          + CASE WHEN f.late THEN {expo(132, "12 days")}
                                 ELSE {expo(132, "2 days")} END END AS p2_plan,
                CASE WHEN p.cancel_at IS NOT NULL OR p.m_ship IS NULL THEN NULL
                     WHEN {rnd(135)} < 0.3
                         THEN p.m_ship + interval '1 hour' + {expo(136, "4 hours")}
                     ELSE coalesce(c.a2, c.a1)
                          + (p.t_close - coalesce(c.a2, c.a1)) * (0.2 + 0.6 * {rnd(136)})
                     END AS inv_plan,
                CASE WHEN f.mode = 'prepay' AND p.cancel_at > {prepay_at} AND {rnd(133)} >= 0.1
                     THEN p.cancel_at + interval '30 minutes' + {expo(134, "1 day")}
                     END AS refund_plan OFFSET 0) pl
            OFFSET 0
        ) h
        CROSS JOIN LATERAL (SELECT CASE WHEN h.receipt_at IS NULL THEN NULL
            WHEN h.approved_at IS NOT NULL THEN 'approved'
            WHEN h.a2 IS NOT NULL THEN 'in_review' WHEN h.s2 IS NOT NULL THEN 'submitted'
            WHEN h.sb IS NOT NULL THEN 'sent_back' WHEN h.a1 IS NOT NULL THEN 'in_review'
            WHEN h.s1 IS NOT NULL THEN 'submitted' ELSE 'open' END AS closing_status) st
        CROSS JOIN LATERAL (SELECT {escalations}) esc
        """,
        {**ctx.params(), "charge_freight": terms.charge_customer, "free_from": terms.free_from},
    )
    run("finance: analyze", "ANALYZE bench_fin")


def insert_finance(run, ctx: Context) -> None:
    """The ledger, the accounts summed from it (checked), invoices, closing requests,
    their timeline events and the thank-you emails."""
    methods = _active("PaymentMethod", "payment method")
    types = _active("InvoiceType", "invoice type")
    terms = apps.get_model("finance", "FreightTerms").current()
    params = {
        **ctx.params(),
        "free_from": None if terms.free_from is None else str(terms.free_from),
    }
    ledger = ctx.base("finance_ledgerentry")
    events = ctx.base("orders_orderevent")
    run(
        "finance_ledgerentry",
        f"""
        INSERT INTO finance_ledgerentry (id, order_id, kind, charge_kind, amount, currency,
            method_id, reference, happened_on, reason, refund_for, problem_case_id,
            reverses_id, recorded_by_id, recorded_at, submission_key)
        SELECT {ledger} + f.id * {LEDGER_SLOTS} + e.slot, f.id, e.kind, e.charge_kind,
               e.amount, 'CNY', e.method, e.reference, (e.at AT TIME ZONE %(tz)s)::date,
               e.reason, e.refund_for, NULL::bigint, NULL::bigint, e.actor, e.at, e.skey
        FROM bench_fin f
        CROSS JOIN LATERAL (VALUES
            ({GOODS}, f.m_conf, 'charge', 'goods', f.total, NULL::bigint, '',
             'Goods as confirmed', '', %(sales)s, 'goods:0'),
            ({CANCELLED}, f.cancel_at, 'charge', 'goods', -f.total, NULL::bigint, '',
             'Order cancelled', '', %(sales)s, 'goods:1'),
            ({FREIGHT}, CASE WHEN f.freight > 0 THEN f.m_ship END, 'charge', 'freight',
             f.freight, NULL::bigint, left(f.carrier_name || ' ' || f.tracking_number, 100),
             '', '', NULL::integer, 'freight:' || f.shipment_id),
            ({PAYMENT}, f.paid_at, 'payment', '', f.amount1, {_ids("f.method", methods)},
             {_reference(PAYMENT, "f.paid_at")}, '', '', %(finance)s,
             md5('bench-payment-' || f.id)),
            ({FREIGHT_PAYMENT}, f.paid2_at, 'payment', '', f.freight,
             {_ids("f.method", methods)},
             {_reference(FREIGHT_PAYMENT, "f.paid2_at")},
             '', '', %(finance)s, md5('bench-freight-payment-' || f.id)),
            ({REFUND}, f.refunded_at, 'refund', '', f.amount1, NULL::bigint,
             'RF' || to_char(f.refunded_at AT TIME ZONE %(tz)s, 'YYYYMMDD')
                  || {_digits("f.id", 6)},
             {literal(REFUND_REASON)}, 'cancellation', %(finance)s,
             md5('bench-refund-' || f.id))
        ) e(slot, at, kind, charge_kind, amount, method, reference, reason, refund_for, actor,
            skey)
        WHERE e.at IS NOT NULL
        """,
        params,
    )
    # What the customer owes after each entry, in the ledger's order (as
    # finance.services._recompute_account sums it after every entry).
    running = f"""
        SELECT le.*, CASE WHEN le.kind = 'payment' THEN -le.amount ELSE le.amount END
                         AS effect,
               sum(CASE WHEN le.kind = 'payment' THEN -le.amount ELSE le.amount END)
                   OVER (PARTITION BY le.order_id ORDER BY le.recorded_at, le.id) AS balance
        FROM finance_ledgerentry le WHERE le.id > {ledger}
    """
    run(
        "finance_account",
        f"""
        INSERT INTO finance_account (id, order_id, currency, charged, paid, refunded,
                                     balance, since)
        SELECT {ctx.base("finance_account")} + order_id, order_id, currency, charged, paid,
               refunded, charged - paid + refunded,
               CASE WHEN charged - paid + refunded <> 0 THEN since END
        FROM (
            SELECT order_id, min(currency) AS currency,
                coalesce(sum(amount) FILTER (WHERE kind = 'charge'), 0) AS charged,
                coalesce(sum(amount) FILTER (WHERE kind = 'payment'), 0) AS paid,
                coalesce(sum(amount) FILTER (WHERE kind = 'refund'), 0) AS refunded,
                -- When the balance last left zero.
                max(recorded_at) FILTER (WHERE balance <> 0 AND balance - effect = 0)
                    AS since
            FROM ({running}) l
            GROUP BY order_id
        ) a
        """,
    )
    codes = "CASE l.kind WHEN 'charge' THEN 'ledger_charge' WHEN 'payment' THEN 'ledger_payment'"
    codes += " ELSE 'ledger_refund' END"
    run(
        "orders_orderevent (ledger)",
        f"""
        INSERT INTO orders_orderevent (id, order_id, created_at, actor_id, kind, from_status,
                                       to_status, note, code, data, public)
        SELECT {events} + l.order_id * {EVENT_SLOTS} + {LEDGER_EVENT}
                   + (l.id - {ledger} - l.order_id * {LEDGER_SLOTS}),
               l.order_id, l.recorded_at, l.recorded_by_id, 'system', '', '', l.reason,
               {codes},
               jsonb_build_object('what', CASE WHEN l.charge_kind <> '' THEN l.charge_kind
                                               ELSE l.kind END,
                                  'amount', l.amount::text, 'currency', l.currency,
                                  'balance', l.balance::text, 'entry', l.id),
               false
        FROM ({running}) l
        """,
    )
    _insert_invoices(run, ctx, types)
    _insert_closing_requests(run, ctx)
    escalated = ", ".join(
        f"({ESCALATED + k}, f.e{k}, NULL::integer, 'closing_escalated',"
        f" jsonb_build_object('with', {literal(holder)}, 'since', {_iso(start)}), '')"
        for k, (start, holder) in enumerate(
            [
                ("f.receipt_at", "sales"),
                ("f.s1", "finance"),
                ("f.a1", "finance"),
                ("f.sb", "sales"),
                ("f.s2", "finance"),
                ("f.a2", "finance"),
            ]
        )
    )
    run(
        "orders_orderevent (finance)",
        f"""
        INSERT INTO orders_orderevent (id, order_id, created_at, actor_id, kind, from_status,
                                       to_status, note, code, data, public)
        SELECT {events} + f.id * {EVENT_SLOTS} + e.slot, f.id, e.at, e.actor, 'system', '',
               '', e.note, e.code, e.data, false
        FROM bench_fin f
        CROSS JOIN LATERAL (VALUES
            ({LEDGER_EVENT + FREIGHT},
             CASE WHEN f.freight_code IN ('freight_included', 'freight_free') THEN f.m_ship END,
             NULL::integer, f.freight_code,
             jsonb_build_object('carrier', f.carrier_name, 'tracking', f.tracking_number)
                 || CASE WHEN f.freight_code = 'freight_free'
                         THEN jsonb_build_object('free_from', %(free_from)s::text)
                         ELSE '{{}}'::jsonb END, ''),
            ({INVOICE_EVENT}, f.invoiced_at, %(finance)s, 'invoice_recorded',
             jsonb_build_object('number', f.invoice_number, 'type', f.invoice_type,
                                'amount', (f.total + f.freight)::text, 'currency', 'CNY'),
             ''),
            ({OPENED}, f.receipt_at, NULL::integer, 'closing_opened', '{{}}'::jsonb, ''),
            ({SUBMITTED}, f.s1, %(sales)s, 'closing_submitted', '{{}}'::jsonb, f.note),
            ({ACKNOWLEDGED}, f.a1, %(finance)s, 'closing_acknowledged', '{{}}'::jsonb, ''),
            ({SENT_BACK}, f.sb, %(finance)s, 'closing_sent_back', '{{}}'::jsonb,
             f.send_back_reason),
            ({SUBMITTED_AGAIN}, f.s2, %(sales)s, 'closing_submitted', '{{}}'::jsonb,
             {literal(SALES_NOTE_AGAIN)}),
            ({ACKNOWLEDGED_AGAIN}, f.a2, %(finance)s, 'closing_acknowledged', '{{}}'::jsonb,
             ''),
            {escalated}
        ) e(slot, at, actor, code, data, note)
        WHERE e.at IS NOT NULL
        """,
        params,
    )
    run(
        "orders_notification (finance)",
        notification_sql(
            ctx,
            f"({CLOSED_EMAIL}, f.approved_at, 'order_closed', '', '{{}}'::jsonb)",
            joins="JOIN bench_fin f ON f.id = p.id",
        ),
        params,
    )
    check_finance(run, ctx)


def _insert_invoices(run, ctx: Context, types: dict[str, int]) -> None:
    """One invoice for the amount charged (goods and freight), with its number (see
    ``plan_finance``) and the path its scan would have (no file is written)."""
    run(
        "finance_invoice",
        f"""
        INSERT INTO finance_invoice (id, order_id, type_id, number, amount, currency,
            issued_on, document, recorded_by_id, recorded_at, voided_at, voided_by_id,
            void_reason, submission_key)
        SELECT {ctx.base("finance_invoice")} + f.id, f.id, {_ids("f.invoice_type", types)},
               f.invoice_number,
               f.total + f.freight, 'CNY', (f.invoiced_at AT TIME ZONE %(tz)s)::date,
               'finance/invoices/' || f.id || '/' || md5('bench-invoice-' || f.id) || '.pdf',
               %(finance)s, f.invoiced_at, NULL::timestamptz, NULL::integer, '',
               md5('bench-invoice-' || f.id)
        FROM bench_fin f WHERE f.invoiced_at IS NOT NULL
        """,
        ctx.params(),
    )


def _insert_closing_requests(run, ctx: Context) -> None:
    """Every receipted order's closing request, where it stands now; a send-back clears
    the acknowledgement (ClosingRequest.send_back), a new submission its note."""
    run(
        "finance_closingrequest",
        f"""
        INSERT INTO finance_closingrequest (id, order_id, status, salesperson_id, opened_at,
            step_started_at, sales_note, submitted_at, submitted_by_id, acknowledged_at,
            acknowledged_by_id, sent_back_at, sent_back_reason, approved_at, approved_by_id,
            escalated_at)
        SELECT {ctx.base("finance_closingrequest")} + f.id, f.id, f.closing_status,
               f.salesperson_id, f.receipt_at, f.waiting_since,
               CASE WHEN f.s2 IS NOT NULL THEN {literal(SALES_NOTE_AGAIN)}
                    WHEN f.s1 IS NOT NULL THEN f.note ELSE '' END,
               coalesce(f.s2, f.s1), CASE WHEN f.s1 IS NOT NULL THEN %(sales)s END,
               a.at, CASE WHEN a.at IS NOT NULL THEN %(finance)s END,
               f.sb, CASE WHEN f.sb IS NOT NULL THEN f.send_back_reason ELSE '' END,
               f.approved_at, CASE WHEN f.approved_at IS NOT NULL THEN %(finance)s END,
               f.escalated_at
        FROM bench_fin f
        CROSS JOIN LATERAL (SELECT CASE WHEN f.sb IS NULL THEN f.a1 ELSE f.a2 END AS at) a
        WHERE f.receipt_at IS NOT NULL
        """,
        ctx.params(),
    )


def check_finance(run, ctx: Context) -> None:
    """Refuse the load (rolled back) unless every account holds exactly the sums of its
    entries (and is unsettled since a time exactly when its balance is not zero), every
    order with entries has one, and every closed order has its approved request, a zero
    balance and valid invoices for exactly what it was charged."""
    ledger, accounts = ctx.base("finance_ledgerentry"), ctx.base("finance_account")
    wrong = run.scalar(
        f"""
        SELECT count(*)
        FROM (
            SELECT order_id,
                coalesce(sum(amount) FILTER (WHERE kind = 'charge'), 0) AS charged,
                coalesce(sum(amount) FILTER (WHERE kind = 'payment'), 0) AS paid,
                coalesce(sum(amount) FILTER (WHERE kind = 'refund'), 0) AS refunded
            FROM finance_ledgerentry WHERE id > {ledger} GROUP BY order_id
        ) s
        FULL JOIN (SELECT * FROM finance_account WHERE id > {accounts}) a
            ON a.order_id = s.order_id
        WHERE s.order_id IS NULL OR a.order_id IS NULL
           OR a.charged <> s.charged OR a.paid <> s.paid OR a.refunded <> s.refunded
           OR a.balance <> s.charged - s.paid + s.refunded
           OR (a.since IS NULL) <> (a.balance = 0)
        """
    )
    if wrong:
        raise CommandError(f"finance: {wrong} accounts do not add up to their ledger entries.")
    unsettled = run.scalar(
        f"""
        SELECT count(*)
        FROM orders_order o
        LEFT JOIN finance_closingrequest r ON r.order_id = o.id
        LEFT JOIN finance_account a ON a.order_id = o.id
        LEFT JOIN (SELECT order_id, sum(amount) AS amount FROM finance_invoice
                   WHERE voided_at IS NULL GROUP BY order_id) i ON i.order_id = o.id
        WHERE o.id > {ctx.base("orders_order")} AND o.status = 'closed'
          AND (r.status IS DISTINCT FROM 'approved' OR r.approved_at > o.step_started_at
               OR a.balance IS DISTINCT FROM 0 OR i.amount IS DISTINCT FROM a.charged)
        """
    )
    if unsettled:
        raise CommandError(
            f"finance: {unsettled} closed orders lack an approved closing request, a zero "
            "balance or invoices for what they were charged."
        )
