"""Fill a benchmark database with a realistic order history (development only).

    DATABASE_URL=postgres://.../o2d_bench_1m manage.py load_benchmark_data --orders 1000000

Refuses with DEBUG=False, on other databases than PostgreSQL, and on a database whose
name does not contain "bench". The SQL lives in ``o2d.benchmark_data``.
"""

import time

from django.core.management.base import BaseCommand

from o2d.benchmark_data import load


class Command(BaseCommand):
    help = (
        "Load a realistic order history (default one million orders over two years) into "
        "a PostgreSQL database named *bench*, set-based. Development only."
    )

    def add_arguments(self, parser):
        parser.add_argument("--orders", type=int, default=1_000_000, help="How many orders.")
        parser.add_argument("--days", type=int, default=730, help="Spread over how many days.")
        parser.add_argument("--seed", type=int, default=2026, help="The same seed, the same data.")
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Empty the order-related tables first (configuration rows are kept).",
        )

    def handle(self, *args, **options):
        started = time.monotonic()
        inserted = load(
            orders_count=options["orders"],
            days=options["days"],
            seed=options["seed"],
            reset=options["reset"],
            log=self.stdout.write,
        )
        self.stdout.write("Rows inserted per table:")
        for table, rows in sorted(inserted.items()):
            self.stdout.write(f"  {table:<36} {rows:>12,}")
        self.stdout.write(f"  {'total':<36} {sum(inserted.values()):>12,}")
        self.stdout.write(self.style.SUCCESS(f"Done in {time.monotonic() - started:.1f} s."))
