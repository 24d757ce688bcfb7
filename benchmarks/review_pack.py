"""The review pack of one month on a loaded database: wall time and SQL queries of
``orders.review.pack.build_pack``, with checks against plain SQL (exit status 1 when
one fails). See README.md, "review_pack.py".

    .venv/bin/python benchmarks/review_pack.py --database o2d_bench_1m
    .venv/bin/python benchmarks/review_pack.py --month 2026-06 --repeat 10
"""

import argparse
import math
import time
from datetime import date, timedelta

import bench_django as bd
from bench_django import log, rows

TARGET_S = 1.5  # a month's pack; slower runs get their slowest queries explained
TARGET_LONGER_S = 5.0  # the pack of several months, up to a year
MAX_QUERIES = 40  # a small, fixed number whatever the number of orders
SLOWEST = 5  # queries listed per run, and explained when over target


def month_arg(text):
    try:
        year, month = (int(part) for part in text.split("-"))
        return date(year, month, 1)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a month like 2026-06") from None


def month_end(first):
    return (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def last_full_month():
    from django.utils import timezone

    return (timezone.localdate().replace(day=1) - timedelta(days=1)).replace(day=1)


def run_pack(start, end):
    """(seconds, captured queries, pack) of one build_pack call."""
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    from orders.review.pack import build_pack

    reset_queries()
    with CaptureQueriesContext(connection) as captured:
        started = time.perf_counter()
        pack = build_pack(start, end)
        took = time.perf_counter() - started
    return took, list(captured.captured_queries), pack


def independent_figures(start, end):
    """Per step: runs, breaches (the flag, and recomputed from seconds and target),
    over the step runs that ended in the local days ``start`` to ``end``: plain SQL,
    the period's bounds computed by PostgreSQL in the business time zone."""
    from django.conf import settings

    found = rows(
        """
        SELECT step, count(*), count(*) FILTER (WHERE breached),
               count(*) FILTER (WHERE target_seconds IS NOT NULL
                                  AND seconds >= target_seconds),
               count(DISTINCT order_id)
        FROM orders_steprun
        WHERE ended_at >= (%(start)s::date)::timestamp AT TIME ZONE %(tz)s
          AND ended_at < (%(end)s::date + 1)::timestamp AT TIME ZONE %(tz)s
        GROUP BY step
        """,
        {"start": start, "end": end, "tz": settings.TIME_ZONE},
    )
    return {
        step: (n, breached, recomputed, orders) for step, n, breached, recomputed, orders in found
    }


def independent_median(step, start, end):
    from django.conf import settings

    return bd.scalar(
        """
        SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds)
        FROM orders_steprun
        WHERE step = %(step)s
          AND ended_at >= (%(start)s::date)::timestamp AT TIME ZONE %(tz)s
          AND ended_at < (%(end)s::date + 1)::timestamp AT TIME ZONE %(tz)s
        """,
        {"step": step, "start": start, "end": end, "tz": settings.TIME_ZONE},
    )


def quantile(values, fraction):
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, math.ceil(fraction * len(ordered)) - 1))
    return ordered[index]


def check_pack(checks, pack, start, end, label):
    """The pack's per-step runs and breaches equal plain SQL's; the median of the step
    with the most runs equals percentile_cont in SQL. Returns the plain SQL figures."""
    expected = independent_figures(start, end)
    got = {step.code: step for step in pack.steps}
    for code, (n, breached, recomputed, orders) in sorted(expected.items()):
        step = got.get(code)
        if not checks.check(step is not None, f"{label}: step {code} missing from the pack"):
            continue
        checks.check(step.runs == n, f"{label}: {code} runs {step.runs}, SQL counts {n}")
        checks.check(
            step.breaches == breached,
            f"{label}: {code} over target {step.breaches}, SQL counts {breached}",
        )
        checks.check(
            breached == recomputed,
            f"{label}: {code} has {breached} runs flagged over target but {recomputed} "
            "whose seconds reach their target",
        )
        checks.check(
            step.orders == orders, f"{label}: {code} orders {step.orders}, SQL counts {orders}"
        )
    extra = {code for code, step in got.items() if step.runs} - set(expected)
    checks.check(not extra, f"{label}: the pack counts runs of {sorted(extra)}, SQL none")
    total = sum(n for n, *_ in expected.values())
    checks.check(pack.runs == total, f"{label}: the pack has {pack.runs} runs, SQL {total}")
    if expected:
        busiest = max(expected, key=lambda code: expected[code][0])
        median = independent_median(busiest, start, end)
        shown = got[busiest].median if busiest in got else None
        checks.check(
            shown is not None and median is not None and abs(shown - median) < 1e-6,
            f"{label}: median of {busiest} {shown}, percentile_cont in SQL {median}",
        )
        log(
            f"check ({label}): {len(expected)} steps' runs and over-target counts as in SQL; "
            f"median of {busiest}: pack {shown:.1f} s, SQL {median:.1f} s"
        )
    return expected


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    bd.add_common_arguments(parser)
    parser.add_argument(
        "--month", type=month_arg, help="YYYY-MM (default: the last full month, local time)"
    )
    parser.add_argument(
        "--months",
        type=int,
        default=1,
        help="the pack of this many months, ending with --month (12: a year)",
    )
    parser.add_argument("--repeat", type=int, default=5, help="timed packs")
    parser.add_argument("--warmup", type=int, default=1, help="untimed packs first")
    parser.add_argument(
        "--explain", action="store_true", help="EXPLAIN ANALYZE the slowest queries anyway"
    )
    args = parser.parse_args()

    bd.start(args, "review_pack.py")
    checks = bd.Checks()
    last = args.month or last_full_month()
    end = month_end(last)
    start = last
    for _ in range(max(1, args.months) - 1):
        start = (start - timedelta(days=1)).replace(day=1)
    runs = sum(n for n, *_ in independent_figures(start, end).values())
    period = f"{start:%Y-%m}" if start == last else f"{start:%Y-%m} to {last:%Y-%m}"
    log(f"period: {period} ({start} to {end}, local days), {runs:,} step runs ended in it")
    checks.check(runs > 0, f"no step runs ended in {period}: load the data first")

    for _ in range(max(0, args.warmup)):
        run_pack(start, end)
    times, counts, slowest = [], [], None
    pack = None
    for _ in range(max(1, args.repeat)):
        took, queries, pack = run_pack(start, end)
        times.append(took)
        counts.append(len(queries))
        if slowest is None or took > slowest[0]:
            slowest = (took, queries)
    log(
        f"build_pack, {len(times)} runs: min {min(times):.3f} s, p50 {quantile(times, 0.5):.3f} s,"
        f" max {max(times):.3f} s; {counts[0]} queries"
        + ("" if len(set(counts)) == 1 else f" (varies: {sorted(set(counts))})")
    )
    checks.check(len(set(counts)) == 1, f"the query count varies between runs: {counts}")
    checks.check(counts[0] <= MAX_QUERIES, f"{counts[0]} queries > {MAX_QUERIES}")

    # The same number of queries for a single day: nothing is read row by row.
    day_took, day_queries, day_pack = run_pack(end, end)
    log(f"one day ({end}): {day_pack.runs:,} runs, {day_took:.3f} s, {len(day_queries)} queries")
    checks.check(
        len(day_queries) == counts[0],
        f"a day's pack runs {len(day_queries)} queries, the month's {counts[0]}: "
        "the count grows with the rows",
    )

    took, queries = slowest
    ranked = sorted(queries, key=lambda q: float(q.get("time") or 0), reverse=True)
    sql_s = sum(float(q.get("time") or 0) for q in queries)
    log(f"\nslowest run: {took:.3f} s, of which {sql_s:.3f} s in SQL; slowest queries:")
    for query in ranked[:SLOWEST]:
        log(f"  {float(query['time']) * 1000:8.1f} ms  {' '.join(query['sql'].split())[:150]}")
    target = TARGET_S if args.months <= 1 else TARGET_LONGER_S
    if args.explain or quantile(times, 0.5) > target:
        log(f"\nEXPLAIN ANALYZE of the {SLOWEST} slowest queries:")
        for query in ranked[:SLOWEST]:
            log(f"\n  {float(query['time']) * 1000:.1f} ms: {' '.join(query['sql'].split())[:200]}")
            bd.explain_captured(query)

    log()
    check_pack(checks, pack, start, end, period)
    check_pack(checks, day_pack, end, end, str(end))
    checks.exit()


if __name__ == "__main__":
    main()
