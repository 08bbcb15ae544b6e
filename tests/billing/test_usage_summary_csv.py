"""GET /api/v1/usage-summary/ as CSV, by ``?format=csv`` or by ``Accept: text/csv``: content
negotiation works both ways (``format=csv`` with ``Accept: text/csv`` was a 406), and an error
is still the JSON error shape."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest

from tests.billing.test_usage_summary import URL, october, rate  # noqa: F401

pytestmark = pytest.mark.django_db

HEADER = "key,requests,input_tokens,cached_input_tokens,output_tokens,cost,unpriced_requests"


@pytest.mark.parametrize(
    ("params", "accept"),
    [
        ({"format": "csv"}, "text/csv"),  # 406 before
        ({}, "text/csv"),  # JSON before
        ({}, "text/csv, */*;q=0.1"),
        ({"format": "csv"}, "application/json"),
        ({"format": "csv"}, None),
    ],
)
def test_it_answers_csv_when_asked_either_way(finance_client, october, params, accept):  # noqa: F811
    rate(date(2026, 10, 1), "6.25")
    headers = {"HTTP_ACCEPT": accept} if accept else {}

    response = finance_client.get(
        URL, {"customer": "ACME", "period": "2026-10", "group_by": "day", **params}, **headers
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="usage-ACME-2026-10-day.csv"'
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert response.content.decode().splitlines()[0] == HEADER
    # The day rows, then the period's one figure (CONTRACT "One figure": the CSV ends with it).
    assert [row["cost"] for row in rows] == ["0.19", "0.00", "0.03", "0.22"]
    assert rows[-1]["key"] == "total"


@pytest.mark.parametrize(("params", "accept"), [({}, "application/json"), ({}, None), ({"format": "json"}, "text/csv")])
def test_it_answers_json_otherwise(finance_client, october, params, accept):  # noqa: F811
    headers = {"HTTP_ACCEPT": accept} if accept else {}

    response = finance_client.get(
        URL, {"customer": "ACME", "period": "2026-10", "group_by": "day", **params}, **headers
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json()["customer"] == "ACME"


def test_an_error_asked_as_csv_is_the_json_error_shape(finance_client, acme):
    response = finance_client.get(
        URL, {"customer": "ACME", "period": "2026-13"}, HTTP_ACCEPT="text/csv", HTTP_ACCEPT_LANGUAGE="en"
    )

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert list(response.json()["errors"]) == ["period"]


def test_a_format_nobody_renders_is_still_406(finance_client, acme):
    response = finance_client.get(URL, {"customer": "ACME"}, HTTP_ACCEPT="application/xml")

    assert response.status_code == 406
    assert set(response.json()) == {"detail", "errors"}
