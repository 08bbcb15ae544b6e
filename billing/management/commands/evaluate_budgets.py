from django.core.management.base import BaseCommand

from billing.budgets.budgets import budgets_evaluate_all


class Command(BaseCommand):
    help = "Evaluate every active budget now (the beat task budgets_evaluate_all); idempotent."

    def handle(self, *args, **options):
        fired = budgets_evaluate_all()
        self.stdout.write(f"{fired} alerts fired")
