"""Fixtures for the invoice tests: a real seller, the clock in November 2026 (Shanghai),
and ACME's October bill of ¥11,646.86 before VAT (fapiao.md's worked example)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest

from billing.models import Bill, SellerProfile
from tests.invoices.helpers import SHANGHAI, commitment_bill, seller_profile


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    """Rendered and downloaded files go to a temporary directory, not var/media."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _november(time_machine):
    time_machine.move_to(datetime(2026, 11, 5, 10, 0, tzinfo=SHANGHAI), tick=True)


@pytest.fixture
def seller(db) -> SellerProfile:
    return seller_profile()


@pytest.fixture
def acme_bill(acme, seller) -> Bill:
    return commitment_bill(acme, Decimal("11646.86"))
