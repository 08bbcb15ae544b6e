"""The manual backend: finance issues on the tax bureau's site and records the result."""

from __future__ import annotations

from datetime import date

from billing.models import SellerProfile


class ManualBackend:
    name = "manual"

    def submit(self, *, invoice, seller: SellerProfile, on: date) -> None:
        """Nothing to send: the invoice waits (pending) for finance to record its number."""

    def submit_red(self, *, invoice, form, seller: SellerProfile, on: date) -> None:
        from invoices.models import RedLetterForm

        form.status = RedLetterForm.Status.AWAITING
        form.save(update_fields=["status", "updated_at"])
