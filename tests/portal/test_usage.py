"""Usage: the usage summary API's rows as a table and a chart, its CSV byte for byte, an
XLSX of the same figures, and a bad period shown beside its field in the reader's language."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from common.admin_display import money_text

pytestmark = pytest.mark.django_db

QUERIES = [
    {"period": "2026-10", "group_by": "model"},
    {"period": "2026-10", "group_by": "project"},
    {"period": "2026-10", "group_by": "api_key"},
    {"period": "2026-11", "group_by": "day"},
    {"period": "2026-10", "group_by": "model", "project": "search"},
]


@pytest.fixture
def signed_in(client, alice, acme_usage):
    client.force_login(alice)
    return client


def _table_rows(html: str) -> dict[str, str]:
    rows = re.findall(r'<tr data-key="([^"]+)">.*?<td class="num cost">(.*?)</td>', html, re.S)
    return {key: cost.strip() for key, cost in rows}


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: "-".join(q.values()))
def test_its_table_shows_the_apis_rows(signed_in, alice_client, query):
    api = alice_client.get("/api/v1/usage-summary/", query).json()

    html = signed_in.get("/portal/usage/", query).content.decode()

    shown = _table_rows(html)
    assert len(api["rows"]) >= 1
    assert list(shown) == [row["key"] for row in api["rows"]]
    for row in api["rows"]:
        assert shown[row["key"]].startswith(money_text(Decimal(row["cost"])))
    assert re.search(rf'id="usage-total">{re.escape(money_text(Decimal(api["total"])))}<', html)
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="chart"' in html


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: "-".join(q.values()))
def test_its_csv_is_the_apis_byte_for_byte(signed_in, alice_client, query):
    api = alice_client.get("/api/v1/usage-summary/", {**query, "format": "csv"})

    page = signed_in.get("/portal/usage/export.csv", query)

    assert page.status_code == 200
    assert page.content == api.content
    assert page["Content-Type"] == api["Content-Type"]
    assert page["Content-Disposition"] == api["Content-Disposition"]
    # the header, the rows and the total row
    assert page.content.count(b"\n") == len(alice_client.get("/api/v1/usage-summary/", query).json()["rows"]) + 2


def test_its_xlsx_holds_the_same_figures_as_numbers(signed_in, alice_client):
    api = alice_client.get("/api/v1/usage-summary/", {"period": "2026-10"}).json()

    page = signed_in.get("/portal/usage/export.xlsx", {"period": "2026-10"})

    sheet = load_workbook(io.BytesIO(page.content)).active
    *rows, total = list(sheet.iter_rows(min_row=2, values_only=True))
    assert (total[0], Decimal(str(total[6]))) == ("合计", Decimal(api["total"]))
    assert [(r[0], r[2], Decimal(str(r[6]))) for r in rows] == [
        (row["key"], row["requests"], Decimal(row["cost"])) for row in api["rows"]
    ]
    assert sheet.cell(row=1, column=7).value == "费用（人民币）"


def test_it_reads_the_rollups_never_the_raw_usage_table(signed_in):
    with CaptureQueriesContext(connection) as queries:
        signed_in.get("/portal/usage/", {"period": "2026-10", "group_by": "day"})

    sql = " ".join(q["sql"] for q in queries.captured_queries)
    assert "billing_usagerollup" in sql and "billing_usagerecord" not in sql


@pytest.mark.parametrize(
    ("language", "message"), [("zh-hans", "账期请按 YYYY-MM 格式填写。"), ("en", "Write the period as YYYY-MM.")]
)
def test_a_bad_period_is_shown_beside_its_field(signed_in, language, message):
    page = signed_in.get("/portal/usage/", {"period": "2026-13"}, HTTP_ACCEPT_LANGUAGE=language)

    assert page.status_code == 400
    html = page.content.decode()
    field = re.search(r'<div class="field has-error">.*?</div>', html, re.S).group(0)
    assert 'name="period" value="2026-13"' in field
    assert message in field
    assert 'id="usage-table"' not in html


def test_an_unknown_project_is_refused_beside_its_field(signed_in):
    page = signed_in.get("/portal/usage/export.csv", {"project": "nope"})

    assert page.status_code == 400
    assert 'id="project-errors"' in page.content.decode()


def test_a_developer_reads_usage(client, bob, acme_usage):
    client.force_login(bob)

    assert client.get("/portal/usage/", {"period": "2026-10"}).status_code == 200
    assert client.get("/portal/usage/export.csv", {"period": "2026-10"}).status_code == 200


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_token_counts_read_with_thousands_separators_in_both_languages(signed_in, alice_client, language):
    query = {"period": "2026-10", "group_by": "model"}
    rows = alice_client.get("/api/v1/usage-summary/", query).json()["rows"]
    row = max(rows, key=lambda row: row["input_tokens"])

    html = signed_in.get("/portal/usage/", query, HTTP_ACCEPT_LANGUAGE=language).content.decode()

    shown = re.search(rf'<tr data-key="{re.escape(row["key"])}">(.*?)</tr>', html, re.S).group(1)
    assert row["input_tokens"] >= 1_000_000
    assert f'<td class="num">{row["input_tokens"]:,}</td>' in shown


def test_a_model_named_like_a_formula_is_text_in_both_exports(signed_in):
    """Issue 21: model and key names reach the customer's spreadsheet as text, never formulas."""
    from billing.models import UsageRollup

    UsageRollup.objects.filter(model="mystery-9").update(model="=1+2")

    as_csv = signed_in.get("/portal/usage/export.csv", {"period": "2026-11"})
    as_xlsx = signed_in.get("/portal/usage/export.xlsx", {"period": "2026-11"})

    rows = {row[0]: row for row in csv.reader(io.StringIO(as_csv.content.decode()))}
    assert "'=1+2" in rows and "=1+2" not in rows
    sheet = load_workbook(io.BytesIO(as_xlsx.content)).active
    (cell,) = [row[0] for row in sheet.iter_rows(min_row=2) if row[0].value == "=1+2"]
    assert cell.data_type == "s"
    assert {row[2].data_type for row in sheet.iter_rows(min_row=2)} == {"n"}  # requests
