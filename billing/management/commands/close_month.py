from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from billing.bills.close import customers_to_close, month_close_customer
from billing.periods import format_period, next_period, parse_period, period_start, previous_period
from customers.models import Customer


class Command(BaseCommand):
    help = (
        "Close a billing period (default: the previous month in BILLING_TIME_ZONE): build, issue and "
        "queue the PDF and e-mail of each customer's bill. Idempotent. One line per bill. "
        "Exit 2: the period has not ended; exit 3: a bill is held in draft (reason on its line)."
    )

    def add_arguments(self, parser):
        parser.add_argument("period", nargs="?", help="YYYY-MM")
        parser.add_argument("--customer", help="Only this customer code.")

    def handle(self, *args, period: str | None, customer: str | None, **options):
        try:
            month = parse_period(period) if period else previous_period()
        except ValueError as exc:
            raise CommandError(str(exc), returncode=2) from exc
        if period_start(next_period(month)) > timezone.now():
            raise CommandError(
                f"{format_period(month)} has not ended yet; close it once the month is over.", returncode=2
            )
        if customer:
            target = Customer.objects.filter(code=customer.upper()).first()
            if target is None:
                raise CommandError(f"No customer with the code {customer!r}.")
            customers = [target]
        else:
            customers = list(Customer.objects.filter(pk__in=customers_to_close(month)).order_by("code"))
        held = 0
        bills = 0
        for each in customers:
            for outcome in month_close_customer(customer=each, period=month):
                bills += 1
                held += outcome.action == "held"
                self.stdout.write(outcome.line())
        if not bills:
            self.stdout.write(f"{format_period(month)}: nothing to bill")
        if held:
            raise CommandError(f"{held} bill(s) held in draft; see the reasons above.", returncode=3)
