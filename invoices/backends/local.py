"""The local backend: the app numbers and renders invoices itself (the default and the demo)."""

from __future__ import annotations

from datetime import date

from billing.models import SellerProfile


class LocalBackend:
    name = "local"
    channel = "1"

    def submit(self, *, invoice, seller: SellerProfile, on: date) -> None:
        from invoices.services import invoice_number_next, mark_issued

        mark_issued(
            invoice=invoice, number=invoice_number_next(seller=seller, on=on, channel=self.channel), issued_on=on
        )

    def submit_red(self, *, invoice, form, seller: SellerProfile, on: date) -> None:
        from invoices.models import RedLetterForm

        # The seller files the form alone and it is confirmed at once (the buyer has not
        # booked the invoice with the platform in the local demo).
        form.status = RedLetterForm.Status.CONFIRMED
        form.save(update_fields=["status", "updated_at"])
        self.submit(invoice=invoice, seller=seller, on=on)
