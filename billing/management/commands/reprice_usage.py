from django.core.management.base import BaseCommand, CommandError

from billing.metering.reprice import usage_reprice
from billing.periods import parse_period


class Command(BaseCommand):
    help = "Price the usage records of YYYY-MM stored as unpriced, now that their price exists (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("period", help="YYYY-MM")

    def handle(self, *args, period: str, **options):
        try:
            month = parse_period(period)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        result = usage_reprice(period=month)
        self.stdout.write(f"{period}: {result['repriced']} records repriced, {result['unpriced']} still unpriced")
