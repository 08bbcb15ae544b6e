"""Lists can be exported: the admin's CSV action gives the columns the list shows."""

import pytest

from tests.factories import CustomerFactory, UserFactory

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
    assert "代码" in header or "code" in header.lower()
    assert row.startswith("AAA,甲公司")
    assert rest == []
