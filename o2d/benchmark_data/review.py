"""The process review's rows: the step runs the app writes when an order leaves a
state (``orders.services.transitions.record_step_run``), derived here from the loaded
timeline's transitions, and the satisfaction surveys sent some days after receipt,
with their answers."""

# The SQL is built from integers, SQL literals (quoted by sql.literal) and table
# names from the models; values from outside go in as parameters.
# ruff: noqa: S608

from datetime import timedelta

from django.apps import apps
from django.core.management.base import CommandError

from .context import Context, interval
from .sql import literal, pick, rnd

# What the app files a step run under: the step whose clock ran in the state left
# (orders.models.process.STEP_FOR_STATUS).
STEP_FOR_STATUS = {
    "placed": "confirmation",
    "confirmed": "processing",
    "backordered": "processing",
    "picked": "shipping",
    "shipped": "tracking",
    "delivered": "closing",
}
LOW_COMMENTS = [
    "送货比承诺的晚了两天，也没有人通知我。",
    "包装破损，商品有划痕。",
    "客服电话一直打不通。",
    "确认订单花了太久。",
]
GOOD_COMMENTS = [
    "送货很快，包装也很好，谢谢！",
    "快递员很有礼貌。",
    "下次还会再买。",
    "Everything arrived on time, thank you.",
]
# The share of receipts that get a survey (the rest: opted out, no email address,
# received while surveys were off), and of surveys that are answered.
SURVEYED = 0.60
ANSWERED = 0.45


def insert_review(run, ctx: Context) -> None:
    insert_step_runs(run, ctx)
    insert_surveys(run, ctx)
    check_review(run, ctx)


def insert_step_runs(run, ctx: Context) -> None:
    """One run per two transitions in a row of an order's timeline, as record_step_run
    writes it: the state left and its step, the next state, the order's channel, the
    step's owner, the second event's actor, the time between the two events (whole
    seconds, never negative) and the step's target for the channel (its override, else
    the step's own), breached when the time reached the target. Its id follows from the
    second event's (base + event id - event base), so it needs no numbering."""
    steps = " ".join(
        f"WHEN {literal(status)} THEN {literal(code)}" for status, code in STEP_FOR_STATUS.items()
    )
    events = ctx.base("orders_orderevent")
    run(
        "orders_steprun",
        f"""
        INSERT INTO orders_steprun (id, order_id, step, status, to_status, channel, role,
            by_id, started_at, ended_at, seconds, target_seconds, breached)
        SELECT {ctx.base("orders_steprun")} + t.id - {events}, t.order_id, st.code, t.status,
               t.to_status, o.channel, st.role, t.actor_id, t.started_at,
               greatest(t.created_at, t.started_at), x.seconds, x.target,
               x.target IS NOT NULL AND x.seconds >= x.target
        FROM (
            SELECT e.id, e.order_id, e.created_at, e.actor_id, e.to_status,
                   lag(e.to_status) OVER w AS status, lag(e.created_at) OVER w AS started_at
            FROM orders_orderevent e
            WHERE e.kind = 'transition' AND e.id > {events}
            WINDOW w AS (PARTITION BY e.order_id ORDER BY e.created_at, e.id)
        ) t
        JOIN orders_processstep st ON st.code = CASE t.status {steps} END
        JOIN bench_order o ON o.id = t.order_id
        LEFT JOIN orders_stepchanneltarget ct ON ct.step_id = st.id AND ct.channel = o.channel
        CROSS JOIN LATERAL (SELECT
            greatest(0, floor(extract(epoch FROM t.created_at - t.started_at)))::bigint
                AS seconds,
            floor(extract(epoch FROM coalesce(ct.target, st.target)))::bigint AS target) x
        """,
    )


def _survey_settings():
    """The survey settings row's values (the model's defaults if there is no row)."""
    model = apps.get_model("feedback", "SurveySettings")
    row = model.objects.filter(pk=1).first() or model()
    return row


def _questions() -> tuple[int | None, list[tuple[int, str, str]]]:
    """The active question set's id and its questions (id, kind, ask_when) in order."""
    question_set = apps.get_model("feedback", "QuestionSet").objects.filter(active=True).first()
    if question_set is None:
        return None, []
    questions = (
        apps.get_model("feedback", "SurveyQuestion")
        .objects.filter(question_set=question_set)
        .order_by("position", "pk")
        .values_list("pk", "kind", "ask_when")
    )
    return question_set.pk, list(questions)


def insert_surveys(run, ctx: Context) -> None:
    """About 60 % of the receipts get a survey, sent the settings' time after the
    receipt (only those sent by now, to an order with an email address); about 45 % of
    those are answered within days, mostly with good scores, some low with a comment.
    Unanswered ones past the reminder time were reminded. The carrier is the one of the
    order's shipment; ``had_problem`` whether a problem case was open by then.

    Answers: one per question of the active set (the problem question only for surveys
    with a problem), near the overall score. Id = base + order id * questions + index."""
    question_set, questions = _questions()
    if question_set is None:
        run.log("  feedback_survey: no active question set, no surveys")
        return
    conf = _survey_settings()
    remind = conf.remind_after
    # Answered within the link's life, at most six means after sending.
    mean = min(timedelta(hours=18), conf.valid_for / 7)
    answer_delay = f"(least(-ln(1 - {rnd(202, 'r.order_id')}), 6) * {interval(mean)})"
    score = (
        f"CASE WHEN {rnd(203, 's.order_id')} < 0.05 THEN 1 WHEN {rnd(203, 's.order_id')} < 0.10 "
        f"THEN 2 WHEN {rnd(203, 's.order_id')} < 0.22 THEN 3 "
        f"WHEN {rnd(203, 's.order_id')} < 0.50 THEN 4 ELSE 5 END"
    )
    low = [literal(c) for c in LOW_COMMENTS]
    good = [literal(c) for c in GOOD_COMMENTS]
    run(
        "surveys: working table",
        f"""
        CREATE TEMP TABLE bench_survey ON COMMIT DROP AS
        SELECT s.*,
            CASE WHEN s.answered_at IS NOT NULL THEN {score} END AS score,
            CASE WHEN {interval(remind)} IS NOT NULL
                      AND s.sent_at + {interval(remind)} <= %(now)s
                      AND coalesce(s.answered_at, 'infinity') > s.sent_at + {interval(remind)}
                 THEN s.sent_at + {interval(remind)} END AS reminded_at
        FROM (
            SELECT r.order_id, r.sent_at, r.sent_at + {interval(conf.valid_for)} AS expires_at,
                CASE WHEN {rnd(201, "r.order_id")} < {ANSWERED}
                          AND r.sent_at + {answer_delay} <= %(now)s
                     THEN r.sent_at + {answer_delay} END AS answered_at,
                coalesce(pc.opened_at <= r.sent_at, false) AS had_problem,
                coalesce(sh.carrier, '') AS carrier
            FROM (SELECT f.order_id, f.m_receipt + {interval(conf.send_after)} AS sent_at
                  FROM bench_feedback f
                  JOIN bench_customer c ON c.no = f.customer_no AND c.email <> ''
                  WHERE f.m_receipt IS NOT NULL
                    AND {rnd(200, "f.order_id")} < {SURVEYED}) r
            LEFT JOIN (SELECT order_id, min(opened_at) AS opened_at FROM feedback_problemcase
                       GROUP BY order_id) pc ON pc.order_id = r.order_id
            LEFT JOIN (SELECT DISTINCT ON (order_id) order_id, carrier_name AS carrier
                       FROM bench_ship ORDER BY order_id, id) sh ON sh.order_id = r.order_id
            WHERE r.sent_at <= %(now)s
        ) s
        """,
        ctx.params(),
    )
    run(
        "feedback_survey",
        f"""
        INSERT INTO feedback_survey (id, order_id, question_set_id, sent_at, expires_at,
            reminded_at, had_problem, carrier, answered_at, score, recommend, comment)
        SELECT {ctx.base("feedback_survey")} + s.order_id, s.order_id, {int(question_set)},
               s.sent_at, s.expires_at, s.reminded_at, s.had_problem, s.carrier,
               s.answered_at, s.score,
               CASE WHEN s.score IS NOT NULL
                    THEN greatest(0, least(10, s.score * 2 - floor({rnd(204, "s.order_id")} * 3)
                                               + CASE WHEN s.score = 5 THEN 0 ELSE 1 END))
               END,
               CASE WHEN s.score <= 2 THEN {pick(205, low, "s.order_id")}
                    WHEN s.score >= 4 AND {rnd(206, "s.order_id")} < 0.15
                    THEN {pick(207, good, "s.order_id")}
                    ELSE '' END
        FROM bench_survey s
        """,
    )
    count = len(questions)
    rows = ", ".join(
        f"({index}, {pk}, {literal(kind)}, {literal(asked)})"
        for index, (pk, kind, asked) in enumerate(questions)
    )
    key = f"(s.order_id * {count} + q.idx)"
    run(
        "feedback_surveyanswer",
        f"""
        INSERT INTO feedback_surveyanswer (id, survey_id, question_id, value)
        SELECT {ctx.base("feedback_surveyanswer")} + {key},
               {ctx.base("feedback_survey")} + s.order_id, q.id,
               CASE WHEN q.kind = 'yes_no'
                    THEN CASE WHEN {rnd(208, key)} < CASE WHEN s.score <= 2 THEN 0.6
                                                          WHEN s.score = 3 THEN 0.2
                                                          ELSE 0.04 END
                              THEN 0 ELSE 1 END
                    ELSE greatest(1, least(5, s.score - 1 + floor({rnd(209, key)} * 3)::int))
               END
        FROM bench_survey s
        CROSS JOIN (VALUES {rows}) q(idx, id, kind, ask_when)
        WHERE s.answered_at IS NOT NULL AND (q.ask_when <> 'problem' OR s.had_problem)
        """,
    )


def check_review(run, ctx: Context) -> None:
    """Refuse the load (rolled back) unless every transition that leaves a state with a
    step has its run, and every survey belongs to a receipt of at least the settings'
    delay before it, with answers only when answered."""
    events = ctx.base("orders_orderevent")
    steps = ", ".join(literal(status) for status in STEP_FOR_STATUS)
    missing = run.scalar(
        f"""
        SELECT (SELECT count(*) FROM (
                    SELECT lag(to_status) OVER (PARTITION BY order_id
                                                ORDER BY created_at, id) AS status
                    FROM orders_orderevent WHERE kind = 'transition' AND id > {events}) t
                WHERE t.status IN ({steps}))
             - (SELECT count(*) FROM orders_steprun WHERE id > {ctx.base("orders_steprun")})
        """
    )
    if missing:
        raise CommandError(f"review: {missing} transitions lack their step run.")
    survey = ctx.base("feedback_survey")
    conf = _survey_settings()
    wrong = run.scalar(
        f"""
        SELECT count(*) FROM feedback_survey s
        LEFT JOIN feedback_receipt r ON r.order_id = s.order_id
        FULL JOIN (SELECT DISTINCT survey_id FROM feedback_surveyanswer
                   WHERE id > {ctx.base("feedback_surveyanswer")}) a ON a.survey_id = s.id
        WHERE s.id IS NULL
           OR (s.id > {survey}
               AND (r.id IS NULL OR s.sent_at < r.confirmed_at + {interval(conf.send_after)}
                    OR (s.answered_at IS NULL) <> (s.score IS NULL)
                    OR (s.answered_at IS NULL) <> (a.survey_id IS NULL)))
        """
    )
    if wrong:
        raise CommandError(
            f"review: {wrong} surveys lack a receipt before them, or their answers do not "
            "match whether they were answered."
        )
