"""``manage.py sync_gateway_logs newapi --database-url URL [--source NAME]`` (CONTRACT
"Gateway connectors"); the beat task gateways.tasks.gateway_logs_sync_all is its twin."""

from datetime import date, datetime

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from billing.periods import billing_tz
from gateways.newapi import PAGE_SIZE, GatewayUnreachable
from gateways.services import gateway_logs_sync


class Command(BaseCommand):
    help = (
        "Read the consume logs of a new-api / one-api gateway database (PostgreSQL or MySQL, read-only "
        "access is enough) into usage records, from the source's watermark minus 10 minutes; idempotent. "
        "Prints: read N, accepted N, duplicates N, unmapped N, rejected N."
    )

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=["newapi"], help="the gateway's kind: newapi (new-api and one-api)")
        parser.add_argument(
            "--database-url",
            required=True,
            help="the gateway's database, postgres://user:pass@host:5432/db or mysql://user:pass@host:3306/db",
        )
        parser.add_argument(
            "--source",
            default="newapi",
            help="the source name (default newapi): request ids are {source}:{logs.id}, keys are found by "
            "their external_id {source}:{token_id}",
        )
        parser.add_argument(
            "--since",
            help="read again from this day (YYYY-MM-DD, BILLING_TIME_ZONE) instead of the watermark; idempotent",
        )
        parser.add_argument("--page-size", type=int, default=PAGE_SIZE, help=f"rows per page (default {PAGE_SIZE})")

    def handle(self, *args, kind: str, database_url: str, source: str, page_size: int, since: str | None, **options):
        if not 1 <= page_size <= 10_000:
            raise CommandError("--page-size: 1 to 10000")
        start = None
        if since:
            try:
                day = date.fromisoformat(since)
            except ValueError as exc:
                raise CommandError(f"--since: {exc}") from exc
            start = int(datetime.combine(day, datetime.min.time(), tzinfo=billing_tz()).timestamp())

        def progress(result):
            self.stderr.write(f"… {result.line()} ({result.pages} pages)")

        try:
            result = gateway_logs_sync(
                source_name=source, database_url=database_url, page_size=page_size, progress=progress, since=start
            )
        except (GatewayUnreachable, ImproperlyConfigured) as exc:
            raise CommandError(str(exc)) from exc
        if result.skipped:
            self.stderr.write(f"another sync of {source} is running; nothing done")
        self.stdout.write(result.line())
