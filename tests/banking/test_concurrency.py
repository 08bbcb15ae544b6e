"""Two overlapping statements imported at the same moment (two finance clerks, or a retry):
each transfer is stored and booked once, and neither import fails."""

from __future__ import annotations

import pytest

from banking.models import BankStatement, BankTransaction
from banking.services import statement_import
from billing.models import Bill, Payment
from tests.banking.conftest import FIXTURES
from tests.billing.close_helpers import travel
from tests.billing.test_close_concurrency import run_together

pytestmark = pytest.mark.django_db(transaction=True)


def _import(name: str):
    def run():
        with travel(2026, 12, 20):
            return statement_import(file_name=name, content=(FIXTURES / name).read_bytes(), format="mt940")

    return run


def test_overlapping_statements_imported_together_book_each_transfer_once(ledger):
    first, second = run_together(_import("cmb_2026-12-15.mt940"), _import("cmb_2026-12-16.mt940"))
    assert BankStatement.objects.count() == 2
    assert BankTransaction.objects.count() == 5
    assert first.duplicates + second.duplicates == 2
    assert Payment.objects.filter(reference="CMB2612150003").count() == 1
    assert Payment.objects.count() == 3  # Nov and Oct of ACME, Nov of OTHER
    assert set(Bill.objects.values_list("status", flat=True)) == {Bill.Status.PAID}
