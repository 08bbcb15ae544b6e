"""Bills to collect: ACME owes October and November (5,300.00 each: a 5,000.00 minimum
commitment + 6 % VAT), OTHER owes November (2,120.00). ACME pays from 6225 8802 1234 5678,
OTHER from 3100 1234 5678 900. Statements are imported on 2026-12-20."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.billing.close_helpers import close, only, set_terms, travel

FIXTURES = Path(__file__).parent / "fixtures"
OCT = date(2026, 10, 1)
COLUMNS = {
    "date": "交易日期",
    "amount": "贷方发生额",
    "debit_amount": "借方发生额",
    "payer_name": "对方户名",
    "payer_account": "对方账号",
    "memo": "摘要",
    "bank_reference": "流水号",
}
HEADER = list(COLUMNS.values())


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def ledger(acme, other_customer):
    acme.bank_account = "6225 8802 1234 5678"
    acme.save()
    other_customer.bank_account = "3100 1234 5678 900"
    other_customer.save()
    set_terms(acme, minimum_monthly_commitment=Decimal("5000.00"))
    set_terms(other_customer, minimum_monthly_commitment=Decimal("2000.00"))
    with travel(2026, 11, 1):
        october = only(close(acme, OCT))
    with travel(2026, 12, 1):
        november = only(close(acme))
        other = only(close(other_customer))
    assert (october.number, october.total.amount) == ("BILL-ACME-202610", Decimal("5300.00"))
    assert (november.number, november.total.amount) == ("BILL-ACME-202611", Decimal("5300.00"))
    assert (other.number, other.total.amount) == ("BILL-OTHER-202611", Decimal("2120.00"))
    return SimpleNamespace(acme=acme, other=other_customer, october=october, november=november, other_bill=other)


def csv_bytes(rows: list[list[str]], encoding: str = "utf-8-sig", header: list[str] = HEADER) -> bytes:
    """An online-banking export: an account block, the header row, the rows."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["账号：", "1001234509876543210"])
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def upload(client, content: bytes | str, fmt: str, name: str | None = None, **fields):
    """POST a statement file; ``content`` is bytes, or a fixture's file name."""
    if isinstance(content, str):
        name = name or content
        content = (FIXTURES / content).read_bytes()
    file = io.BytesIO(content)
    file.name = name or f"statement.{fmt}"
    if fmt in ("csv", "xlsx") and not fields.get("profile") and "date" not in fields:
        fields = {**COLUMNS, **fields}
    with travel(2026, 12, 20):
        return client.post("/api/v1/bank-statements/", {"file": file, "format": fmt, **fields}, format="multipart")
