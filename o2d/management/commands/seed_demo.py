"""Demo data: one login per role, products, and about 50 orders in every state.

The orders are driven through the same services the staff use, with the clock set
back, so the timeline, the step clocks and the dashboards look like a working week.
Local use only: the demo password is printed and documented. The data and the steps
that make it live in ``o2d.demo``.
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from o2d.demo import seed


class Command(BaseCommand):
    help = "Create demo logins, products and about 50 orders in every state (local use only)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help="Seed even with DEBUG=False (creates logins with a public password!).",
        )

    def handle(self, *args, **options):
        if not settings.DEBUG and not options["allow_production"]:
            raise CommandError(
                "seed_demo creates logins with a public password; it refuses to run with "
                "DEBUG=False. Use --allow-production on a throwaway system only."
            )
        seed(log=self.stdout.write)
