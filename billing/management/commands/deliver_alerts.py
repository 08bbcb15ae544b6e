from django.core.management.base import BaseCommand

from billing.budgets.alerts import alert_deliver, alert_deliveries_retry


class Command(BaseCommand):
    help = (
        "Send again, at once, the alert deliveries left pending or still failing "
        "(the beat task alerts_retry_pending, without a worker)."
    )

    def handle(self, *args, **options):
        failed = []

        def send(delivery_id: int, *, retries_spent: bool) -> None:
            try:
                alert_deliver(delivery_id=delivery_id)
            except Exception:  # noqa: BLE001 - recorded on the delivery row by alert_deliver
                failed.append(delivery_id)

        tried = alert_deliveries_retry(deliver=send)
        self.stdout.write(f"{tried - len(failed)} alert deliveries sent, {len(failed)} failed")
