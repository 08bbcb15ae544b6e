"""``manage.py check_gateway_logs newapi --database-url URL [--source NAME] [--day YYYY-MM-DD]``:
the daily comparison (twin of gateways.tasks.gateway_days_check_all)."""

from datetime import date, timedelta

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from billing.periods import billing_tz
from gateways.newapi import GatewayUnreachable
from gateways.services import gateway_day_check


class Command(BaseCommand):
    help = (
        "Compare one business day of a gateway's consume logs (calls, input and output tokens) with the usage "
        "records we hold from it; a difference alerts finance once. Exit 4 when they differ."
    )

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=["newapi"])
        parser.add_argument("--database-url", required=True)
        parser.add_argument("--source", default="newapi")
        parser.add_argument("--day", help="YYYY-MM-DD in BILLING_TIME_ZONE (default: yesterday)")

    def handle(self, *args, database_url: str, source: str, day: str | None, **options):
        try:
            when = date.fromisoformat(day) if day else timezone.now().astimezone(billing_tz()).date() - timedelta(1)
        except ValueError as exc:
            raise CommandError(f"--day: {exc}") from exc
        try:
            check = gateway_day_check(source_name=source, database_url=database_url, day=when)
        except (GatewayUnreachable, ImproperlyConfigured) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"{source} {when}: gateway {check.gateway_requests} calls, input {check.gateway_input_tokens}, "
            f"output {check.gateway_output_tokens}; ours {check.our_requests} calls, input {check.our_input_tokens}, "
            f"output {check.our_output_tokens}; {'match' if check.matches else 'DIFFER'}"
        )
        if not check.matches:
            raise SystemExit(4)
