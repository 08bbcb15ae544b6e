from datetime import datetime, time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from billing.periods import billing_tz
from billing.pricing.pricebook import DEFAULT_PROVIDERS, prices_import


class Command(BaseCommand):
    help = (
        "Load provider list prices from the bundled genai-prices data as price versions: every price key, "
        "long-context tier, Batch/service-tier variant and time-of-day window; dated prices start at 00:00 UTC "
        "as genai-prices applies them. Never edits a version a bill used or finance entered."
    )

    def add_arguments(self, parser):
        parser.add_argument("--at", help="Only prices in force at this date/time (default: now).")
        parser.add_argument(
            "--provider", action="append", help=f"Provider id (repeatable; default: {', '.join(DEFAULT_PROVIDERS)})."
        )

    def handle(self, *args, at: str | None, provider: list[str] | None, **options):
        moment = timezone.now()
        if at:
            invalid = CommandError(f"--at {at!r}: write a date (YYYY-MM-DD) or an RFC 3339 time.")
            try:  # a well-formed but impossible date (2026-02-30) raises instead of returning None
                # A bare date means the whole day (prices starting that day are included).
                moment = None if len(at) == 10 else parse_datetime(at)
                day = parse_date(at) if moment is None else None
            except ValueError:
                raise invalid from None
            if moment is None:
                if day is None:
                    raise invalid
                moment = datetime.combine(day, time.max, tzinfo=billing_tz())
            elif moment.tzinfo is None:
                moment = moment.replace(tzinfo=billing_tz())
        report = prices_import(at=moment, providers=tuple(provider or DEFAULT_PROVIDERS))
        self.stdout.write(
            f"price versions: {report.created} created, {report.unchanged} unchanged, "
            f"{report.kept_manual} kept (differ from list price), {report.updated} completed; "
            f"aliases: {report.aliases} created; {report.skipped_models} versions not importable; "
            f"{report.skipped_variants} variants on a context records do not carry (speed, route) left out"
        )
        for problem in report.problems:
            self.stdout.write(f"  note: {problem}")
