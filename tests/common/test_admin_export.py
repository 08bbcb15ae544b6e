"""Lists can be exported: the admin's CSV action gives the columns the list shows."""

import io
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from tests.factories import ContractFactory, CustomerFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_it_exports_the_selected_customers_as_csv_with_the_list_columns(client):
    clerk = UserFactory(username="clerk", is_staff=True, groups=["finance"])
    client.force_login(clerk)
    first = CustomerFactory(code="AAA", name="甲公司")
    CustomerFactory(code="BBB", name="乙公司")

    response = client.post(
        "/admin/customers/customer/",
        {"action": "export_as_csv", "_selected_action": [first.pk]},
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    text = response.content.decode("utf-8-sig")
    header, row, *rest = text.strip().splitlines()
    assert header == "编码,企业全称,统一社会信用代码,账单邮箱,有效,创建时间"
    assert row.startswith("AAA,甲公司")
    assert rest == []


def test_it_exports_the_selected_contracts_as_xlsx_with_typed_cells(client):
    clerk = UserFactory(username="clerk", is_staff=True, groups=["finance"])
    client.force_login(clerk)
    contract = ContractFactory(
        number="HT-X-1",
        starts_on=date(2026, 1, 1),
        discount_percent=Decimal("8.00"),
        minimum_monthly_commitment=Decimal("1000.00"),
    )

    response = client.post(
        "/admin/customers/contract/",
        {"action": "export_as_xlsx", "_selected_action": [contract.pk]},
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(io.BytesIO(response.content)).active
    header = [c.value.lower() for c in sheet[1]]
    row = dict(zip(header, sheet[2], strict=True))
    assert sheet.max_row == 2
    assert row["contract number"].value == "HT-X-1"
    assert row["starts on"].is_date and row["starts on"].value.date() == date(2026, 1, 1)
    assert (row["discount %"].data_type, row["discount %"].value) == ("n", 8)
    commitment = row["minimum monthly commitment"]
    assert (commitment.data_type, commitment.value, commitment.number_format) == ("n", 1000, "0.00")
    assert row["one bill per project"].value is False
