"""Time every periodic task on a loaded database, inside transactions that are rolled
back, and EXPLAIN each task's main queries; exit status 1 when a check fails. See
README.md, "sweeps.py".

    .venv/bin/python benchmarks/sweeps.py --database o2d_bench_1m
"""

import argparse
import json
import logging
import re
import statistics
import time
from unittest import mock

import bench_django as bd
from bench_django import log

SWEEP_SECONDS = 2.0
LONG_RUN_SECONDS = 60  # a run longer than this is not repeated


def main_queries(now):
    """(label, task it belongs to, queryset) of the query each sweep starts from, built
    from the app's own selectors, or as the service builds it where it has none."""
    from feedback import selectors as feedback_selectors
    from logistics import services as logistics
    from orders import emails
    from orders.clock import annotate_due_at, steps_by_code
    from orders.models import OPEN_STATUSES, FollowUp, NotificationKind, Order, StepCode

    steps = steps_by_code()
    receipt = steps.get(StepCode.RECEIPT)
    limit = feedback_selectors.receipt_limit(steps)
    percent = receipt.warning_percent if receipt else 75
    fields = ("pk", "status", "channel", "step_started_at", "salesperson_id")
    return [
        ("emails.unsent()", "orders.tasks.requeue_unsent_emails", emails.unsent(now=now)),
        (
            "mark_overdue_steps: open orders past their step's deadline",
            "orders.tasks.sweep_deadlines",
            annotate_due_at(
                Order.objects.filter(step_overdue_at__isnull=True, status__in=OPEN_STATUSES), steps
            )
            .filter(due_at__lte=now)
            .only(*fields),
        ),
        (
            "escalate_overdue_follow_ups: follow-ups past due",
            "orders.tasks.sweep_deadlines",
            FollowUp.objects.filter(
                done_at__isnull=True, escalated_at__isnull=True, due_at__lte=now
            ).values_list("pk", "order_id", "step"),
        ),
        (
            "send_receipt_reminders: delivered, unanswered, not reminded",
            "feedback.tasks.auto_confirm_receipts",
            feedback_selectors.awaiting_receipt(now, limit=limit * percent / 100)
            .filter(contact_email__gt="")
            .exclude(notifications__kind=NotificationKind.RECEIPT_REMINDER)
            .values_list("pk", flat=True),
        ),
        (
            "auto_confirm_receipts: delivered, unanswered past the limit",
            "feedback.tasks.auto_confirm_receipts",
            feedback_selectors.awaiting_receipt(now, limit=limit).values_list("pk", flat=True),
        ),
        (
            "logistics.late_shipments()[:50] (dashboard queue)",
            "(no beat task)",
            logistics.late_shipments()[:50],
        ),
        (
            "logistics.open_exceptions()[:200] (problems page)",
            "(no beat task)",
            logistics.open_exceptions()[:200],
        ),
    ]


def periodic_tasks():
    """[(name, dotted task)] of the enabled beat schedules, plus the sweep tasks of the
    settings (SWEEP_TASKS) that no schedule names (they run inside another task)."""
    from django.conf import settings
    from django_celery_beat.models import PeriodicTask

    found = [(t.name, t.task) for t in PeriodicTask.objects.filter(enabled=True).order_by("id")]
    scheduled = {task for _name, task in found}
    found += [
        (f"{task} (run by another task)", task)
        for task in settings.SWEEP_TASKS
        if task not in scheduled
    ]
    return [(name, task) for name, task in found if not task.startswith("celery.")]


def run_rolled_back(function):
    """(seconds, result, captured queries) of one call, whose writes are rolled back."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured, transaction.atomic():
        started = time.perf_counter()
        result = function()
        elapsed = time.perf_counter() - started
        transaction.set_rollback(True)
    return elapsed, result, captured.captured_queries


SHAPE = re.compile(r"'[^']*'|\b\d+(\.\d+)?\b")


def shapes(queries):
    """The captured SELECTs grouped by shape (literals removed): shape -> (count, total
    seconds, slowest instance)."""
    found = {}
    for query in queries:
        sql = bd.select_of(query["sql"])
        if sql is None:
            continue
        query = {**query, "sql": sql}
        key = SHAPE.sub("?", sql)
        count, total, slowest = found.get(key, (0, 0.0, query))
        seconds = float(query["time"])
        if seconds > float(slowest["time"]):
            slowest = query
        found[key] = (count + 1, total + seconds, slowest)
    return found


def explain_rolled_back(sql, params=None):
    from django.db import transaction

    with transaction.atomic():
        result = bd.explain(sql, params)
        transaction.set_rollback(True)
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    bd.add_common_arguments(parser)
    parser.add_argument("--runs", type=int, default=3, help="runs of each task")
    args = parser.parse_args()

    bd.start(args, "sweeps.py")
    from django.utils import timezone
    from django.utils.module_loading import import_string

    import orders.tasks

    checks = bd.Checks()
    figures = {"tasks": {}, "queries": {}}

    # 1. The main query of each sweep: EXPLAIN (ANALYZE, BUFFERS), on an index?
    log("Main queries (EXPLAIN ANALYZE, BUFFERS; before any task ran):")
    for label, task, queryset in main_queries(timezone.now()):
        sql, params = queryset.query.sql_with_params()
        text, plan = explain_rolled_back(sql, params)
        seq = bd.seq_scans_on_big_tables(plan)
        log(f"\n  {label}  [{task}]")
        log(f"    {bd.plan_summary(plan)}")
        for line in text.splitlines():
            log(f"      {line}")
        figures["queries"][label] = {
            "ms": plan.get("Execution Time"),
            "seq_scans": seq,
            "indexes": bd.index_scans(plan),
        }
        checks.check(not seq, f"main query {label}: Seq Scan on {seq}")

    # 2. Each task, called in this process, rolled back; nothing is queued.
    log("\nPeriodic tasks (in-process, each run rolled back):")
    header = f"  {'task':<58} {'median s':>9} {'max s':>7} {'SQL':>6} {'result':>8}"
    log(header)
    slowest_queries = {}
    queued = []
    logging.getLogger("orders.tasks").setLevel(logging.ERROR)  # "re-queued N email(s)"
    with mock.patch.object(orders.tasks.send_customer_email, "delay", side_effect=queued.append):
        for name, dotted in periodic_tasks():
            try:
                task = import_string(dotted)
            except ImportError as error:
                checks.check(False, f"{name}: cannot import {dotted}: {error}")
                continue
            timings, counts = [], []
            for _ in range(args.runs):
                queued.clear()
                elapsed, result, queries = run_rolled_back(task)
                timings.append(elapsed)
                counts.append(len(queries))
                if elapsed > LONG_RUN_SECONDS:
                    log(f"  ({name}: {elapsed:.0f} s; not repeated)")
                    break
            median, worst = statistics.median(timings), max(timings)
            figures["tasks"][name] = {
                "task": dotted,
                "median": median,
                "max": worst,
                "runs": timings,
                "queries": counts[-1],
                "result": result,
                "queued_emails": len(queued),
            }
            slowest_queries[name] = shapes(queries)
            ok = checks.check(
                median <= SWEEP_SECONDS, f"{name}: median {median:.2f} s > {SWEEP_SECONDS:.0f} s"
            )
            log(
                f"  {name[:58]:<58} {median:>9.3f} {worst:>7.3f} {counts[-1]:>6} {result!s:>8}"
                + ("" if ok else "  FAIL")
                + (f"  ({len(queued)} email sends would be queued)" if queued else "")
            )

    # 3. What the tasks spent their SQL time on, and whether those statements use an index.
    log("\nStatements of each task run, by shape (last run; EXPLAIN ANALYZE of the slowest):")
    for name, found in slowest_queries.items():
        ranked = sorted(found.items(), key=lambda item: -item[1][1])
        log(f"\n  {name}: {sum(c for c, _t, _q in found.values())} SELECTs in {len(found)} shapes")
        for _key, (count, total, query) in ranked[:4]:
            log(f"    {count} x, {total * 1000:.1f} ms in all: {query['sql'][:300]}")
            text, plan = explain_rolled_back(query["sql"])
            seq = bd.seq_scans_on_big_tables(plan)
            log(f"      plan: {bd.plan_summary(plan)}")
            checks.check(not seq, f"{name}: a statement reads {seq} whole: {query['sql'][:120]}")
        for _key, (_count, _total, query) in ranked[4:]:
            _text, plan = explain_rolled_back(query["sql"])
            seq = bd.seq_scans_on_big_tables(plan)
            if seq:
                log(f"    Seq Scan on {seq}: {query['sql'][:300]}")
            checks.check(not seq, f"{name}: a statement reads {seq} whole: {query['sql'][:120]}")

    if args.json:
        with open(args.json, "w") as f:
            json.dump(figures, f, indent=1, default=str)
    checks.exit()


if __name__ == "__main__":
    main()
