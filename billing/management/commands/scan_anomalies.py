from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from billing.budgets.anomalies import anomalies_scan
from billing.periods import business_day


class Command(BaseCommand):
    help = "Compare a business day with its trailing 28 days and fire anomaly alerts (the beat task anomalies_scan)."

    def add_arguments(self, parser):
        parser.add_argument("--day", help="YYYY-MM-DD (default: yesterday in BILLING_TIME_ZONE)")

    def handle(self, *args, day: str | None = None, **options):
        try:
            target = date.fromisoformat(day) if day else business_day(timezone.now()) - timedelta(days=1)
        except ValueError as exc:
            raise CommandError(f"--day: {exc}") from exc
        fired = anomalies_scan(day=target)
        self.stdout.write(f"{target.isoformat()}: {len(fired)} anomaly alerts fired")
