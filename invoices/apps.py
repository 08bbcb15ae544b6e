from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InvoicesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "invoices"
    verbose_name = _("VAT invoices")

    def ready(self) -> None:
        from billing.bills.lifecycle import BEFORE_VOID
        from invoices.services import bill_reverse_invoices

        # Voiding a bill reverses its invoices first (red-letter), in the same transaction.
        if bill_reverse_invoices not in BEFORE_VOID:
            BEFORE_VOID.append(bill_reverse_invoices)
