from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from billing.bills.lifecycle import bills_mark_overdue
from billing.periods import business_day


class Command(BaseCommand):
    help = "Mark bills past their due date overdue (the beat task bills_mark_overdue; run_dunning sends the notices)."

    def add_arguments(self, parser):
        parser.add_argument("--today", help="YYYY-MM-DD (default: today in BILLING_TIME_ZONE)")

    def handle(self, *args, today: str | None = None, **options):
        try:
            day = date.fromisoformat(today) if today else business_day(timezone.now())
        except ValueError as exc:
            raise CommandError(f"--today: {exc}") from exc
        marked = bills_mark_overdue(today=day)
        self.stdout.write(f"{day.isoformat()}: {marked} bills marked overdue")
