"""The VAT rate used when nothing else names one: 6 % (增值税 on information technology services,
a general taxpayer's rate). Contracts, the seller profile, presales estimates (API, form and
model) and a close without a contract take it from here; money rule 8 (docs/money-rules.md)
applies whichever rate a bill carries."""

from __future__ import annotations

from decimal import Decimal

DEFAULT_VAT_RATE = Decimal("0.06")
