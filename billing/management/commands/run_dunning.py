from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from billing.bills.dunning import dunning_run
from billing.bills.lifecycle import bills_mark_overdue
from billing.periods import business_day


class Command(BaseCommand):
    help = (
        "Dunning (the beat task dunning_run): mark bills overdue, make the day's notices (reminder, overdue "
        "notice, 催款函 at 15 and 30 days) once per bill and stage, and send every pending one."
    )

    def add_arguments(self, parser):
        parser.add_argument("--today", help="YYYY-MM-DD (default: today in BILLING_TIME_ZONE)")

    def handle(self, *args, today: str | None = None, **options):
        try:
            day = date.fromisoformat(today) if today else business_day(timezone.now())
        except ValueError as exc:
            raise CommandError(f"--today: {exc}") from exc
        bills_mark_overdue(today=day)
        self.stdout.write(dunning_run(today=day).line())
