from __future__ import annotations

from datetime import date
from typing import Protocol

from billing.models import SellerProfile


class IssuingBackend(Protocol):
    name: str

    def submit(self, *, invoice, seller: SellerProfile, on: date) -> None:
        """Hand a blue invoice to the platform; may issue it at once (local) or leave it pending."""

    def submit_red(self, *, invoice, form, seller: SellerProfile, on: date) -> None:
        """File the red-letter confirmation form and issue the red invoice (or leave it pending)."""
