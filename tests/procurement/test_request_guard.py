"""Control characters in a URL are answered at the edge (issue 14: no 5xx for any input):
a NUL in a path is a 404, in a query value a 400 naming the parameter — never a database
error."""

import pytest

PATHS = [
    "/api/v1/bills/a%00b/",
    "/api/v1/bills/a%00b/pdf/",
    "/api/v1/customers/A%00B/",
    "/api/v1/customers/A%00B/insights/",
    "/api/v1/invoices/a%00b/",
    "/documents/bills/a%00b/pdf/",
    "/admin/billing/bill/%00/change/",
    "/portal/%01/",
]


@pytest.mark.parametrize("path", PATHS)
def test_a_control_character_in_a_path_is_not_found(finance_client, path):
    response = finance_client.get(path)
    assert response.status_code == 404
    if path.startswith("/api/"):
        assert response.json() == {"detail": "未找到。", "errors": {}}


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/api/v1/bills/?status=%00", "status"),
        ("/api/v1/usage-summary/?customer=ACME&period=2026-11%00", "period"),
        ("/api/v1/receivables/aging/?as_of=%1f", "as_of"),
        ("/api/v1/prices/?model=gpt%00", "model"),
    ],
)
def test_a_control_character_in_a_query_value_is_a_400_naming_it(finance_client, url, field):
    response = finance_client.get(url, headers={"Accept-Language": "en"})
    assert response.status_code == 400
    assert response.json() == {
        "detail": f"Invalid input in: {field}.",
        "errors": {field: ["Remove the control character from this value."]},
    }


def test_a_page_with_a_control_character_in_its_query_is_a_plain_400(client, db):
    assert client.get("/portal/login/?next=%00").status_code == 400


def test_ordinary_requests_pass(finance_client, acme):
    assert finance_client.get("/api/v1/customers/ACME/").status_code == 200
    assert finance_client.get("/api/v1/bills/?status=issued").status_code == 200
